--- luasible.config.settings: every setting of the configuration file, with
-- its type, default, the [section] key names it is read from (luasible.cfg
-- and ansible.cfg alike) and its environment variables (LUASIBLE_* before
-- ANSIBLE_*). docs/CONFIG.md describes each; a spec checks that it does.
local M = {}

--- Why the default forks is 50: docs/CONFIG.md ("forks").
M.DEFAULT_FORKS = 50

-- name, type, default, ini { section, key }..., env names, what it is
M.LIST = {
  { name = "inventory", type = "pathlist", ini = { { "defaults", "inventory" }, { "defaults", "hostfile" } },
    env = { "LUASIBLE_INVENTORY", "ANSIBLE_INVENTORY" },
    doc = "inventory sources used when no -i is given (comma list)" },
  { name = "forks", type = "integer", default = M.DEFAULT_FORKS, min = 1, ini = { { "defaults", "forks" } },
    env = { "LUASIBLE_FORKS", "ANSIBLE_FORKS" }, doc = "hosts that run at once when no -f is given" },
  { name = "remote_user", type = "string", ini = { { "defaults", "remote_user" } },
    env = { "LUASIBLE_REMOTE_USER", "ANSIBLE_REMOTE_USER" },
    doc = "the SSH user of hosts without ansible_user" },
  { name = "host_key_checking", type = "boolean", ini = { { "defaults", "host_key_checking" } },
    env = { "LUASIBLE_HOST_KEY_CHECKING", "ANSIBLE_HOST_KEY_CHECKING" },
    doc = "false: host keys are not checked (hosts without ansible_host_key_checking); default: strict" },
  { name = "private_key_file", type = "path", ini = { { "defaults", "private_key_file" } },
    env = { "LUASIBLE_PRIVATE_KEY_FILE", "ANSIBLE_PRIVATE_KEY_FILE" },
    doc = "the SSH key of hosts without ansible_ssh_private_key_file" },
  { name = "max_handshakes", type = "integer", default = 5, min = 1,
    ini = { { "ssh_connection", "max_handshakes" }, { "defaults", "max_handshakes" } },
    env = { "LUASIBLE_MAX_HANDSHAKES" },
    doc = "SSH handshakes in flight at once per server address (under sshd's MaxStartups 10); the others wait" },
  { name = "max_handshakes_total", type = "integer", default = 256, min = 1,
    ini = { { "ssh_connection", "max_handshakes_total" }, { "defaults", "max_handshakes_total" } },
    env = { "LUASIBLE_MAX_HANDSHAKES_TOTAL" },
    doc = "SSH handshakes in flight at once in the whole process, whatever the address; the others wait" },
  { name = "timeout", type = "number", ini = { { "defaults", "timeout" } },
    env = { "LUASIBLE_TIMEOUT", "ANSIBLE_TIMEOUT" },
    doc = "SSH connect timeout in seconds, for hosts without ansible_timeout (default: the SSH default, 10)" },
  { name = "force_handlers", type = "boolean", default = false, ini = { { "defaults", "force_handlers" } },
    env = { "LUASIBLE_FORCE_HANDLERS", "ANSIBLE_FORCE_HANDLERS" },
    doc = "true: the handlers a host notified run even when it failed (as --force-handlers; a play's"
      .. " force_handlers wins)" },
  { name = "roles_path", type = "pathspec", ini = { { "defaults", "roles_path" } },
    env = { "LUASIBLE_ROLES_PATH", "ANSIBLE_ROLES_PATH" },
    doc = "folders of roles (colon list); read and passed on (opts.roles_path)" },
  { name = "vault_password_file", type = "path", ini = { { "defaults", "vault_password_file" } },
    env = { "LUASIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE" },
    doc = "the file holding the vault password (config.get(\"vault_password_file\"))" },
  { name = "vault_identity_list", type = "list", ini = { { "defaults", "vault_identity_list" } },
    env = { "LUASIBLE_VAULT_IDENTITY_LIST", "ANSIBLE_VAULT_IDENTITY_LIST" },
    doc = "vault ids to use by default (comma list of id@source)" },
  { name = "log_path", type = "path", ini = { { "defaults", "log_path" } },
    env = { "LUASIBLE_LOG_PATH", "ANSIBLE_LOG_PATH" },
    doc = "where the run's event log goes (opts.log_path; --log when the dashboard has it)" },
  { name = "gathering", type = "choice", choices = { implicit = true, explicit = true, smart = true },
    default = "explicit", ini = { { "defaults", "gathering" } },
    env = { "LUASIBLE_GATHERING", "ANSIBLE_GATHERING" },
    doc = "implicit or smart: facts are gathered unless a play says gather_facts = false; explicit: only"
      .. " when it says true" },
  { name = "module_path", type = "pathspec", ini = { { "defaults", "module_path" }, { "defaults", "library" } },
    env = { "LUASIBLE_LIBRARY", "ANSIBLE_LIBRARY" },
    doc = "folders of Lua modules searched before the built-in ones, after -M (colon list)" },
  { name = "connection_plugins", type = "pathspec", ini = { { "defaults", "connection_plugins" } },
    env = { "LUASIBLE_CONNECTION_PLUGINS", "ANSIBLE_CONNECTION_PLUGINS" },
    doc = "folders of Lua connection plugins (colon list), searched before connection_plugins/ beside the play"
      .. " and the shipped kinds (docs/CONNECTIONS.md)" },
  { name = "inventory_plugins", type = "pathspec", ini = { { "defaults", "inventory_plugins" } },
    env = { "LUASIBLE_INVENTORY_PLUGINS" },
    doc = "folders of Lua inventory plugins (colon list), searched before inventory_plugins/ beside a source" },
  { name = "inventory_timeout", type = "number", default = 60, ini = { { "defaults", "inventory_timeout" } },
    env = { "LUASIBLE_INVENTORY_TIMEOUT" }, doc = "seconds an inventory script may run (each run)" },
  { name = "inventory_ignore_extensions", type = "list",
    ini = { { "inventory", "ignore_extensions" }, { "defaults", "inventory_ignore_extensions" } },
    env = { "LUASIBLE_INVENTORY_IGNORE", "ANSIBLE_INVENTORY_IGNORE" },
    doc = "endings of the files an inventory folder leaves out (replaces Ansible's default list)" },
  { name = "inventory_ignore_patterns", type = "list",
    ini = { { "inventory", "ignore_patterns" }, { "defaults", "inventory_ignore_patterns" } },
    env = { "LUASIBLE_INVENTORY_IGNORE_REGEX", "ANSIBLE_INVENTORY_IGNORE_REGEX" },
    doc = "regular expressions (Python's) of the names an inventory folder leaves out" },
  { name = "become", type = "boolean", ini = { { "privilege_escalation", "become" } },
    env = { "LUASIBLE_BECOME", "ANSIBLE_BECOME" }, doc = "become (sudo) for hosts without ansible_become" },
  { name = "become_user", type = "string", ini = { { "privilege_escalation", "become_user" } },
    env = { "LUASIBLE_BECOME_USER", "ANSIBLE_BECOME_USER" }, doc = "the user to become (default root)" },
  { name = "become_method", type = "choice", choices = { sudo = true }, default = "sudo",
    ini = { { "privilege_escalation", "become_method" } },
    env = { "LUASIBLE_BECOME_METHOD", "ANSIBLE_BECOME_METHOD" }, doc = "only sudo" },
  { name = "become_ask_pass", type = "boolean", default = false,
    ini = { { "privilege_escalation", "become_ask_pass" } },
    env = { "LUASIBLE_BECOME_ASK_PASS", "ANSIBLE_BECOME_ASK_PASS" },
    doc = "ask for the become password at the start of run and exec (ansible_become_password, a secret)" },
  { name = "ssh_args", type = "ssh_args", ini = { { "ssh_connection", "ssh_args" } },
    env = { "LUASIBLE_SSH_ARGS", "ANSIBLE_SSH_ARGS" },
    doc = "OpenSSH options for every SSH host, read by the one SSH options parser (inventory/connect):"
      .. " -o ProxyJump=... and the others it knows; -C and ControlMaster/ControlPersist/ControlPath are"
      .. " dropped with a note (luasible keeps its sessions itself)" },
  { name = "ssh_persist", type = "integer", default = 0, min = 0,
    ini = { { "ssh_connection", "ssh_persist" } }, env = { "LUASIBLE_SSH_PERSIST" },
    doc = "seconds an SSH connection is kept for the next runs by a holder process on a 0600 unix socket"
      .. " (luasible_ssh_persist; 0: off; docs/SSH.md, Persistent connections)" },
  { name = "pipelining", type = "boolean", default = true, ini = { { "ssh_connection", "pipelining" } },
    env = { "LUASIBLE_PIPELINING", "ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING" },
    doc = "accepted: luasible always sends a module's work over its open channel (no temporary files)" },
}

M.BY_NAME = {}
M.BY_KEY = {}   -- "section.key" -> setting
for _, s in ipairs(M.LIST) do
  M.BY_NAME[s.name] = s
  for _, k in ipairs(s.ini) do M.BY_KEY[k[1] .. "." .. k[2]] = s end
end

return M
