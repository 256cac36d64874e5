-- The rockspec builds and installs the same library and CLI that run in-tree
-- (in a copy of the tree, so the build leaves nothing behind here).
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok, out, code
end

describe("luarocks install", function()
  local tmp

  setup(function()
    local ok, out = sh("mktemp -d")
    assert(ok, out)
    tmp = out:gsub("%s+$", "")
  end)

  teardown(function()
    if tmp and tmp:match("^/tmp/") then os.execute("rm -rf '" .. tmp .. "'") end
  end)

  -- luarocks make into tmp/tree (once); false when luarocks is missing
  local installed
  local function install()
    if installed ~= nil then return installed end
    installed = false
    if not sh("command -v luarocks") then return false end
    local ok, out = sh(("mkdir -p %s/src && git ls-files -z | xargs -0 cp --parents -t %s/src")
      :format(tmp, tmp))
    assert(ok, out)
    ok, out = sh(("cd %s/src && luarocks --lua-version 5.4 make --tree %s/tree rockspec/luasible-scm-1.rockspec")
      :format(tmp, tmp))
    assert(ok, out)
    installed = true
    return true
  end

  it("installs every Lua module and task module of the tree, and a core that exports one symbol", function()
    if not install() then
      pending("luarocks is not installed (scripts/deps installs it)")
      return
    end
    local _, files = sh("git ls-files 'lua/luasible/*.lua' 'modules/*.lua'")
    local n = 0
    for file in files:gmatch("%S+") do
      local dest = file:gsub("^lua/", ""):gsub("^modules/", "luasible/modules/")
      local f = io.open(tmp .. "/tree/share/lua/5.4/" .. dest)
      assert(f, file .. " was not installed (as " .. dest .. ")")
      f:close()
      n = n + 1
    end
    assert.is_true(n > 20)
    -- hidden visibility in this build too: the entry point alone
    local ok, out = sh("nm -D --defined-only " .. tmp .. "/tree/lib/lua/5.4/luasible/core.so")
    assert(ok, out)
    local syms = {}
    for sym in out:gmatch("%x+ %a ([%w_]+)") do syms[#syms + 1] = sym end
    assert.same({ "luaopen_luasible_core" }, syms)
  end)

  it("installs luasible.core, the Lua modules, the task modules and bin/luasible", function()
    if not install() then
      pending("luarocks is not installed (scripts/deps installs it)")
      return
    end
    local ok, out
    local env = ("eval \"$(luarocks --lua-version 5.4 path --tree %s/tree)\" && cd / && "):format(tmp)
    ok, out = sh(env .. tmp .. "/tree/bin/luasible --version")
    assert(ok, out)
    assert.matches("^luasible %d+%.%d+%.%d+", out)
    ok, out = sh(env .. [[lua5.4 -e '
      local l = require "luasible"
      local res = assert(l.connect():execute({ "echo", "installed" }))
      io.write(res.stdout, assert(require("luasible.module").load("copy")).name, "\n")']])
    assert(ok, out)
    assert.equal("installed\ncopy\n", out)
    ok, out = sh(env .. tmp .. "/tree/bin/luasible exec localhost -a 'echo from-cli'")
    assert(ok, out)
    assert.matches("from%-cli", out)
  end)

  it("installs the dashboard's page where luasible.serve finds it", function()
    if not install() then
      pending("luarocks is not installed (scripts/deps installs it)")
      return
    end
    local _, listed = sh("git ls-files 'share/luasible/web/*'")
    local n = 0
    for file in listed:gmatch("%S+") do
      local dest = tmp .. "/tree/share/lua/5.4/luasible/web/" .. file:gsub("^share/luasible/web/", "")
      local f = io.open(dest)
      assert(f, file .. " was not installed (as " .. dest .. ")")
      f:close()
      n = n + 1
    end
    assert.is_true(n >= 10)
    local env = ("eval \"$(luarocks --lua-version 5.4 path --tree %s/tree)\" && cd / && "):format(tmp)
    local ok, out = sh(env .. [[lua5.4 -e 'io.write(assert(require("luasible.serve.static").root()), "\n")']])
    assert(ok, out)
    assert.equal(tmp .. "/tree/share/lua/5.4/luasible/web", (out:gsub("\n$", ""):gsub("/luasible/serve/%.%./web$",
      "/luasible/web")))
  end)
end)
