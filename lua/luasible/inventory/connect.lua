--- luasible.inventory.connect: a host's variables -> the arguments of
-- luasible.connect (connect_args, and ssh_args for the OpenSSH options
-- Ansible passes), its become settings, and the names of secrets.
local shell = require "luasible.util.shell"
local S = require "luasible.util.schema"

local M = {}

-- The types of the connection variables a host may set, checked when the
-- inventory is loaded (inventory/yaml.lua): a value of the wrong type is
-- refused there, with its file and line, not found at the first connect.
-- A string with {{ }} is always taken (it is rendered before connecting).
local templated = S.string({ pattern = "{{", desc = "a template" })
local text = S.either(S.string(), S.number(), { desc = "a string" })
local a_name = S.either(S.string({ nonempty = true }), S.number(), templated, { desc = "a non-empty string" })
local port = S.either(S.integer({ min = 1, max = 65535 }), S.string({ pattern = "^%s*%d+%s*$" }), templated,
  { desc = "a port number (1 to 65535)" })
local seconds = S.either(S.number({ min = 0 }), S.string({ pattern = "^%s*%d+%.?%d*%s*$" }), templated,
  { desc = "a number of seconds" })
local a_flag = S.either(S.boolean, S.string(), S.integer(), { desc = "true or false (or yes/no)" })
M.VARS = {
  ansible_host = a_name, ansible_ssh_host = a_name, ansible_port = port, ansible_ssh_port = port,
  ansible_user = a_name, ansible_ssh_user = a_name, ansible_connection = S.string({ nonempty = true }),
  ansible_password = text, ansible_ssh_pass = text, ansible_ssh_private_key_passphrase = text,
  ansible_become_password = text, ansible_become_pass = text, ansible_sudo_pass = text,
  ansible_ssh_private_key_file = S.either(S.string(), S.list(S.string()), { desc = "a path or a list of paths" }),
  ansible_private_key_file = S.either(S.string(), S.list(S.string()), { desc = "a path or a list of paths" }),
  ansible_ssh_timeout = seconds, ansible_timeout = seconds, luasible_keepalive = seconds,
  luasible_ssh_persist = seconds,
  ansible_become = a_flag, ansible_become_user = a_name, ansible_host_key_checking = a_flag,
  ansible_ssh_host_key_checking = a_flag, ansible_ssh_common_args = text, ansible_ssh_extra_args = text,
  luasible_known_hosts = S.string(), luasible_host_key_check = S.string(), luasible_host_key = S.string(),
  luasible_ssh_config = S.either(S.string(), S.boolean), luasible_ssh_agent = S.either(S.string(), S.boolean),
}

--- What is wrong with a host's or a group's variables `vars` (a table):
--- a key that is no name, a value that is no data (a table in itself, a
--- function), a connection variable of the wrong type; or nil. Values for
--- which is_null(v) holds (a YAML null) are no value. With `number_keys`
--- (inventories, as Ansible reads them) a key may also be a number.
function M.vars_error(vars, is_null, number_keys)
  local view = setmetatable({}, { __index = function(_, k)
    local v = vars[k]
    if is_null and is_null(v) then return nil end
    return v
  end })
  return S.why(number_keys and S.data() or S.mapping(), vars, "vars") or S.check(M.VARS, view)
end

--- An Ansible boolean: true, 1, or "yes", "true", "1", "on" in any case.
local function bool(v)
  if type(v) == "string" then return ({ yes = true, ["true"] = true, ["1"] = true, on = true })[v:lower()] or false end
  return v == true or v == 1
end
M.bool = bool

--- Variables that must never appear in logs or events.
M.secret_vars = { ansible_password = true, ansible_ssh_pass = true, ansible_become_password = true,
  ansible_become_pass = true, ansible_sudo_pass = true, ansible_ssh_private_key_passphrase = true }

