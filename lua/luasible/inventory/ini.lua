--- luasible.inventory.ini: Ansible's INI inventory format, read as
-- Ansible's ini plugin reads it.
--
--   host1 ansible_port=2222          hosts before any section: ungrouped
--   [web]  # a comment               a group's hosts (web[01:10], host:port,
--   web[1:2]:2201 x="[1, 2]"         [2001:db8::2]:2222); words as shlex splits
--                                    them, each value a Python literal
--   [app:children]                   a group's child groups (each defined
--   web                              somewhere in the file, or before it)
--   [web:vars]                       a group's variables: key = a Python
--   x = 'bar'  # comment             literal, or the text (comment included)
--
-- Values are read by inventory/literal (Python's ast.literal_eval).
local shell = require "luasible.util.shell"
local model = require "luasible.inventory.model"
local address = require "luasible.inventory.address"
local literal = require "luasible.inventory.literal"

local M = {}

-- [name] or [name:kind], then spaces and an optional # comment: name, kind
-- (nil when none); nil when the line is no section header
local function section(s)
  local name, rest = s:match("^%[([^:%]%s]+)(.*)$")
  if not name then return nil end
  local kind
  if rest:sub(1, 1) == ":" then
    kind, rest = rest:match("^:([%w_]+)(.*)$")
    if not kind then return nil end
  end
  if rest:sub(1, 1) ~= "]" then return nil end
  rest = rest:match("^%]%s*(.*)$")
  if rest ~= "" and rest:sub(1, 1) ~= "#" then return nil end
  return name, kind
end

-- the lines of a text (\n, \r\n or \r)
local function lines(text)
  local out, i = {}, 1
  while i <= #text do
    local a, b = text:find("\r?\n", i)
    local c = text:find("\r", i, true)
    if c and (not a or c < a) then a, b = c, c end
    if not a then out[#out + 1] = text:sub(i) break end
    out[#out + 1] = text:sub(i, a - 1)
    i = b + 1
  end
  return out
end

--- Read INI text from `source` into inventory `inv` (which may hold the
--- groups of files read before). Returns true, or nil, "source:line: what
--- is wrong". The caller reconciles the inventory.
function M.read(inv, text, source)
  local group, state, lineno = "ungrouped", "hosts", 0
  local pending, seq = {}, 0   -- groups named before they are defined
  local function err(msg) return nil, string.format("%s:%d: %s", source, lineno, msg) end
  local function declare(name, st, parent)
    local d = pending[name]
    if not d then
      seq = seq + 1
      d = { line = lineno, state = st, name = name, parents = {}, seq = seq }
      pending[name] = d
    end
    if parent then d.parents[#d.parents + 1] = parent end
  end
  local function resolve(name)   -- a pending child group is defined: link it to its parents
    for _, p in ipairs(pending[name].parents) do
      local ok, cerr = inv:add_child(p, name)
      if not ok then return nil, cerr end
      if pending[p] and pending[p].state == "children" then
        local rok, rerr = resolve(p)
        if not rok then return nil, rerr end
      end
    end
    pending[name] = nil
    return true
  end
  for _, line in ipairs(lines(text)) do
    lineno = lineno + 1
    local s = line:match("^%s*(.-)%s*$")
    local name, kind = section(s)
    if s == "" or s:match("^[#;]") then -- luacheck: ignore 542
      -- blank or comment
    elseif name then
      group, state = name, kind or "hosts"
      if state ~= "hosts" and state ~= "children" and state ~= "vars" then
        return err("section [" .. name .. ":" .. state .. "] has unknown type '" .. state
          .. "' (use :children or :vars)")
      end
      if not inv.groups[group] then
        if state == "vars" then declare(group, "vars") end
        inv:add_group(group)
      end
      local d = pending[group]
      if d and state ~= "vars" then
        if d.state == "children" then
          local ok, cerr = resolve(group)
          if not ok then return err(cerr) end
        else
          pending[group] = nil
        end
      end
    elseif s:sub(1, 1) == "[" and s:sub(-1) == "]" then
      return err("invalid section entry '" .. s .. "': a section is [name] or [name:children] or "
        .. "[name:vars], a name without spaces or ':'")
    elseif state == "hosts" then
      local words, werr
      if s:find("[\"'\\#]") then
        words, werr = shell.words(s, { comments = true })
        if not words then return err("error parsing host definition '" .. s .. "': " .. werr) end
      else -- no quote, backslash or comment: shlex splits on white space
        words = {}
        for w in s:gmatch("%S+") do words[#words + 1] = w end
      end
      local hostpat = words[1]
      if not hostpat then return err("no host name in '" .. s .. "'") end
      local names, port = address.expand(hostpat)
      if not names and s:sub(1, 1) == "[" then
        return err("bad section header or host '" .. s .. "' (a section is [name], [name:children] or [name:vars])")
      end
      if not names then return err(port) end
      if hostpat:match("^%s*(.-)%s*$"):sub(-1) == ":" and not port then
        return err("invalid host pattern '" .. hostpat .. "': a ':' at the end is reserved for a port")
      end
      for _, h in ipairs(names) do
        if h == "" then return err("empty host name") end
        if h:match("^%s*(.-)%s*$") == "---" then
          return err("invalid host pattern '" .. hostpat .. "' ('---' is normally a sign this is a YAML file)")
        end
      end
      if #inv.host_order + #names > model.MAX_HOSTS then
        return err(string.format("more than %d hosts in one inventory", model.MAX_HOSTS))
      end
      local keys, vals = {}, {}
      for i = 2, #words do
        local k, v = words[i]:match("^([^=]*)=(.*)$")
        if not k then return err("expected key=value after the host name, got '" .. words[i] .. "'") end
        local val, lerr = literal.eval(v)
        if val == nil then return err(lerr) end
        keys[#keys + 1], vals[#vals + 1] = k, val
      end
      for _, h in ipairs(names) do
        local host = inv:add_host(h, nil, group, port)
        for i, k in ipairs(keys) do host.vars[k] = vals[i] end
      end
    elseif state == "vars" then
      local k, v = s:match("^([^=]*)=(.*)$")
      if not k then return err("expected key=value in [" .. group .. ":vars], got '" .. s .. "'") end
      local val, lerr = literal.eval(v:match("^%s*(.-)%s*$"))
      if val == nil then return err(lerr) end
      local ok, verr = inv:set_group_var(group, k:match("^%s*(.-)%s*$"), val)
      if not ok then return err(verr) end
    else -- children
      local child = s:match("^([^:%]%s]+)%s*$") or s:match("^([^:%]%s]+)%s*#")
      if not child then return err("expected a group name in [" .. group .. ":children], got '" .. s .. "'") end
      if not inv.groups[child] then
        declare(child, "children", group)
      else
        local ok, cerr = inv:add_child(group, child)
        if not ok then return err(cerr) end
      end
    end
  end
  local first
  for _, d in pairs(pending) do if not first or d.seq < first.seq then first = d end end
  if first then
    lineno = first.line
    if first.state == "vars" then
      return err("section [" .. first.name .. ":vars] is for group '" .. first.name
        .. "', which is defined nowhere (no [" .. first.name .. "] or [" .. first.name .. ":children] section)")
    end
    return err("section [" .. first.parents[#first.parents] .. ":children] includes group '" .. first.name
      .. "', which is defined nowhere (no [" .. first.name .. "] or [" .. first.name .. ":children] section)")
  end
  return true
end

--- parse(text, source): INI text read from `source` as a reconciled
--- Inventory, or nil, "source:line: what is wrong".
M.parse = model.parser(M.read)

return M
