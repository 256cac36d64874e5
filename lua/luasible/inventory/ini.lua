--- luasible.inventory.ini: Ansible's INI inventory format.
--
--   host1 ansible_port=2222          hosts before any section: ungrouped
--   [web]                            a group's hosts (ranges: web[01:10])
--   [app:children]                   a group's child groups
--   [web:vars]                       a group's variables
local shell = require "luasible.util.shell"
local model = require "luasible.inventory.model"

local M = {}

-- An INI value as Ansible reads it (Python's literal_eval): a decimal
-- integer or float without a leading zero is a number, True/False (and
-- true/false) a boolean; anything else ("042", "1.2.3", "0x1g", "1e3")
-- stays the string it is, as do quoted values.
local function literal(v, quoted)
  if quoted then return v end
  if v:match("^%-?0$") or v:match("^%-?[1-9]%d*$") then return math.tointeger(tonumber(v)) or v end
  if v:match("^%-?%d+%.%d+$") and not v:match("^%-?0%d") then return tonumber(v) end
  if v == "true" or v == "True" then return true end
  if v == "false" or v == "False" then return false end
  return v
end

-- The value of a `key = value` line of a :vars section: the text, quoted
-- or not; or nil, err.
local function unquote_value(v)
  v = v:match("^%s*(.-)%s*$")
  local q = v:sub(1, 1)
  if (q == '"' or q == "'") and #v >= 2 then
    if v:sub(-1) ~= q then return nil, "unterminated quote" end
    return v:sub(2, -2), true
  end
  v = v:gsub("%s+[#;].*$", "")
  return v, false
end

--- Parse INI text read from `source`: an Inventory, or nil,
--- "source:line: what is wrong".
function M.parse(text, source)
  source = source or "<inventory>"
  local inv = model.new(source)
  local section, kind = "ungrouped", "hosts"
  local lineno = 0
  local function err(msg) return nil, string.format("%s:%d: %s", source, lineno, msg) end
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    local s = line:match("^%s*(.-)%s*$")
    if s == "" or s:match("^[#;]") then -- luacheck: ignore 542
      -- blank or comment
    elseif s:sub(1, 1) == "[" then
      local head = s:match("^%[(.*)%]$")
      if not head then return err("section header not closed: '" .. s .. "' (expected [name])") end
      local name, k = head:match("^([^:]+):(.+)$")
      name, k = name or head, k or "hosts"
      if k ~= "hosts" and k ~= "children" and k ~= "vars" then
        return err("unknown section type ':" .. k .. "' (use :children or :vars)")
      end
      if not name:match(model.GROUP_NAME) then return err("bad group name '" .. name .. "'") end
      section, kind = name, k
      inv:add_group(section)
    elseif kind == "hosts" then
      -- words honour quotes; a trailing # comment is left out
      local words, werr = shell.split(s, { comments = true })
      if not words then return err(werr) end
      local hostpat = words[1].text
      local vars = {}
      for i = 2, #words do
        local k, v = words[i].text:match("^([%w_]+)=(.*)$")
        if not k then return err("expected key=value after the host name, got '" .. words[i].text .. "'") end
        vars[k] = literal(v, words[i].quoted)
      end
      local hname, port = hostpat:match("^([^:%[%]]+):(%d+)$")
      if hname then hostpat = hname; vars.ansible_port = vars.ansible_port or tonumber(port) end
      local ok, herr = inv:add_hosts(hostpat, vars, section)
      if not ok then return err(herr) end
    elseif kind == "children" then
      if not s:match(model.GROUP_NAME) then return err("bad child group name '" .. s .. "'") end
      if s == section then return err("group '" .. s .. "' cannot be its own child") end
      inv:add_child(section, s)
    else -- vars
      local k, v = s:match("^([%w_]+)%s*=%s*(.*)$")
      if not k then return err("expected key=value in [" .. section .. ":vars], got '" .. s .. "'") end
      local val, q = unquote_value(v)
      if not val then return err(q or "unterminated quote") end
      inv.groups[section].vars[k] = literal(val, q)
    end
  end
  local ok, cerr = model.check_cycles(inv)
  if not ok then return nil, source .. ": " .. cerr end
  return inv
end

return M
