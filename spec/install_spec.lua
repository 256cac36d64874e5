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

  it("lists every C source, Lua module and task module of the tree", function()
    local f = assert(io.open("rockspec/luasible-scm-1.rockspec"))
    local rockspec = f:read("a")
    f:close()
    local _, files = sh("ls core/*.c lua/luasible/*.lua modules/*.lua")
    for file in files:gmatch("%S+") do
      assert(rockspec:find('"' .. file .. '"', 1, true), file .. " is missing from the rockspec")
    end
  end)

  it("installs luasible.core, the Lua modules, the task modules and bin/luasible", function()
    if not sh("command -v luarocks") then
      pending("luarocks is not installed (scripts/deps installs it)")
      return
    end
    local ok, out = sh(("mkdir -p %s/src && git ls-files -z | xargs -0 cp --parents -t %s/src")
      :format(tmp, tmp))
    assert(ok, out)
    ok, out = sh(("cd %s/src && luarocks --lua-version 5.4 make --tree %s/tree rockspec/luasible-scm-1.rockspec")
      :format(tmp, tmp))
    assert(ok, out)
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
end)
