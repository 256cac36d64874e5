-- Connections as plugins (lua/luasible/plugins.lua, docs/CONNECTIONS.md):
-- a user's plugin found on the path and used by a play, an unknown kind
-- refused before any host is touched, and the shipped kinds against the
-- real thing: chroot into a busybox root, podman with a container made
-- from that root (podman import: no registry), the docker CLI as far as
-- this machine has it (no daemon).
local luasible = require "luasible"
local core = require "luasible.core"
local plugins = require "luasible.plugins"
local files = require "spec.helpers.files"
local shell = require "luasible.util.shell"

-- the exit status of bad input (bin/luasible: 2 is a task that failed)
local EXIT_REFUSED = 1

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, rc = p:close()
  return ok, out, rc
end

local is_root = sh("[ \"$(id -u)\" = 0 ]")
local BUSYBOX = "/bin/busybox"
local has_busybox = sh("test -x " .. BUSYBOX .. " && " .. BUSYBOX .. " --list >/dev/null")

-- a minimal root: busybox (static) and its applets, /dev/null, /tmp, /etc/passwd
local function make_root(dir)
  assert(sh(("set -e; mkdir -p %s/bin %s/tmp %s/etc %s/dev %s/proc; cp %s %s/bin/busybox; chmod 1777 %s/tmp;"
    .. " for a in $(%s --list); do [ $a = busybox ] || ln -s busybox %s/bin/$a; done;"
    .. " mknod -m 666 %s/dev/null c 1 3;"
    .. " printf 'root:x:0:0::/root:/bin/sh\\nnobody:x:65534:65534::/:/bin/sh\\n' > %s/etc/passwd;"
    .. " printf 'root:x:0:\\nnogroup:x:65534:\\n' > %s/etc/group")
    :format(dir, dir, dir, dir, dir, BUSYBOX, dir, dir, BUSYBOX, dir, dir, dir, dir)))
end

-- run fn as a luasible task
local function run(fn)
  local res
  luasible.run(function() res = { fn() } end)
  return table.unpack(res)
end

