--- luasible.config: the configuration file and the environment
-- (docs/CONFIG.md). One file is read, the first found of:
--
--   $LUASIBLE_CONFIG (a file, or a folder holding luasible.cfg), ./luasible.cfg,
--   ~/.luasible.cfg, then Ansible's own order: $ANSIBLE_CONFIG, ./ansible.cfg,
--   ~/.ansible.cfg, /etc/ansible/ansible.cfg
--
-- (the ./ ones skipped in a world-writable current folder, as Ansible does).
-- Each setting (config/settings.lua) then takes, highest first: the command
-- line, LUASIBLE_<NAME>, ANSIBLE_<NAME>, the file, the default.
--
--   local config = require "luasible.config"
--   config.get("vault_password_file")     -- the value (the CLI's load, else one of the environment)
--   local c = config.load{ cwd =, home =, getenv = }   -- a Config: c:get(name), c:origin(name), c.warnings
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local ini = require "luasible.config.ini"
local settings = require "luasible.config.settings"
local values = require "luasible.config.values"
local S = require "luasible.util.schema"

local M = {}

M.settings = settings

local Config = {}
Config.__index = Config

-- the candidate files, in order: { path, why } (why: "LUASIBLE_CONFIG", ...)
local function candidates(o)
  local out = {}
  local function env_path(name, file)
    local v = o.getenv(name)
    if v == nil or v == "" then return end
    v = path.expand_user(v, o.home)
    if not path.is_abs(v) then v = path.join(o.cwd, v) end
    local st = fs.stat(v)
    if st and st.type == "directory" then v = path.join(v, file) end
    out[#out + 1] = { v, "env " .. name, explicit = true }
  end
  local cwd_ok = true
  local st = fs.stat(o.cwd)
  if st and (st.mode & 2) ~= 0 then cwd_ok = false end -- world-writable: not trusted (as Ansible)
  env_path("LUASIBLE_CONFIG", "luasible.cfg")
  if cwd_ok then out[#out + 1] = { path.join(o.cwd, "luasible.cfg"), "current folder" } end
  if o.home then out[#out + 1] = { path.join(o.home, ".luasible.cfg"), "home" } end
  env_path("ANSIBLE_CONFIG", "ansible.cfg")
  if cwd_ok then out[#out + 1] = { path.join(o.cwd, "ansible.cfg"), "current folder" } end
  if o.home then out[#out + 1] = { path.join(o.home, ".ansible.cfg"), "home" } end
  out[#out + 1] = { o.etc or "/etc/ansible/ansible.cfg", "system" }
  return out
end

--- The configuration file that would be read: its path, or nil. `o` as M.load's.
function M.find(o)
  for _, c in ipairs(candidates(o)) do
    local st = fs.stat(c[1])
    if st and st.type == "file" then return c[1] end
    if c.explicit and not st then return nil, c[2] .. ": no such file: " .. c[1] end
  end
  return nil
end

--- Load the configuration. o: cwd (default the current folder), home (default
--- $HOME), getenv (default os.getenv), file (a file to read instead of
--- searching), text (the file's text, with `file` its name: nothing is
--- read), etc (instead of /etc/ansible/ansible.cfg). Returns a
--- Config, or nil, "file:line: what is wrong" (a malformed file, a value
--- of the wrong type). Unknown keys are warnings (c.warnings: "file:line:
--- ..."), as are the parts of ssh_args luasible leaves out.
function M.load(o)
  o = o or {}
  local getenv = o.getenv or os.getenv
  -- the real current folder (PWD may be a parent's that another program did not update)
  local cwd = o.cwd or require("luasible.core").realpath(".") or getenv("PWD") or "."
  local opts = { getenv = getenv, cwd = cwd, home = o.home or getenv("HOME"),
    etc = o.etc }
  local c = setmetatable({ values = {}, origins = {}, warnings = {}, file = nil }, Config)
  local file, ferr = o.file, nil
  if o.text then file = o.file or "<config>" end
  if not file then file, ferr = M.find(opts) end
  if ferr then return nil, ferr end
  local parsed
  if file then
    local text, rerr = o.text, nil
    if not text then text, rerr = fs.read(file) end
    if not text then return nil, "cannot read " .. file .. ": " .. tostring(rerr) end
    local perr
    parsed, perr = ini.parse(text, file)
    if not parsed then return nil, perr end
    c.file = file
    for _, sect in ipairs(parsed.order) do
      for _, k in ipairs(parsed.keys[sect]) do
        if not settings.BY_KEY[sect .. "." .. k] then
          c.warnings[#c.warnings + 1] = string.format("%s:%d: unknown key %s in %s: not a setting luasible"
            .. " reads (ignored)", file, parsed.sections[sect][k].line, S.quote(k), S.quote("[" .. sect .. "]"))
        end
      end
    end
  end
  for _, s in ipairs(settings.LIST) do
    local raw, origin, base
    for _, name in ipairs(s.env) do
      local v = getenv(name)
      if v ~= nil and v ~= "" then raw, origin, base = v, "env " .. name, opts.cwd break end
    end
    if raw == nil and parsed then
      for _, k in ipairs(s.ini) do
        local e = parsed.sections[k[1]] and parsed.sections[k[1]][k[2]]
        if e then raw, origin, base = e.value, string.format("%s:%d", file, e.line), path.dirname(file) break end
      end
    end
    if raw ~= nil then
      local v, err, notes = values.convert(s, raw, base, opts.home)
      if err then return nil, origin .. ": " .. s.name .. ": " .. err end
      for _, n in ipairs(notes or {}) do c.warnings[#c.warnings + 1] = origin .. ": " .. s.name .. ": " .. n end
      c.values[s.name], c.origins[s.name] = v, origin
    else
      c.values[s.name], c.origins[s.name] = s.default, "default"
    end
  end
  return c
end

--- The value of setting `name` (an error for an unknown name).
function Config:get(name)
  if not settings.BY_NAME[name] then error("luasible.config: unknown setting '" .. tostring(name) .. "'", 2) end
  return self.values[name]
end

--- Where the value of `name` came from: "default", "FILE:LINE", "env NAME", "cli".
function Config:origin(name) return self.origins[name] end

--- Set a value given on the command line (nil: leaves the setting as it is).
function Config:set_cli(name, v)
  if v == nil then return end
  if not settings.BY_NAME[name] then error("luasible.config: unknown setting '" .. tostring(name) .. "'", 2) end
  self.values[name], self.origins[name] = v, "cli"
end

--- Every setting, in the order of config/settings.lua: { name, value, origin }.
function Config:entries()
  local out = {}
  for _, s in ipairs(settings.LIST) do
    out[#out + 1] = { name = s.name, value = self.values[s.name], origin = self.origins[s.name] }
  end
  return out
end

-- the Config of this process (the CLI's, through M.use), loaded on first use
local current

--- Make `c` the configuration M.get answers from (the CLI calls it once).
function M.use(c) current = c end

--- The value of setting `name` in this process's configuration: the one
--- the CLI loaded (M.use), else one loaded from the environment now (a
--- malformed file is then an error).
function M.get(name)
  if not current then
    local c, err = M.load()
    if not c then error("luasible.config: " .. err, 2) end
    current = c
  end
  return current:get(name)
end

return M
