--- The configuration file through the CLI: `luasible config dump` (every
-- setting, its value and where it came from), warnings naming file:line,
-- and the settings reaching the commands: the default inventory, forks,
-- remote_user (as the lowest ansible_user), gathering, module_path.
local files = require "spec.helpers.files"
local cjson = require "cjson"

local ROOT = files.sh("pwd")

describe("luasible.cfg through the CLI", function()
  local dir = files.tmpdir()
  local n = 0
  -- run bin/luasible ARGS in a fresh folder holding `cfg` as luasible.cfg
  -- (and `extra` files), with no configuration of the caller's: out, ok, code
  local function run(cfg, args, extra, envs)
    n = n + 1
    local d = dir .. "/c" .. n
    files.sh("mkdir -p '" .. d .. "/home'")
    if cfg then files.write(d .. "/luasible.cfg", cfg) end
    for rel, text in pairs(extra or {}) do
      files.sh("mkdir -p \"$(dirname '" .. d .. "/" .. rel .. "')\"")
      files.write(d .. "/" .. rel, text)
    end
    local cmd = "cd '" .. d .. "' && env -u LUASIBLE_CONFIG -u ANSIBLE_CONFIG HOME='" .. d .. "/home' "
      .. (envs or "") .. " '" .. ROOT .. "/bin/luasible' " .. args .. " 2>&1"
    local out, ok, code = files.run(cmd)
    return out, ok, code, d
  end

  it("config dump shows every setting with its value and origin: file:line, env, default", function()
    local out, ok, _, d = run("[defaults]\n# fleet-wide\nforks = 80\ninventory = hosts.ini\n"
      .. "[privilege_escalation]\nbecome = yes\n", "config dump", nil, "ANSIBLE_REMOTE_USER=ops")
    assert.is_true(ok, out)
    local f = d .. "/luasible.cfg"
    assert.truthy(out:find("# config file: " .. f .. "\n", 1, true), out)
    assert.truthy(out:find("\nforks +%= 80  # " .. f:gsub("%p", "%%%0") .. ":3\n"), out)
    assert.truthy(out:find("\ninventory +%= %[" .. d:gsub("%p", "%%%0") .. "/hosts%.ini%]  # .-:4\n"), out)
    assert.truthy(out:find("\nremote_user +%= ops  # env ANSIBLE_REMOTE_USER\n"), out)
    assert.truthy(out:find("\nbecome +%= true  # .-luasible%.cfg:6\n"), out)
    assert.truthy(out:find("\ngathering +%= explicit  # default\n"), out)
    for _, s in ipairs(require("luasible.config.settings").LIST) do
      assert.truthy(out:find("\n" .. s.name .. " +%= "), s.name)
    end
    local file = run("", "config file")
    assert.truthy(file:match("/luasible%.cfg\n$"), file)
  end)

  it("warns of an unknown key naming file:line, and refuses a malformed file before anything runs", function()
    local out, ok = run("[defaults]\nforsk = 5\n", "config dump")
    assert.is_true(ok)
    assert.truthy(out:find("luasible: warning: [^\n]*/luasible%.cfg:2: unknown key 'forsk' in '%[defaults%]'"), out)
    local marker = dir .. "/ran"
    local bad, bok, code = run("[defaults]\nforks = lots\n[local]\n",
      "exec all -i localhost, -a 'touch " .. marker .. "'")
    assert.is_falsy(bok)
    assert.equal(1, code)
    assert.truthy(bad:find("luasible: error: [^\n]*/luasible%.cfg:2: forks: must be a whole number, got 'lots'"), bad)
    assert.is_nil(files.read(marker))
  end)

  it("the inventory setting is the default -i; remote_user is the lowest ansible_user; -e beats it", function()
    local cfg = "[defaults]\ninventory = hosts.ini\nremote_user = deployer\n"
    local hosts = { ["hosts.ini"] = "[local]\nlocalhost ansible_connection=local\n" }
    local out, ok = run(cfg, "exec all -m debug -a var=ansible_user --json", hosts)
    assert.is_true(ok, out)
    local saw
    for line in out:gmatch("[^\n]+") do
      local ev = cjson.decode(line)
      if ev.type == "host_task_result" then saw = ev.result.ansible_user end
    end
    assert.equal("deployer", saw)
    local out2 = run(cfg, "exec all -m debug -a var=ansible_user --json -e ansible_user=cli", hosts)
    assert.truthy(out2:find('"ansible_user":"cli"', 1, true), out2)
    -- an inventory's own value beats the configuration's
    local out3 = run(cfg, "exec all -m debug -a var=ansible_user --json",
      { ["hosts.ini"] = "[local]\nlocalhost ansible_connection=local ansible_user=inv\n" })
    assert.truthy(out3:find('"ansible_user":"inv"', 1, true), out3)
  end)

  it("gathering = implicit gathers facts unless the play says no; module_path finds modules", function()
    local hosts = { ["hosts.ini"] = "[local]\nlocalhost ansible_connection=local\n",
      ["lib/hello_cfg.lua"] = "return { params = {}, run = function() return { changed = false, msg = 'hi' } end }\n" }
    local out, ok = run("[defaults]\ninventory = hosts.ini\ngathering = implicit\nlibrary = lib\n",
      "exec all -m hello_cfg --json", hosts)
    assert.is_true(ok, out)
    assert.truthy(out:find('"task":"Gathering Facts"', 1, true), out)
    assert.truthy(out:find('"msg":"hi"', 1, true), out)
    local out2 = run("[defaults]\ninventory = hosts.ini\n", "exec all -m ping --json", hosts)
    assert.is_nil(out2:find("Gathering Facts", 1, true), out2)
  end)

  it("become_ask_pass asks once (stdin without a terminal); the password is a secret nothing shows", function()
    local hosts = { ["hosts.ini"] = "[local]\nlocalhost ansible_connection=local\n" }
    local cfg = "[defaults]\ninventory = hosts.ini\n[privilege_escalation]\nbecome_ask_pass = yes\n"
    local out, ok = run(cfg, "exec all -m debug -a 'msg={{ ansible_become_password | length }}' --json"
      .. " < /dev/null", hosts, "setsid")
    assert.is_falsy(ok)
    assert.truthy(out:find("luasible: error: no become password given (end of input)", 1, true), out)
    local d = dir .. "/pw"
    files.write(d, "s3cr3t-pw\n")
    out, ok = run(cfg, "exec all -m debug -a 'msg={{ ansible_become_password | length }}' --json < '" .. d .. "'",
      hosts, "setsid")
    assert.is_true(ok, out)
    assert.truthy(out:find("BECOME password: ", 1, true), out)
    assert.truthy(out:find('"msg":"9"', 1, true), out)
    assert.is_nil(out:find("s3cr3t", 1, true), out)
    -- config dump asks nothing
    local dump = run(cfg, "config dump < /dev/null", hosts, "setsid")
    assert.is_nil(dump:find("BECOME", 1, true), dump)
  end)

  it("forks: -f beats the environment, which beats the file", function()
    -- 6 local hosts each sleeping 0.4 s: forks 1 takes 2.4 s or more, forks 6 well under
    local hosts = { ["hosts.ini"] = "[local]\n" .. ("h[1:6] ansible_connection=local\n") }
    local cfg = "[defaults]\ninventory = hosts.ini\nforks = 1\n"
    local function took(args, envs)
      local core = require "luasible.core"
      local t0 = core.now()
      local out, ok = run(cfg, "exec all -a 'sleep 0.4' " .. args, hosts, envs)
      assert.is_true(ok, out)
      return core.now() - t0
    end
    assert.is_true(took("") >= 2.4)
    assert.is_true(took("", "LUASIBLE_FORKS=6") < 2.0)
    assert.is_true(took("-f 6", "LUASIBLE_FORKS=1") < 2.0)
  end)
end)