--- Is `name` the name of a secret: a connection secret above, or a name
--- holding password, passphrase, secret or token (any case)? `debug`
--- masks the values of such names.
function M.is_secret_name(name)
  if type(name) ~= "string" then return false end
  if M.secret_vars[name] then return true end
  local l = name:lower()
  return l:find("password", 1, true) ~= nil or l:find("passphrase", 1, true) ~= nil
    or l:find("secret", 1, true) ~= nil or l:find("token", 1, true) ~= nil
end

local HOST_KEY_CHECK = { yes = "strict", ask = "strict", ["true"] = "strict", strict = "strict",
  no = "off", off = "off", ["false"] = "off", ["accept-new"] = "accept-new" }

-- The part of OpenSSH's command line that luasible understands, from
-- ansible_ssh_common_args / ansible_ssh_extra_args: -F, -i, -p, -l and
-- -o Key=Value for the keys below. Anything else is refused (it would be
-- silently ignored otherwise: a ProxyCommand, say, would be bypassed).
local SSH_O = {
  stricthostkeychecking = function(a, v)
    local c = HOST_KEY_CHECK[v:lower()]
    if not c then return "StrictHostKeyChecking=" .. v .. " (yes, no, accept-new)" end
    a.host_key_check = c
  end,
  userknownhostsfile = function(a, v) a.known_hosts = v:match("^(%S+)") end,
  identityfile = function(a, v) a.identity = v end,
  port = function(a, v) a.port = tonumber(v) if not a.port then return "Port=" .. v end end,
  user = function(a, v) a.user = v end,
  connecttimeout = function(a, v)
    a.connect_timeout = tonumber(v)
    if not a.connect_timeout then return "ConnectTimeout=" .. v end
  end,
  serveraliveinterval = function(a, v)
    a.keepalive = tonumber(v)
    if not a.keepalive then return "ServerAliveInterval=" .. v end
  end,
  serveralivecountmax = function(a, v)
    a.keepalive_count_max = math.tointeger(tonumber(v))
    if not a.keepalive_count_max or a.keepalive_count_max < 1 then
      a.keepalive_count_max = nil
      return "ServerAliveCountMax=" .. v .. " (a whole number >= 1)"
    end
  end,
  proxyjump = function(a, v) a.jump = v end,
  proxycommand = function(a, v) a.proxy_command = v end,
  identitiesonly = function(a, v)
    local b = ({ yes = true, no = false })[v:lower()]
    if b == nil then return "IdentitiesOnly=" .. v .. " (yes or no)" end
    a.identities_only = b
  end,
  identityagent = function(a, v)
    if v:lower() == "none" then a.agent = false
    elseif v == "SSH_AUTH_SOCK" then a.agent = true
    elseif v:sub(1, 1) == "$" then a.agent = os.getenv(v:sub(2)) or false
    else a.agent = v end
  end,
  hashknownhosts = function(a, v)
    local b = ({ yes = true, no = false })[v:lower()]
    if b == nil then return "HashKnownHosts=" .. v .. " (yes or no)" end
    a.hash_known_hosts = b
  end,
  forwardagent = function(a, v)
    if v:lower() ~= "no" then
      return "ForwardAgent=" .. v .. " (" .. require("luasible.ssh.resolve").NO_FORWARD_AGENT .. ")"
    end
    a.forward_agent = false
  end,
  -- accepted and meaningless here
  globalknownhostsfile = false, batchmode = false,
  loglevel = false, controlmaster = false, controlpath = false, controlpersist = false, checkhostip = false,
  updatehostkeys = false, compression = false, preferredauthentications = false,
  pubkeyauthentication = false, passwordauthentication = false, kbdinteractiveauthentication = false,
}

