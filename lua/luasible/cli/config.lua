--- luasible.cli.config: `luasible config dump`: every setting with its
-- value and where it came from (default, FILE:LINE, env NAME, cli), the
-- file read first (docs/CONFIG.md).
local M = {}

function M.add_to_parser(parser)
  local c = parser:command("config", "Show the configuration (luasible.cfg / ansible.cfg, environment).")
  c:command_target("config_command")
  c:command("dump", "Every setting, its value and where it came from.")
  c:command("file", "The configuration file that is read (or none).")
end

local function show(v)
  if v == nil then return "(none)" end
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  return tostring(v)
end

--- The text of `config dump` for the Config `c`.
function M.dump(c)
  local out = { "# config file: " .. (c.file or "(none)") }
  local width = 0
  for _, e in ipairs(c:entries()) do width = math.max(width, #e.name) end
  for _, e in ipairs(c:entries()) do
    out[#out + 1] = string.format("%-" .. width .. "s = %s  # %s", e.name, show(e.value), e.origin)
  end
  return table.concat(out, "\n")
end

-- the settings that are host variables of the lowest precedence (under
-- the inventory's): the variable each one stands for
local AS_VARS = { remote_user = "ansible_user", private_key_file = "ansible_ssh_private_key_file",
  host_key_checking = "ansible_host_key_checking", timeout = "ansible_timeout", become = "ansible_become",
  become_user = "ansible_become_user", ssh_args = "luasible_ssh_args", ssh_persist = "luasible_ssh_persist" }

--- Fold the configuration `c` into the parsed arguments `args` of a
--- command: the values given on the command line are recorded as such
--- (c:set_cli), -i defaults to the inventory setting, -M is followed by
--- module_path; with become_ask_pass, the become password is asked for
--- (run and exec). Returns the runner's options that come from it, or nil,
--- err.
function M.apply(args, c)
  if args.inventory and #args.inventory == 0 then args.inventory = nil end
  c:set_cli("inventory", args.inventory)
  c:set_cli("forks", args.forks)
  c:set_cli("force_handlers", args.force_handlers or nil)
  if args.inventory == nil then args.inventory = c:get("inventory") end
  if args.inventory and #args.inventory == 0 then args.inventory = nil end
  local mp = {}
  for _, d in ipairs(args.module_path or {}) do mp[#mp + 1] = d end
  for _, d in ipairs(c:get("module_path") or {}) do mp[#mp + 1] = d end
  args.module_path = mp
  -- log_path: the run's event log, dash-server's --log (where that option exists)
  c:set_cli("log_path", args.log)
  if args.log == nil and (args.command == "run" or args.command == "exec") then args.log = c:get("log_path") end
  -- the vault's defaults (luasible.vault.secrets reads them when no --vault-* option is given)
  local secrets = require "luasible.vault.secrets"
  secrets.config.password_file = c:get("vault_password_file")
  secrets.config.identity_list = c:get("vault_identity_list")
  -- handshakes in flight per server address (luasible.ssh.gate)
  require("luasible.ssh.gate").max = c:get("max_handshakes")
  require("luasible.ssh.gate").total = c:get("max_handshakes_total")
  local defaults = {}
  for name, var in pairs(AS_VARS) do defaults[var] = c:get(name) end
  -- become_ask_pass: the become password asked once, at the start of a run (a secret: never shown)
  if c:get("become_ask_pass") and (args.command == "run" or args.command == "exec") then
    local pw = require("luasible.vault.secrets").read_hidden("BECOME password: ")
    if not pw then return nil, "no become password given (end of input)" end
    defaults.ansible_become_password = pw
  end
  return {
    default_forks = c:get("forks"), var_defaults = defaults, log_path = c:get("log_path"),
    force_handlers = c:get("force_handlers") or nil, -- (--force-handlers recorded above: c:set_cli)
    connection_plugins = c:get("connection_plugins"),
    roles_path = c:get("roles_path"), gathering = c:get("gathering"), become_ask_pass = c:get("become_ask_pass"),
    inventory_opts = { timeout = c:get("inventory_timeout"), plugin_path = c:get("inventory_plugins"),
      ignore_extensions = c:get("inventory_ignore_extensions"), ignore_patterns = c:get("inventory_ignore_patterns") },
  }
end

--- Run the command with the Config the CLI loaded; returns the exit status.
function M.main(args, c)
  if args.config_command == "file" then
    io.stdout:write((c.file or "(none)"), "\n")
    return 0
  end
  io.stdout:write(M.dump(c), "\n")
  return 0
end

return M
