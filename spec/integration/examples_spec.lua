-- The runnable examples, run as a new user would run them.
local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

-- pids of processes whose environment holds `needle`
local function procs_with_env(needle)
  local found = {}
  for pid in sh("ls /proc"):gmatch("%d+") do
    local f = io.open("/proc/" .. pid .. "/environ", "rb")
    if f then
      local env = f:read("a") or ""
      f:close()
      if env:find(needle, 1, true) then found[#found + 1] = pid end
    end
  end
  return found
end

describe("examples", function()
  it("loopback.lua deploys to web1..web3 over SSH and leaves nothing running", function()
    local out, ok, code = sh("lua5.4 examples/loopback.lua 2>&1")
    assert.is_true(ok, "exit " .. tostring(code) .. "\n" .. out)
    local dir = assert(out:match("sshd on 127%.0%.0%.1:%d+ %((/tmp/luasible%-sshd%.[%w]+)%)"), out)
    for _, h in ipairs({ "web1", "web2", "web3" }) do
      assert.truthy(out:find(h .. " | compiling unit 3/5 (60%)", 1, true), out)
      assert.truthy(out:find("ok: [" .. h .. "] => healthy", 1, true), out)
      assert.truthy(out:find(h .. " | stopped", 1, true), out) -- the final `--tags stop` run
      assert.truthy(out:match(h .. " : ok=12 +changed=7 +unreachable=0 +failed=0"), out)
    end
    assert.same({}, procs_with_env("LUASIBLE_TEST_SSHD=" .. dir .. "\0"))
    assert.is_nil(io.open(dir .. "/inventory.ini"))
  end)

  it("deploy.lua --check on a fresh machine reports what it would do and writes nothing", function()
    local root = os.tmpname()
    os.remove(root)
    local out, ok, code = sh("bin/luasible run examples/deploy.lua -i examples/local.ini --check -e demo_root="
      .. root .. " 2>&1")
    assert.is_true(ok, "exit " .. tostring(code) .. "\n" .. out)
    assert.truthy(out:find("would write " .. root .. "/web1/app.sh", 1, true), out)
    assert.truthy(out:match("web1 : ok=%d+ +changed=%d+ +unreachable=0 +failed=0"), out)
    assert.is_nil(io.open(root), "check mode created " .. root)
  end)

  it("deploy.yml, the same play in YAML, does what deploy.lua does", function()
    local roots, recaps = {}, {}
    for _, form in ipairs({ "lua", "yml" }) do
      local root = os.tmpname()
      os.remove(root)
      roots[form] = root
      local run = "bin/luasible run examples/deploy." .. form .. " -i examples/local.ini -e demo_root=" .. root
      local out, ok, code = sh(run .. " 2>&1")
      assert.is_true(ok, "exit " .. tostring(code) .. "\n" .. out)
      assert.truthy(out:find("ok: [web1] => healthy", 1, true), out)
      recaps[form] = out:match("web1 : [^\n]*")
      local sout, sok = sh(run .. " --tags stop 2>&1") -- the app stopped again
      assert.is_true(sok, sout)
      assert.truthy(sout:find("web1 | stopped", 1, true), sout)
    end
    assert.equal(recaps.lua, recaps.yml)
    for _, h in ipairs({ "web1", "web2", "web3" }) do
      for _, f in ipairs({ "app.sh", "app.conf", "RELEASE" }) do
        local a, b = io.open(roots.lua .. "/" .. h .. "/" .. f), io.open(roots.yml .. "/" .. h .. "/" .. f)
        assert.truthy(a and b, h .. "/" .. f)
        -- the same but for the root folder each run was given
        local esc = function(x) return (x:gsub("%p", "%%%0")) end
        assert.equal(a:read("a"), (b:read("a"):gsub(esc(roots.yml), (roots.lua:gsub("%%", "%%%%")))))
        a:close(); b:close()
      end
      assert.is_nil(io.open(roots.yml .. "/" .. h .. "/app.pid"))
    end
    os.execute("rm -rf " .. roots.lua .. " " .. roots.yml)
  end)

  it("loopback.lua runs a given command with the generated inventory", function()
    local out, ok = sh("lua5.4 examples/loopback.lua -- bin/luasible exec web -i {inventory} --json "
      .. "-a 'echo $LUASIBLE_TEST_SSHD' 2>&1")
    assert.is_true(ok, out)
    local dir = assert(out:match("%((/tmp/luasible%-sshd%.[%w]+)%)"))
    local n = 0
    for data in out:gmatch('"data":"([^"]*)"') do
      assert.equal(dir, data)
      n = n + 1
    end
    assert.equal(3, n)
    local _, _, code = sh("lua5.4 examples/loopback.lua -- sh -c 'exit 3' >/dev/null 2>&1")
    assert.equal(3, code) -- its exit status is the command's
  end)
end)