--- Parse OpenSSH client options into `into` (connect arguments): -F, -i,
--- -p, -l, -J and -o Key=Value. The one parser of ssh options: the
--- ansible_ssh_common_args / ansible_ssh_extra_args of a host, and
--- [ssh_connection] ssh_args of an ansible.cfg go through it.
--- Returns into, or nil, err naming the option luasible cannot honour.
function M.ssh_args(s, into)
  into = into or {}
  local words, werr = shell.words(tostring(s))
  if not words then return nil, "bad ssh arguments: " .. werr end
  local i = 1
  while i <= #words do
    local w = words[i]
    local flag, rest = w:match("^%-(%a)(.*)$")
    if not flag then return nil, "unsupported ssh argument '" .. w .. "'" end
    -- -A / -a: agent forwarding on / off (flags without a value)
    if w == "-A" then
      return nil, "unsupported ssh option -A (" .. require("luasible.ssh.resolve").NO_FORWARD_AGENT .. ")"
    end
    if w == "-a" then
      into.forward_agent = false
      i = i + 1
      goto continue
    end
    local val = rest ~= "" and rest or words[i + 1]
    if rest == "" then i = i + 1 end
    if val == nil then return nil, "ssh option -" .. flag .. " needs a value" end
    if flag == "o" then
      -- Key=Value, "Key Value" (one quoted word, as ssh takes it) or Key Value
      local k, v = val:match("^([%w]+)%s*=%s*(.*)$")
      if not k then k, v = val:match("^([%w]+)%s+(.-)%s*$") end
      if not k then k, v = val, words[i + 1]; i = i + 1 end
      local f = k and SSH_O[k:lower()]
      if f == nil or v == nil then return nil, "unsupported ssh option -o " .. tostring(val) end
      if f then
        local bad = f(into, v)
        if bad then return nil, "bad ssh option -o " .. bad end
      end
    elseif flag == "F" then into.ssh_config = val
    elseif flag == "i" then into.identity = val
    elseif flag == "p" then
      into.port = tonumber(val)
      if not into.port then return nil, "bad ssh option -p " .. val end
    elseif flag == "l" then into.user = val
    elseif flag == "J" then into.jump = val
    else return nil, "unsupported ssh option -" .. flag end
    i = i + 1
    ::continue::
  end
  return into
end

