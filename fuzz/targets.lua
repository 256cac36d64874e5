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
    if h:sub(1, 1) ~= "~" then
      _, err = pattern.select(inv, "all:!" .. h)
      check(err, "pattern", data)
    end
  end
  for i, g in ipairs(inv.group_order) do
    if i > 20 then break end
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
