--- fuzz.targets: the entries of the libFuzzer targets for the parsers written
-- in Lua (fuzz/lua_target.c calls entry(input) for each input). An entry
-- hands the input to luasible as a user would hand it (an inventory file's
-- text, a template, an -e or -a argument), walks what comes back, and
-- checks every message it is returned with fuzz/oracle.lua's `check`: a
-- message that is an internal error raises a table, a finding. Errors
-- luasible raises itself are judged by the harness with the same oracle.
local oracle = require "fuzz.oracle"
local check = oracle.check

local M = {}

-- An inventory may hold 250,000 hosts (a range), which takes seconds to
-- build: the fuzzer gets a smaller limit, and so reaches it often.
require("luasible.inventory.model").MAX_HOSTS = 5000

-- Variables for templates: every kind of value, a nested template, an
-- unsafe one, deep tables.
local VARS = {
  n = 5, f = 1.5, neg = -3, big = 1e300, nan = 0 / 0, inf = 1 / 0, maxint = math.maxinteger, z = 0,
  s = "text", e = "", path = "/a/b/c.txt", multi = "a\nb\r\nc", t = true, no = false,
  l = { 1, "two", 3.5, { 4 } }, empty = {}, m = { a = 1, b = { c = "d" }, ["x y"] = 2 },
  nested = "{{ s }}-{{ n }}", loop = "{{ loop }}", deep = { { { { { { "deep" } } } } } },
  r = { changed = true, failed = false, rc = 0, stdout = "out", stdout_lines = { "out" } },
}

-- An inventory walked as a play walks it: every group's hosts, every host's
-- variables, its connection arguments and become settings, a few patterns.
local function walk(inv, data)
  if #inv.host_order > 500 then return end -- a big range: parsed, not walked (time)
  local pattern = require "luasible.inventory.pattern"
  local connect = require "luasible.inventory.connect"
  for _, g in ipairs(inv.group_order) do inv:group_hosts(g) end
  for i, h in ipairs(inv.host_order) do
    if i > 50 then break end
    local vars = inv:host_vars(h)
    local _, err = connect.connect_args(h, vars)
    check(err, "connect_args", data)
    connect.become(vars)
    -- (a name starting with ~ would be a Lua pattern of the user's: one of
    -- many * takes exponential time, as a regex of the user's may anywhere)
    -- (patterns of the first 10: a failing one looks for close names
    -- among all hosts, which under the line hook takes a while)
    if h:sub(1, 1) ~= "~" and i <= 10 then
      _, err = pattern.select(inv, "all:!" .. h)
      check(err, "pattern", data)
    end
  end
  for i, g in ipairs(inv.group_order) do
    if i > 10 then break end
    if g:sub(1, 1) ~= "~" then
      local _, err = pattern.select(inv, g .. ":&all")
      check(err, "pattern", data)
    end
  end
end

--- An INI inventory's text.
function M.inventory_ini(data)
  local inv, err = require("luasible.inventory.ini").parse(data, "fuzz.ini")
  check(err, "ini", data)
  if inv then walk(inv, data) end
end

--- A YAML inventory's text.
function M.inventory_yaml(data)
  local inv, err = require("luasible.inventory.yaml").parse(data, "fuzz.yml")
  check(err, "yaml", data)
  if inv then walk(inv, data) end
end

-- a small inventory for constructed to work on
local function small_inventory()
  local inv = require("luasible.inventory.model").new("fuzz")
  inv:add_host("h1", { n = 1, s = "web", l = { "a", "b" }, m = { k = "v" }, e = "" }, "g1")
  inv:add_host("h2", { n = 9, s = "db" }, "g2")
  return inv
end

--- Dynamic inventory inputs: the same text as an inventory script's
--- --list output (the JSON/YAML shape a Lua plugin returns too), as a
--- constructed configuration over two hosts, and as a luasible.cfg.
function M.inventory_dynamic(data)
  local yaml = require "luasible.yaml"
  local script = require "luasible.inventory.script"
  local v = yaml.load(data, "fuzz.json")
  if v ~= nil then
    local inv = require("luasible.inventory.model").new("fuzz")
    local ok, err = script.read(inv, v, "fuzz.json", function(hosts)
      local out = {}
      for _, h in ipairs(hosts) do out[h] = { from_host = h } end
      return out
    end)
    check(err, "script", data)
    if ok then walk(inv:reconcile(), data) end
    if type(v) == "table" and not yaml.is_null(v) and yaml.keys(v) then
      local constructed = require "luasible.inventory.constructed"
      local cok, cerr = constructed.check(v, "fuzz.yml", data)
      check(cerr, "constructed.check", data)
      if cok then
        local inv2 = small_inventory()
        local aok, aerr = constructed.apply(inv2, v, "fuzz.yml", { extra_vars = { x = 1 } })
        check(aerr, "constructed", data)
        if aok then walk(inv2:reconcile(), data) end
      end
    end
  end
  local c, cerr = require("luasible.config").load({ text = data, file = "fuzz.cfg", getenv = function() end,
    cwd = "/nonexistent", home = "/nonexistent" })
  check(cerr, "config", data)
  if c then require("luasible.cli.config").dump(c) end
end

--- A template, an expression and a condition: the same text as each.
function M.template(data)
  local T = require "luasible.template"
  local _, err = T.render(data, VARS, "fuzz.tmpl")
  check(err, "render", data)
  _, err = T.eval(data, VARS)
  check(err, "eval", data)
  _, err = T.test(data, VARS)
  check(err, "test", data)
  _, err = T.check(data)
  check(err, "check", data)
  _, err = T.render_value({ data, { x = data } }, VARS)
  check(err, "render_value", data)
end

local modules_cache
local function some_modules()
  if not modules_cache then
    local modules = require "luasible.module"
    modules_cache = {}
    for _, name in ipairs({ "shell", "copy", "debug", "file", "wait_for" }) do
      modules_cache[#modules_cache + 1] = assert(modules.load(name))
    end
  end
  return modules_cache
end

--- An `-e` argument (k=v, a JSON/YAML object; not @file) and an `-a` one
--- for a few modules, as the CLI takes them.
function M.kv(data)
  local cli = require "luasible.cli"
  local modules = require "luasible.module"
  if data:sub(1, 1) ~= "@" then
    local _, err = cli.parse_extra(data, {})
    check(err, "-e", data)
  end
  local _, err = modules.parse_kv(data)
  check(err, "parse_kv", data)
  _, err = require("luasible.module.kv").argv(data)
  check(err, "argv", data)
  for _, mod in ipairs(some_modules()) do
    local args, aerr = cli.adhoc_args(mod, data)
    check(aerr, "-a", data)
    if args then
      local _, verr = modules.validate(mod, args, true)
      check(verr, "validate", data)
    end
  end
end

return M