--- Turn a host's vars into the argument for luasible.connect: "local" or a
--- table; or nil, err. Variables (Ansible's, then luasible's own):
---   ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
---   ansible_ssh_private_key_passphrase, ansible_password, ansible_ssh_timeout,
---   ansible_host_key_checking / ansible_ssh_host_key_checking (bool),
---   ansible_ssh_common_args / ansible_ssh_extra_args (-o StrictHostKeyChecking=,
---   -o UserKnownHostsFile=, -F, -i, -p, -l ...),
---   luasible_known_hosts, luasible_host_key_check (strict|accept-new|off),
---   luasible_host_key (pinned "SHA256:..."), luasible_ssh_config (path, or
---   false/"none" to read no ~/.ssh/config), luasible_ssh_agent (bool or socket),
---   luasible_keepalive, luasible_keepalive_count_max.
--- Any other ansible_connection is a connection plugin found on
--- `plugin_path` then the shipped kinds (lua/luasible/plugins.lua).
function M.connect_args(name, vars, plugin_path)
  local c = vars.ansible_connection
  if c == "local" then return "local" end
  if c ~= nil and c ~= "ssh" and c ~= "paramiko" and c ~= "smart" then
    -- a connection plugin (lua/luasible/plugins.lua): the host, its user and
    -- its connection variables go to the plugin's connect; `plugin_path`:
    -- the folders searched before the shipped kinds
    local plugins = require "luasible.plugins"
    local _, _, ferr = plugins.find(tostring(c), plugins.search_path(plugin_path))
    if ferr then return nil, "host " .. name .. ": unsupported ansible_connection '" .. tostring(c) .. "': " .. ferr end
    local user = vars.ansible_user or vars.ansible_ssh_user
    return { connection = tostring(c), name = name, host = tostring(vars.ansible_host or vars.ansible_ssh_host or name),
      user = user ~= nil and tostring(user) or nil, vars = vars, plugin_path = plugin_path }
  end
  local args = {}
  -- luasible_ssh_args: the config file's ssh_args (luasible.config), under the host's own
  for _, k in ipairs({ "luasible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args" }) do
    if vars[k] ~= nil and vars[k] ~= "" then
      local ok, err = M.ssh_args(vars[k], args)
      if not ok then return nil, "host " .. name .. ": " .. k .. ": " .. err end
    end
  end
  local function num(k, v)
    if v == nil then return nil end
    local n = tonumber(v)
    if not n then error("host " .. name .. ": " .. k .. " must be a number, got '" .. tostring(v) .. "'", 0) end
    return n
  end
  local ok, err = pcall(function()
    args.host = tostring(vars.ansible_host or vars.ansible_ssh_host or name)
    args.port = num("ansible_port", vars.ansible_port or vars.ansible_ssh_port) or args.port
    args.user = vars.ansible_user or vars.ansible_ssh_user or args.user
    args.identity = vars.ansible_ssh_private_key_file or vars.ansible_private_key_file or args.identity
    args.passphrase = vars.ansible_ssh_private_key_passphrase
    args.password = vars.ansible_password or vars.ansible_ssh_pass
    args.known_hosts = vars.luasible_known_hosts or args.known_hosts
    args.connect_timeout = num("ansible_ssh_timeout", vars.ansible_ssh_timeout or vars.ansible_timeout)
      or args.connect_timeout
    args.keepalive = num("luasible_keepalive", vars.luasible_keepalive) or args.keepalive
    local persist = num("luasible_ssh_persist", vars.luasible_ssh_persist)
    if persist and persist > 0 then args.persist = persist end
    local count = num("luasible_keepalive_count_max", vars.luasible_keepalive_count_max)
    if count and (count < 1 or count ~= math.floor(count)) then
      error("host " .. name .. ": luasible_keepalive_count_max must be a whole number >= 1, got '"
        .. tostring(vars.luasible_keepalive_count_max) .. "'", 0)
    end
    args.keepalive_count_max = count or args.keepalive_count_max
  end)
  if not ok then return nil, err end
  local hkc = vars.luasible_host_key_check
  if hkc ~= nil then
    hkc = HOST_KEY_CHECK[tostring(hkc):lower()]
    if not hkc then
      return nil, "host " .. name .. ": luasible_host_key_check must be strict, accept-new or off, got '"
        .. tostring(vars.luasible_host_key_check) .. "'"
    end
    args.host_key_check = hkc
  else
    local v = vars.ansible_ssh_host_key_checking
    if v == nil then v = vars.ansible_host_key_checking end
    if v ~= nil then args.host_key_check = bool(v) and "strict" or "off" end
  end
  if vars.luasible_host_key ~= nil then args.host_key = vars.luasible_host_key end
  local cfg = vars.luasible_ssh_config
  if cfg ~= nil then
    if cfg == false or cfg == "none" or cfg == "false" or cfg == "no" then args.ssh_config = false
    else args.ssh_config = tostring(cfg) end
  end
  local agent = vars.luasible_ssh_agent
  if agent ~= nil then
    if type(agent) == "string" and agent:find("/", 1, true) then args.agent = agent else args.agent = bool(agent) end
  end
  for _, k in ipairs({ "user", "identity", "passphrase", "password", "known_hosts" }) do
    if args[k] ~= nil and type(args[k]) ~= "string" and not (k == "identity" and type(args[k]) == "table") then
      args[k] = tostring(args[k])
    end
  end
  return args
end

--- Become settings of a host: { become = bool, user = "root", password = ... }.
function M.become(vars)
  return {
    become = bool(vars.ansible_become),
    user = vars.ansible_become_user or "root",
    method = vars.ansible_become_method or "sudo", -- sudo or su (remote.lua)
    password = vars.ansible_become_password or vars.ansible_become_pass or vars.ansible_sudo_pass,
  }
end

return M
