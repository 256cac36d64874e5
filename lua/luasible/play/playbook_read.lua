--- luasible.play.playbook_read: what the readers of YAML playbooks share
-- (play/playbook.lua, playbook_task.lua, playbook_list.lua, roles.lua):
-- the load error, file:line of a node, the shapes of YAML values, keyword
-- values as Ansible takes them, and reading a file that holds a list.
local yaml = require "luasible.yaml"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local json = require "luasible.json"
local template = require "luasible.template"
local S = require "luasible.util.schema"

local M = {}

--- A load error: raised inside the loader, caught by playbook.load (and task_file).
function M.raise(msg) error({ playbook_error = msg }, 0) end
local raise = M.raise

--- The keys of mapping t in the order of the text.
function M.keys_of(t) return yaml.ordered_keys(t) end
local keys_of = M.keys_of

--- Is v a YAML mapping (an empty one too)?
function M.is_map(v) return type(v) == "table" and not (S.is_list(v) and next(v) ~= nil) end

--- Is v a YAML sequence (an empty one too, but not an empty mapping `{}`)?
function M.is_seq(v)
  return type(v) == "table" and S.is_list(v) and not (json.is_object(v) and next(v) ~= nil)
end

--- One file being read: its name and its folder.
function M.reader(file)
  return { file = file, dir = path.dirname(file) }
end

--- "file:line: " for node t (key k of it), or "file: ".
function M.where(r, t, k)
  local line = t and yaml.line(t, k)
  if not line and t and k ~= nil then line = yaml.line(t) end
  return line and string.format("%s:%d: ", r.file, line) or (r.file .. ": ")
end
local where = M.where

-- The modules luasible has that Ansible ships in other collections, by their
-- fully qualified names (what published roles write: ansible.posix.authorized_key).
local COLLECTION_MODULES = {
  ["ansible.posix.authorized_key"] = "authorized_key", ["ansible.posix.mount"] = "mount",
  ["ansible.posix.sysctl"] = "sysctl", ["ansible.posix.synchronize"] = "synchronize",
  ["community.general.archive"] = "archive", ["community.general.ini_file"] = "ini_file",
  ["community.general.modprobe"] = "modprobe", ["community.general.npm"] = "npm",
  ["community.general.gem"] = "gem", ["community.general.timezone"] = "timezone",
  ["community.general.ufw"] = "ufw",
}

--- The model's name of a module key: `copy`, `ansible.builtin.copy` and
--- `ansible.legacy.copy` are copy; the names of the modules luasible has
--- from another collection (`ansible.posix.authorized_key`) are theirs;
--- another collection's name is kept whole (and is no module luasible has).
function M.module_name(key)
  return COLLECTION_MODULES[key] or (key:gsub("^ansible%.builtin%.", ""):gsub("^ansible%.legacy%.", ""))
end

-- Keywords that are booleans: YAML's yes/no, and the strings Ansible's
-- boolean() takes ("yes", "on", "1", "true", ...), are true or false.
local BOOLEANS = { become = true, ignore_errors = true, no_log = true, run_once = true, check_mode = true,
  gather_facts = true, diff = true, delegate_facts = true, any_errors_fatal = true, ignore_unreachable = true,
  force_handlers = true }
-- Keywords that are integers (Ansible's isa int): "10" is 10.
local INTEGERS = { async = true, poll = true }
local TRUE = { yes = true, on = true, ["1"] = true, ["true"] = true, y = true, t = true }
local FALSE = { no = true, off = true, ["0"] = true, ["false"] = true, n = true, f = true }
--- A keyword's value: booleans as Ansible's boolean() reads them.
function M.keyword_value(k, v)
  if BOOLEANS[k] and type(v) == "string" then
    local l = v:lower()
    if TRUE[l] then return true elseif FALSE[l] then return false end
  end
  if INTEGERS[k] and type(v) == "string" and v:match("^%s*[-+]?%d+%s*$") then return math.tointeger(tonumber(v)) end
  return v
end

--- The variables a name rendered when the playbook is read sees: the
--- play's vars (a, with vars_files) under the extra vars (b). A new table.
function M.scope(a, b)
  local out = {}
  for k, v in pairs(type(a) == "table" and a or {}) do out[k] = v end
  for k, v in pairs(type(b) == "table" and b or {}) do out[k] = v end
  return out
end

--- The first templating problem in the strings of v, or nil.
function M.template_error(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    local ok, err = template.check(v)
    if not ok then return err end
  elseif type(v) == "table" and depth < S.MAX_DEPTH then
    for _, k in ipairs(keys_of(v)) do
      local err = M.template_error(v[k], depth + 1)
      if err then return err end
    end
  end
end

-- "a/./b/../c" -> "a/c", textually (for finding a cycle of imports)
function M.tidy(p)
  local out = {}
  for part in p:gmatch("[^/]+") do
    if part == ".." and #out > 0 and out[#out] ~= ".." then out[#out] = nil
    elseif part ~= "." then out[#out + 1] = part end
  end
  return (path.is_abs(p) and "/" or "") .. table.concat(out, "/")
end


--- The YAML list in `file`, with its lines, and its reader. shape: the
--- message for another value ("a task file must be a list of tasks");
--- o.at: the place that names the file, o.noun: how the file is called in
--- "cannot read NOUN FILE", o.empty: the message for an empty file (else an
--- empty file is an empty list).
function M.read_list(file, shape, o)
  o = o or {}
  local text, err = fs.read(file)
  if not text then
    raise((o.at or "") .. "cannot read " .. (o.noun or "") .. S.escape(file) .. ": " .. S.escape(tostring(err)))
  end
  local doc, yerr = yaml.load(text, file, { lines = true, column = true })
  if yerr then raise(yerr) end
  if yaml.is_null(doc) then
    if o.empty then raise(file .. ": " .. o.empty) end
    doc = {}
  end
  local r = M.reader(file)
  if not M.is_seq(doc) then raise(where(r, doc) .. shape .. ", got " .. S.show(doc)) end
  return doc, r
end

return M