-- the events of a command with the time each arrived
local function timed(conn, cmd, opts)
  local t0, out = core.now(), {}
  for ev in conn:stream(cmd, opts) do
    ev.at = core.now() - t0
    out[#out + 1] = ev
  end
  return out
end

local function of_type(evs, t)
  local r = {}
  for _, ev in ipairs(evs) do if ev.type == t then r[#r + 1] = ev end end
  return r
end

-- The behaviour every shipped kind keeps (the streaming contract). `alive`
-- tells whether the process of a marked command still runs over there.
local function contract(connect, alive)
  it("streams every line as it comes, stdout and stderr, with the exit status", function()
    run(function()
      local conn <close> = assert(connect())
      local evs = timed(conn, "echo one; sleep 1; echo two >&2; exit 3")
      local outs, errs = of_type(evs, "stdout"), of_type(evs, "stderr")
      assert.equal("one", outs[1].data)
      assert.equal("two", errs[1].data)
      -- the first line came before the sleep was over, the second after it
      assert.is_true(errs[1].at - outs[1].at > 0.7, ("one at %.2f, two at %.2f"):format(outs[1].at, errs[1].at))
      local last = evs[#evs]
      assert.equal("done", last.type)
      assert.equal(3, last.result.rc)
      assert.is_false(last.result.ok)
    end)
  end)

  it("execute and lines work over it; a command that fails raises in lines", function()
    run(function()
      local conn <close> = assert(connect())
      local r = assert(conn:execute({ "printf", "%s\\n", "a b", "c'd" }))
      assert.equal("a b\nc'd\n", r.stdout)
      r = assert(conn:execute("pwd; echo \"$X\"", { cwd = "/tmp", env = { X = "it's x" } }))
      assert.equal("/tmp\nit's x\n", r.stdout)
      local seen = {}
      for line in conn:lines("seq 3") do seen[#seen + 1] = line end
      assert.same({ "1", "2", "3" }, seen)
      assert.has_error(function() for _ in conn:lines("false") do end end)
    end)
  end)

  it("a timeout ends the command and kills it there", function()
    run(function()
      local conn <close> = assert(connect())
      local t0 = core.now()
      local started
      local r = assert(conn:execute("echo started; sleep 31.7; echo never", { timeout = 1,
        on_output = function() started = started or core.now() end }))
      local took = core.now() - t0
      assert.is_true(r.timed_out)
      assert.equal("started\n", r.stdout)
      assert.is_true(took < 4, "took " .. took)
      -- over there it is killed as well (a container's watchdog: at the
      -- next whole second after the timeout, plus one, from the start of
      -- the command there, which is before its first line came): gone when
      -- we look 2.7 s after that line
      luasible.sleep(math.max(0, 2.7 - (core.now() - started)))
      assert.is_false(alive(conn, "sleep 31.7"),
        ("sleep 31.7 still runs %.2f s after its first line"):format(core.now() - started))
    end)
  end)

  it("close kills what still runs (its whole process group over there)", function()
    run(function()
      local conn = assert(connect())
      local evs = {}
      local t = luasible.spawn(function()
        for ev in conn:stream("sh -c 'sleep 32.3'; echo after") do evs[#evs + 1] = ev end
      end)
      luasible.sleep(1.5)
      assert.is_true(alive(nil, "sleep 32.3"))
      conn:close()
      t:wait()
      assert.equal("error", evs[#evs].type)
      assert.truthy(evs[#evs].error:find("ECANCELED", 1, true))
      luasible.sleep(3)
      assert.is_false(alive(nil, "sleep 32.3"))
    end)
  end)

  it("put and get: atomic, checked, with progress", function()
    run(function()
      local conn <close> = assert(connect())
      local parts = {}
      for i = 1, 3 * 1024 * 1024 + 17 do parts[i] = string.char((i * 7) % 256) end
      local data = table.concat(parts)
      local seen = {}
      local res = assert(conn:put(data, "/tmp/plugin-put.bin", { content = true, mode = tonumber("640", 8),
        on_progress = function(p) seen[#seen + 1] = p end }))
      assert.equal(#data, res.bytes)
      assert.equal(core.crypto.hex(core.crypto.digest("sha256", data)), res.sha256)
      assert.is_true(#seen >= 4, "progress events: " .. #seen)
      assert.equal(#data, seen[#seen].bytes_done)
      assert.equal("640", assert(conn:execute("stat -c %a /tmp/plugin-put.bin")).stdout:match("%d+"))
      -- again, no mode asked: the file replaced keeps its mode (busybox's chmod has no --reference)
      assert(conn:put("again", "/tmp/plugin-put2.bin", { content = true, mode = tonumber("600", 8) }))
      assert(conn:put("again and again", "/tmp/plugin-put2.bin", { content = true }))
      assert.equal("600 again and again", assert(conn:execute(
        "printf '%s ' $(stat -c %a /tmp/plugin-put2.bin); cat /tmp/plugin-put2.bin")).stdout)
      local dir = files.tmpdir()
      local got = {}
      local g = assert(conn:get("/tmp/plugin-put.bin", dir .. "/back.bin",
        { on_progress = function(p) got[#got + 1] = p end }))
      assert.equal(res.sha256, g.sha256)
      assert.equal(data, files.read(dir .. "/back.bin"))
      assert.is_true(#got >= 4, "progress events: " .. #got)
      assert.equal(100, got[#got].percentage)
      -- a file that is not there: an error, nothing left behind
      local ok, err = conn:get("/tmp/not-there", dir .. "/none")
      assert.is_nil(ok)
      assert.truthy(err:find("ENOENT", 1, true))
      assert.is_nil(io.open(dir .. "/none"))
      assert(conn:execute("rm -f /tmp/plugin-put.bin /tmp/plugin-put2.bin"))
    end)
  end)
end

describe("connection plugins", function()
  it("a user's plugin in a folder on the path is found and used, and by a play from connection_plugins/", function()
    local dir = files.tmpdir()
    assert(os.execute("mkdir -p " .. dir .. "/connection_plugins"))
    -- a small real plugin: commands run here with an empty environment (env -i)
    files.write(dir .. "/connection_plugins/envi.lua", [[
return { connect = function(host, kit)
  return { where = "envi:" .. host.host, exec = function(_, cmd, opts, mode)
    return kit.spawn({ "env", "-i", "/bin/sh", "-c", kit.command_line(cmd, opts) }, opts, mode)
  end }
end }
]])
    run(function()
      local conn <close> = assert(luasible.connect({ connection = "envi", host = "box",
        plugin_path = { dir .. "/connection_plugins" } }))
      assert.equal("envi", conn.kind)
      local r = assert(conn:execute("echo \"[$HOME]\"; echo \"$K\"", { env = { K = "v" } }))
      assert.equal("[]\nv\n", r.stdout)
    end)
    -- a play beside connection_plugins/: the kind comes from the inventory
    files.write(dir .. "/inv.yml", "all:\n  hosts:\n    box:\n      ansible_connection: envi\n")
    local recap, details = assert(require("luasible.play").play(
      { hosts = "all", tasks = { { name = "env", shell = "echo \"[$HOME]\"" } } },
      { inventory = dir .. "/inv.yml", base_dir = dir, on_event = function() end }))
    assert.equal(0, recap.box.failed)
    assert.equal("[]", (details.hosts.box[1].result.stdout:gsub("\n$", "")))
  end)

  it("through the CLI: luasible.cfg's connection_plugins, and an unknown kind refused (nothing runs)", function()
    local root = files.sh("pwd")
    local dir = files.tmpdir()
    assert(os.execute("mkdir -p " .. dir .. "/plugs " .. dir .. "/home"))
    files.write(dir .. "/plugs/envi.lua", [[
return { connect = function(_, kit)
  return { exec = function(_, cmd, opts, mode)
    return kit.spawn({ "env", "-i", "/bin/sh", "-c", kit.command_line(cmd, opts) }, opts, mode)
  end }
end }
]])
    files.write(dir .. "/luasible.cfg", "[defaults]\nconnection_plugins = plugs\n")
    files.write(dir .. "/inv.ini", "box ansible_connection=envi\n")
    files.write(dir .. "/play.lua", "return { hosts = 'all', tasks = { { shell = 'echo \"[$HOME]\"' } } }\n")
    local function cli(args)
      return files.run("cd '" .. dir .. "' && env -u LUASIBLE_CONFIG -u ANSIBLE_CONFIG -u LUASIBLE_CONNECTION_PLUGINS"
        .. " HOME='" .. dir .. "/home' '" .. root .. "/bin/luasible' " .. args .. " 2>&1")
    end
    local out, ok = cli("run play.lua -i inv.ini")
    assert.is_true(ok, out)
    assert.truthy(out:find("[]", 1, true), out)
    files.write(dir .. "/inv.ini", "box ansible_connection=envy\n")
    local out2, ok2, code = cli("run play.lua -i inv.ini")
    assert.is_not_true(ok2, out2)
    assert.equal(EXIT_REFUSED, code)
    assert.truthy(out2:find("host box: unsupported ansible_connection 'envy':"
      .. " no envy.lua in the connection plugin path ("
      .. dir .. "/plugs:", 1, true), out2)
  end)

  it("LUASIBLE_CONNECTION_PLUGINS and the shipped kinds are on the search path, in that order", function()
    local p = plugins.search_path({ "/a", "/b" })
    assert.equal("/a", p[1])
    assert.equal("/b", p[2])
    assert.truthy(p[#p]:find("luasible/connection$"))
    for _, k in ipairs({ "docker", "podman", "chroot" }) do assert(plugins.find(k, p)) end
  end)

  it("an unknown kind: the play is refused naming the search path, before any host is touched", function()
    local dir = files.tmpdir()
    files.write(dir .. "/inv.yml", "all:\n  hosts:\n    here:\n      ansible_connection: local\n"
      .. "    odd:\n      ansible_connection: winrm\n")
    local mark = dir .. "/touched"
    local events = {}
    local ok, err = require("luasible.play").play(
      { hosts = "all", tasks = { { name = "touch", command = "touch " .. mark } } },
      { inventory = dir .. "/inv.yml", base_dir = dir, connection_plugins = { dir .. "/mine" },
        on_event = function(ev) events[#events + 1] = ev end })
    assert.is_nil(ok)
    assert.truthy(err:find("host odd: unsupported ansible_connection 'winrm'", 1, true), err)
    assert.truthy(err:find("no winrm.lua in the connection plugin path (" .. dir .. "/mine:" .. dir
      .. "/connection_plugins:", 1, true), err)
    assert.truthy(err:find("luasible/connection)", 1, true), err)
    assert.is_nil(io.open(mark))
    assert.equal(0, #events)
    -- luasible.connect: the same error as a fail tuple
    local c, e2 = luasible.connect({ connection = "winrm", host = "x" })
    assert.is_nil(c)
    assert.truthy(e2:find("unknown connection kind 'winrm'", 1, true))
  end)

  it("a plugin that returns no exec is refused naming its file", function()
    local dir = files.tmpdir()
    files.write(dir .. "/bad.lua", "return { connect = function() return {} end }")
    local c, err = luasible.connect({ connection = "bad", host = "x", plugin_path = { dir } })
    assert.is_nil(c)
    assert.truthy(err:find(dir .. "/bad.lua", 1, true), err)
    assert.truthy(err:find("exec", 1, true), err)
  end)
end)

describe("the chroot kind", function()
  if not is_root then pending("chroot needs root") return end
  if not has_busybox then pending("no " .. BUSYBOX .. " (busybox-static, scripts/deps)") return end
  local root = files.tmpdir() .. "/root"
  make_root(root)
  local function connect() return luasible.connect({ connection = "chroot", host = root, name = "jail" }) end
  -- the chroot's processes are this machine's
  local function alive(_, what)
    -- the process itself (its whole command line), not a shell whose command holds the text
    return sh("pgrep -f " .. shell.quote("^" .. what .. "$") .. " >/dev/null") == true
  end
  contract(connect, alive)

  it("runs inside the root, as ansible_user / become's user through --userspec", function()
    run(function()
      local conn <close> = assert(connect())
      assert.equal("jail", conn.name)
      files.write(root .. "/tmp/inside", "yes\n")
      assert.equal("yes\n", assert(conn:execute("cat /tmp/inside")).stdout)
      assert.equal("65534\n", assert(conn:execute("id -u", { user = "nobody" })).stdout)
      assert.equal("0\n", assert(conn:execute("id -u")).stdout)
      local put = assert(conn:put("hello", "/tmp/put.txt", { content = true }))
      assert.equal(5, put.bytes)
      assert.equal("hello", files.read(root .. "/tmp/put.txt"))
    end)
  end)

  it("a folder that is no root: a clear error", function()
    local c, err = luasible.connect({ connection = "chroot", host = root .. "/nowhere" })
    assert.is_nil(c)
    assert.truthy(err:find("is not a directory", 1, true), err)
  end)
end)

-- podman: a container from the busybox root (podman import, no registry)
local function podman_setup()
  if not is_root then return nil, "needs root" end
  if not has_busybox then return nil, "no " .. BUSYBOX end
  if not sh("command -v podman >/dev/null") then return nil, "podman is not installed (scripts/deps)" end
  local dir = files.tmpdir()
  local root = dir .. "/root"
  make_root(root)
  -- this machine: crun refuses hybrid cgroups (runc does not), and raising
  -- RLIMIT_NOFILE/NPROC to podman's defaults is not permitted here
  files.write(dir .. "/containers.conf", "[containers]\ndefault_ulimits = []\n")
  local runtime = sh("command -v runc >/dev/null") and "--runtime runc " or ""
  local name = "luasible-spec-" .. core.crypto.hex(core.crypto.random(4))
  local ok, out = sh(("tar -C %s -cf - . | podman import - luasible-spec:busybox >/dev/null 2>&1 && CONTAINERS_CONF=%s"
    .. " podman %srun -d --name %s --network none luasible-spec:busybox /bin/sleep 3600")
    :format(root, dir .. "/containers.conf", runtime, name))
  if not ok then
    sh("podman rm -f -t 0 " .. name)
    return nil, "podman cannot run a container here: " .. out:gsub("%s+$", "")
  end
  return name
end

describe("the podman kind", function()
  local name, why = podman_setup()
  if not name then pending(why) return end
  teardown(function() sh("podman rm -f -t 0 " .. name) end)
  -- 1 MiB transfer chunks (the kind's default is 8 MiB): progress is per chunk
  local function connect()
    return luasible.connect({ connection = "podman", host = name, name = "box",
      vars = { ansible_podman_chunk = 1024 * 1024 } })
  end
  -- what runs in the container, as its ps shows it
  local function alive(conn, what)
    local r
    if conn then r = assert(conn:execute("ps -o args"))
    else
      local _, out = sh("podman exec " .. name .. " ps -o args")
      r = { stdout = out }
    end
    -- the process itself (a line of its own), not a shell whose command holds the text
    return ("\n" .. r.stdout):find("\n" .. what .. "%s*\n") ~= nil
  end
  contract(connect, alive)

  it("ansible_user and become's user are podman exec -u; a play runs on it", function()
    run(function()
      local conn <close> = assert(connect())
      assert.equal("0\n", assert(conn:execute("id -u")).stdout)
      assert.equal("65534\n", assert(conn:execute("id -u", { user = "nobody" })).stdout)
    end)
    local dir = files.tmpdir()
    files.write(dir .. "/inv.yml", "all:\n  hosts:\n    c1:\n      ansible_connection: podman\n"
      .. "      ansible_host: " .. name .. "\n      ansible_user: nobody\n")
    local lines = {}
    local recap, details = assert(require("luasible.play").play(
      { hosts = "all", tasks = { { name = "who", shell = "id -u; echo live" },
        { name = "write", copy = { content = "as root\n", dest = "/tmp/by-copy.txt", mode = "0600" }, become = true },
        { name = "read", shell = "cat /tmp/by-copy.txt; stat -c '%U %a' /tmp/by-copy.txt", become = true } } },
      { inventory = dir .. "/inv.yml", base_dir = dir, on_event = function(ev)
        if ev.type == "stdout" then lines[#lines + 1] = ev.data end
      end }))
    assert.equal(0, recap.c1.failed)
    assert.equal("65534\nlive", (details.hosts.c1[1].result.stdout:gsub("\n$", "")))
    assert.same({ "65534", "live", "as root", "root 600" }, lines)
  end)

  it("transfers go in 8 MiB chunks by default: one exec for a small file, progress at its start and end", function()
    run(function()
      local conn <close> = assert(luasible.connect({ connection = "podman", host = name }))
      local seen = {}
      local data = string.rep("x", 3 * 1024 * 1024)
      assert(conn:put(data, "/tmp/plugin-big.bin",
        { content = true, on_progress = function(p) seen[#seen + 1] = p end }))
      assert.same({ 0, #data, #data }, { seen[1].bytes_done, seen[2].bytes_done, seen[3].bytes_done })
      assert.equal(3, #seen)
      assert.equal(tostring(#data), assert(conn:execute("wc -c < /tmp/plugin-big.bin")).stdout:match("%d+"))
    end)
  end)

  it("a container that is not there: the CLI's error as the command's", function()
    run(function()
      local conn <close> = assert(luasible.connect({ connection = "podman", host = "no-such-container-x" }))
      local r = assert(conn:execute("true"))
      assert.is_false(r.ok)
      assert.truthy(r.stderr:find("no-such-container-x", 1, true), r.stderr)
    end)
  end)
end)

describe("the docker kind", function()
  if not sh("command -v docker >/dev/null") then pending("no docker CLI") return end
  local up = sh("docker version --format '{{.Server.Version}}' >/dev/null")
  if up then pending("a docker daemon runs here: the podman specs cover the kind; not run against docker") return end
  -- the real docker CLI without a daemon (this machine): what it says reaches the result
  it("goes through the docker CLI: its failure (no daemon) is the command's result, with its message", function()
    run(function()
      local conn <close> = assert(luasible.connect({ connection = "docker", host = "web",
        vars = { ansible_docker_extra_args = "-H unix:///nonexistent/docker.sock" } }))
      local r = assert(conn:execute("echo hi"))
      assert.is_false(r.ok)
      assert.truthy(r.stderr:find("/nonexistent/docker.sock", 1, true), r.stderr)
    end)
  end)
end)
