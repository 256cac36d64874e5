-- Plays over SSH against ONE real OpenSSH server on loopback, reached as
-- three inventory hosts web1, web2, web3 (the same machine, three names):
-- inventories in INI, YAML and Lua, live per-host output, concurrency and
-- forks, unreachable and failing hosts, become through sudo, copy/template/
-- fetch over SFTP with transfer progress, idempotence, --check, and the CLI
-- as a process (--json, exit codes, no secrets in the output).
local luasible = require "luasible"
local plays = require "luasible.play"
local sshd = require "spec.helpers.sshd"
local cjson = require "cjson"

local files = require "spec.helpers.files"
local sh = files.run
local read, write = files.read, files.write

-- A 127.0.0.1 port where nothing listens: bound (so that no other process,
-- such as another test's sshd, can take it) but never listening, so every
-- connect is refused. Without luasocket: a free port from /proc/net/tcp.
local held_socket
local function dead_port()
  local ok, socket = pcall(require, "socket")
  if ok and type(socket.tcp) == "function" then
    held_socket = socket.tcp()
    if held_socket:bind("127.0.0.1", 0) then return (select(2, held_socket:getsockname())) end
  end
  local busy = {}
  for _, file in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    for port in (read(file) or ""):gmatch("\n%s*%d+:%s+%x+:(%x+)%s+%x+:%x+%s+0A") do busy[tonumber(port, 16)] = true end
  end
  for port = 29000, 29999 do if not busy[port] then return port end end
end

local IS_ROOT = sh("id -u"):match("^0") ~= nil

describe("#ssh plays over SSH (one loopback sshd, hosts web1..web3)", function()
  local srv, TMP, DEAD
  local HOSTS = { "web1", "web2", "web3" }

  -- the connection variables of one host, as a user writes them
  local function conn_vars(extra)
    local v = { ansible_host = "127.0.0.1", ansible_port = srv.port, ansible_user = srv.user,
      ansible_ssh_private_key_file = srv.key, luasible_known_hosts = srv.known_hosts,
      luasible_ssh_config = "none" }
    for k, x in pairs(extra or {}) do v[k] = x end
    return v
  end

  local function lua_inventory(extra_hosts)
    local hosts = {}
    for _, h in ipairs(HOSTS) do hosts[h] = {} end
    local inv = { all = { vars = conn_vars(), children = { web = { hosts = hosts } } } }
    if extra_hosts then inv.all.children.other = { hosts = extra_hosts } end
    return inv
  end

  local function ini_inventory(path, extra)
    local lines, v, keys = { "[web]", "web[1:3]", extra or "", "[all:vars]" }, conn_vars(), {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do lines[#lines + 1] = k .. "=" .. v[k] end
    write(path, table.concat(lines, "\n") .. "\n")
    return path
  end

  local function play(p, opts)
    local events = {}
    opts = opts or {}
    opts.inventory = opts.inventory or lua_inventory()
    opts.on_event = function(ev) events[#events + 1] = ev end
    local recap, details = plays.play(p, opts)
    assert(recap, details)
    return recap, events, details
  end

  local function by_type(events, ty, task)
    local out = {}
    for _, ev in ipairs(events) do
      if ev.type == ty and (task == nil or ev.task == task) then out[#out + 1] = ev end
    end
    return out
  end

  local function cli(args)
    local errf = TMP .. "/cli.stderr"
    local out, _, code = sh("bin/luasible " .. args .. " 2>" .. errf)
    return out, code, read(errf) or ""
  end

  lazy_setup(function()
    srv = sshd.start { aliases = { "web1", "web2", "web3" }, password_user = IS_ROOT }
    TMP = sh("mktemp -d /tmp/luasible-play-ssh.XXXXXX"):match("[^\n]+")
    DEAD = dead_port()
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    if held_socket then held_socket:close() end
    if TMP then os.execute("rm -rf '" .. TMP .. "'") end
  end)

  it("reads the SSH hosts from INI, YAML and Lua inventories and runs over SSH", function()
    local yml = TMP .. "/inv.yml"
    write(yml, table.concat({
      "all:",
      "  vars:",
      "    ansible_host: 127.0.0.1",
      "    ansible_port: " .. srv.port,
      "    ansible_user: " .. srv.user,
      "    ansible_ssh_private_key_file: " .. srv.key,
      "    luasible_known_hosts: " .. srv.known_hosts,
      "    luasible_ssh_config: none",
      "  children:",
      "    web:",
      "      hosts:",
      "        web[1:3]:",
    }, "\n") .. "\n")
    local lua_file = TMP .. "/inv.lua"
    local function lua_src(v)
      if type(v) ~= "table" then return string.format("%q", v) end
      local parts = {}
      for k, x in pairs(v) do parts[#parts + 1] = "[" .. string.format("%q", k) .. "] = " .. lua_src(x) end
      return "{ " .. table.concat(parts, ", ") .. " }"
    end
    write(lua_file, "return " .. lua_src(lua_inventory()))
    for _, inv in ipairs({ ini_inventory(TMP .. "/inv.ini"), yml, lua_file, lua_inventory() }) do
      -- sshd puts LUASIBLE_TEST_SSHD=<its dir> into every session: proof that it ran over SSH
      local recap, events = play({ hosts = "web", tasks = {
        { name = "where", shell = "echo {{ inventory_hostname }} $LUASIBLE_TEST_SSHD" } } }, { inventory = inv })
      local seen = {}
      for _, ev in ipairs(by_type(events, "stdout", "where")) do seen[ev.host] = ev.data end
      for _, h in ipairs(HOSTS) do
        assert.equal(h .. " " .. srv.dir, seen[h], "inventory " .. tostring(inv))
        assert.equal(1, recap[h].changed)
      end
    end
  end)

  it("streams every host's lines live and runs the hosts at once", function()
    local t0 = luasible.now()
    local recap, events = play({ hosts = "web", tasks = {
      { name = "slow", shell = "echo start {{ inventory_hostname }}; sleep 1; echo end {{ inventory_hostname }}" },
    } })
    local elapsed = luasible.now() - t0
    assert.is_true(elapsed < 1.8, "3 hosts x sleep 1 took " .. elapsed .. " s")
    local start_at, result_at = {}, {}
    for _, ev in ipairs(events) do
      if ev.type == "stdout" and ev.data:match("^start ") then
        assert.equal("start " .. ev.host, ev.data)
        start_at[ev.host] = ev.timestamp
      end
      if ev.type == "host_task_result" then result_at[ev.host] = ev.timestamp end
    end
    for _, h in ipairs(HOSTS) do
      assert.equal(1, recap[h].changed)
      -- the first line was delivered while the command still ran
      assert.is_true(result_at[h] - start_at[h] > 0.8, h .. ": line not live")
    end
    -- every host's first line comes before any host's last line
    local last_start, first_end = 0, math.huge
    for i, ev in ipairs(events) do
      if ev.type == "stdout" and ev.data:match("^start ") then last_start = i end
      if ev.type == "stdout" and ev.data:match("^end ") then first_end = math.min(first_end, i) end
    end
    assert.is_true(last_start < first_end)
  end)

  it("runs at most `forks` hosts at once", function()
    for _, forks in ipairs({ 1, 2 }) do
      local t0 = luasible.now()
      local _, events = play({ hosts = "web", forks = forks, tasks = { { name = "s", shell = "sleep 0.3" } } })
      local elapsed = luasible.now() - t0
      local busy, most = 0, 0
      for _, ev in ipairs(events) do
        if ev.type == "host_task_start" then busy = busy + 1; most = math.max(most, busy) end
        if ev.type == "host_task_result" then busy = busy - 1 end
      end
      assert.equal(forks, most)
      local rounds = math.ceil(3 / forks)
      assert.is_true(elapsed >= 0.3 * rounds - 0.05, "forks=" .. forks .. " took " .. elapsed)
      -- (how many ran at once is `most`; this bound only catches a stall:
      -- connects and the loop's turns under a loaded machine vary by a second)
      assert.is_true(elapsed < 0.3 * rounds + 2.5, "forks=" .. forks .. " took " .. elapsed)
    end
  end)

  it("reports a host nobody answers for as unreachable and carries on with the others", function()
    local inv = lua_inventory({ dead = { ansible_port = DEAD } })
    local recap, events = play({ hosts = "all", tasks = {
      { name = "one", shell = "true" }, { name = "two", shell = "echo two" } } }, { inventory = inv })
    assert.same({ ok = 0, changed = 0, failed = 0, unreachable = 1, skipped = 0, ignored = 0 }, recap.dead)
    local r = by_type(events, "host_task_result", "one")
    for _, ev in ipairs(r) do
      if ev.host == "dead" then
        assert.equal("unreachable", ev.status)
        assert.truthy(ev.result.msg:find("ECONNREFUSED", 1, true), ev.result.msg)
        assert.truthy(ev.result.msg:find(tostring(DEAD), 1, true), ev.result.msg)
      end
    end
    for _, h in ipairs(HOSTS) do assert.equal(2, recap[h].changed) end
    for _, ev in ipairs(by_type(events, "host_task_start", "two")) do assert.not_equal("dead", ev.host) end
    assert.equal(4, plays.exit_code(recap))
  end)

  it("drops a failing host from the later tasks", function()
    local recap, events = play({ hosts = "web", tasks = {
      { name = "maybe", shell = "test {{ inventory_hostname }} != web2" },
      { name = "next", shell = "echo next" } } })
    assert.equal(1, recap.web2.failed)
    assert.equal(2, recap.web1.changed)
    assert.equal(2, recap.web3.changed)
    for _, ev in ipairs(by_type(events, "host_task_start", "next")) do assert.not_equal("web2", ev.host) end
    assert.equal(2, plays.exit_code(recap))
  end)

  it("meta: reset_connection logs in again (a new sshd session), for the hosts its when holds", function()
    -- $PPID of a command is the sshd session of its connection: the same for
    -- every command of one connection, another after a new login
    local recap, events = play({ hosts = "web", tasks = {
      { name = "a", shell = "echo $PPID" },
      { name = "b", shell = "echo $PPID" },
      { name = "reset", meta = "reset_connection", when = "inventory_hostname != 'web3'" },
      { name = "c", shell = "echo $PPID" } } })
    local pid = {}
    for _, t in ipairs({ "a", "b", "c" }) do
      for _, ev in ipairs(by_type(events, "stdout", t)) do
        pid[ev.host] = pid[ev.host] or {}
        pid[ev.host][t] = ev.data
      end
    end
    for _, h in ipairs(HOSTS) do
      assert.equal(0, recap[h].failed)
      assert.equal(pid[h].a, pid[h].b, h)
    end
    assert.not_equal(pid.web1.b, pid.web1.c)
    assert.not_equal(pid.web2.b, pid.web2.c)
    assert.equal(pid.web3.b, pid.web3.c) -- its when was false: the same connection
  end)

  it("becomes another user through sudo over SSH", function()
    local _, has_sudo = sh("command -v sudo >/dev/null")
    local _, can = sh("sudo -n -u nobody true 2>/dev/null")
    if not (has_sudo and can) then
      pending("needs sudo that lets " .. srv.user .. " run commands as nobody without a password")
      return
    end
    local recap, events = play({ hosts = "web", tasks = {
      { name = "who", command = "id -un", become = true, become_user = "nobody" },
      { name = "me", command = "id -un" } } })
    for _, h in ipairs(HOSTS) do assert.equal(0, recap[h].failed) end
    for _, ev in ipairs(by_type(events, "stdout", "who")) do assert.equal("nobody", ev.data) end
    assert.equal(3, #by_type(events, "stdout", "who"))
    for _, ev in ipairs(by_type(events, "stdout", "me")) do assert.equal(srv.user, ev.data) end
  end)

  it("copy and template with become write through sudo with the content on stdin, not a command line", function()
    local _, has_sudo = sh("command -v sudo >/dev/null")
    local _, can = sh("sudo -n -u " .. srv.user .. " true 2>/dev/null")
    if not (has_sudo and can) then
      pending("needs sudo that lets " .. srv.user .. " run commands as itself without a password")
      return
    end
    local secret = "s3cret-" .. math.random(1e9)
    local lines = {}
    local function connect()
      local c = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user,
        identity = srv.key, known_hosts = srv.known_hosts, ssh_config = "none" })
      return { kind = "ssh", streaming = true,
        execute = function(_, cmd, o)
          lines[#lines + 1] = type(cmd) == "table" and table.concat(cmd, " ") or cmd
          return c:execute(cmd, o)
        end,
        stream = function(_, ...) return c:stream(...) end,
        put = function() error("put must not be used under become") end,
        close = function() c:close() end }
    end
    write(TMP .. "/secret.tmpl", "key={{ key }}\n")
    local dest = TMP .. "/become-secret"
    local recap, _, details = play({ hosts = "web1", become = true, become_user = srv.user, vars = { key = secret },
      tasks = {
        { copy = { content = secret .. "\n", dest = dest, mode = "0600" } },
        { template = { src = TMP .. "/secret.tmpl", dest = dest .. ".conf", mode = "0640" } },
        { lineinfile = { path = dest, line = "more " .. secret } },
      } }, { connect = connect })
    assert.equal(0, recap.web1.failed, require("luasible.json").encode(details))
    assert.equal(3, recap.web1.changed)
    assert.equal(secret .. "\nmore " .. secret .. "\n", read(dest))
    assert.equal("key=" .. secret .. "\n", read(dest .. ".conf"))
    assert.equal("600", sh("stat -c %a " .. dest):match("%d+"))
    assert.equal("640", sh("stat -c %a " .. dest .. ".conf"):match("%d+"))
    local b64 = files.base64
    for _, l in ipairs(lines) do
      assert.is_nil(l:find(secret, 1, true), l)
      for _, c in ipairs({ secret .. "\n", "key=" .. secret .. "\n", secret .. "\nmore " .. secret .. "\n" }) do
        assert.is_nil(l:find(b64(c):sub(1, 16), 1, true), l)
      end
    end
    assert.truthy(#lines > 3)
  end)

  it("quotes every value it puts into a remote shell command", function()
    -- no "/" in it, so that it can be a file name; a touch would land in the login folder
    local mark = "luasible-injected-" .. math.random(1e9)
    local evil = "x'; touch " .. mark .. "; echo '$(touch " .. mark .. ")`touch " .. mark .. "`\"\\"
    local recap, events = play({ hosts = "web1", tasks = {
      { name = "port up", wait_for = { port = srv.port, host = "127.0.0.1", timeout = 3 } },
      { name = "evil host", wait_for = { port = 22, host = "127.0.0.1/1;touch " .. mark .. ";:", timeout = 0.2,
        sleep = 0.1 }, ignore_errors = true },
      { name = "evil file", file = { path = TMP .. "/" .. evil, state = "touch" } },
      { name = "evil copy", copy = { content = "x", dest = TMP .. "/c " .. evil } },
      { name = "evil line", lineinfile = { path = TMP .. "/c " .. evil, line = evil } },
    } })
    assert.equal(0, recap.web1.failed, require("luasible.json").encode(by_type(events, "host_task_result")))
    assert.equal(1, recap.web1.ignored)
    local _, ok = srv:ssh("test -e " .. mark)
    assert.is_false(ok, "a value was run as code")
    assert.equal("x\n" .. evil .. "\n", read(TMP .. "/c " .. evil))
  end)

  describe("files", function()
    local SRC, TPL, size
    lazy_setup(function()
      SRC = TMP .. "/big.bin"
      local chunk = {}
      for i = 0, 255 do chunk[#chunk + 1] = string.char(i) end
      write(SRC, table.concat(chunk):rep(3 * 4096 + 7)) -- about 3 MiB, odd size
      size = #read(SRC)
      TPL = TMP .. "/app.conf.tmpl"
      write(TPL, "# {{ app }} on {{ inventory_hostname }}\nport = {{ port }}\n")
    end)

    local function files_play(port)
      return { hosts = "web", vars = { app = "shop", port = port, root = TMP .. "/hosts/{{ inventory_hostname }}" },
        tasks = {
          { name = "dir", file = { path = "{{ root }}", state = "directory", mode = "0755" } },
          { name = "copy", copy = { src = SRC, dest = "{{ root }}/big.bin", mode = "0640" } },
          { name = "template", template = { src = TPL, dest = "{{ root }}/app.conf" } },
          { name = "fetch", fetch = { src = "{{ root }}/app.conf", dest = TMP .. "/fetched" } },
        } }
    end

    it("copy, template and fetch move files over SFTP with transfer progress", function()
      local recap, events = play(files_play(8080))
      local sha = sh("sha256sum " .. SRC):match("^(%x+)")
      for _, h in ipairs(HOSTS) do
        assert.equal(4, recap[h].changed, h)
        local root = TMP .. "/hosts/" .. h
        assert.equal(read(SRC), read(root .. "/big.bin"))
        assert.equal("640", (sh("stat -c %a " .. root .. "/big.bin"):gsub("%s", "")))
        assert.equal("# shop on " .. h .. "\nport = 8080\n", read(root .. "/app.conf"))
        assert.equal(read(root .. "/app.conf"), read(TMP .. "/fetched/" .. h .. root .. "/app.conf"))
      end
      -- transfer progress per host: stage, sizes, the checksum the SFTP path verified
      for _, task in ipairs({ "copy", "template", "fetch" }) do
        local per = {}
        for _, ev in ipairs(by_type(events, "progress", task)) do
          assert.equal("transferring", ev.progress.stage)
          per[ev.host] = per[ev.host] or {}
          table.insert(per[ev.host], ev.progress)
        end
        for _, h in ipairs(HOSTS) do
          local ps = assert(per[h], task .. ": no progress for " .. h)
          local last = ps[#ps]
          assert.equal(last.bytes_total, last.bytes_done)
          assert.is_string(last.sha256) -- only conn:put/get report it
          if task == "copy" then
            assert.equal(size, last.bytes_total)
            assert.equal(sha, last.sha256)
            assert.is_true(#ps >= 3, "only " .. #ps .. " progress events for 3 MiB")
          end
        end
      end
    end)

    it("changes nothing on a second run, nor under --check", function()
      play(files_play(8080))
      local recap = play(files_play(8080))
      for _, h in ipairs(HOSTS) do
        assert.same({ ok = 4, changed = 0, failed = 0, unreachable = 0, skipped = 0, ignored = 0 }, recap[h])
      end
      local conf = read(TMP .. "/hosts/web1/app.conf")
      local recap2, events = play(files_play(9090), { check = true })
      for _, h in ipairs(HOSTS) do assert.equal(1, recap2[h].changed, h) end
      for _, ev in ipairs(by_type(events, "host_task_result", "template")) do
        assert.truthy(ev.result.msg:find("would write", 1, true))
      end
      assert.equal(conf, read(TMP .. "/hosts/web1/app.conf"))
      assert.equal(0, #by_type(events, "progress"))
    end)
  end)

  describe("the CLI as a process", function()
    local PLAY
    lazy_setup(function()
      PLAY = TMP .. "/play.lua"
      write(PLAY, [[
return { name = "cli", hosts = "all", tasks = {
  { name = "hello", shell = "echo hello from {{ inventory_hostname }}; echo warn >&2" },
  { name = "maybe fail", shell = "test {{ inventory_hostname }} != {{ fail_on | default('none') }}" },
  { name = "after", command = "true" },
} }
]])
    end)

    it("prints each event as a JSON line and exits 0", function()
      local out, code, err = cli("run " .. PLAY .. " -i " .. ini_inventory(TMP .. "/cli.ini") .. " --json")
      assert.equal(0, code, err)
      local lines, types = {}, {}
      for l in out:gmatch("[^\n]+") do
        local ev = cjson.decode(l)
        types[ev.type] = (types[ev.type] or 0) + 1
        assert.is_number(ev.timestamp)
        if ev.type ~= "recap" then assert.equal("cli", ev.play) end
        if ev.type == "stdout" or ev.type == "stderr" then
          assert.equal("hello", ev.task)
          lines[#lines + 1] = ev.host .. " " .. ev.type .. " " .. ev.data
        end
        if ev.type == "host_task_result" then assert.is_table(ev.result) end
      end
      table.sort(lines)
      assert.same({ "web1 stderr warn", "web1 stdout hello from web1", "web2 stderr warn",
        "web2 stdout hello from web2", "web3 stderr warn", "web3 stdout hello from web3" }, lines)
      assert.equal(9, types.host_task_result)
      assert.equal(1, types.recap)
    end)

    it("exits 2 when a host fails and 4 when a host is unreachable", function()
      local inv = ini_inventory(TMP .. "/cli2.ini", "[down]\ndead ansible_port=" .. DEAD)
      local out, code = cli("run " .. PLAY .. " -i " .. inv .. " -l web -e fail_on=web2")
      assert.equal(2, code)
      assert.truthy(out:find("failed: [web2]", 1, true), out)
      assert.truthy(out:match("web1%s+: ok=3 "), out)
      assert.truthy(out:match("web2%s+: ok=1 .-failed=1"), out)
      out, code = cli("run " .. PLAY .. " -i " .. inv)
      assert.equal(4, code)
      assert.truthy(out:find("unreachable: [dead]", 1, true), out)
      assert.truthy(out:find("ECONNREFUSED", 1, true), out)
      assert.truthy(out:match("web3%s+: ok=3 "), out)
      out, code = cli("run " .. PLAY .. " -i " .. inv .. " -e fail_on=web1")
      assert.equal(4, code, out) -- unreachable wins over failed, as in Ansible
      -- connection variables follow the variable precedence: -e beats the inventory
      out, code = cli("run " .. PLAY .. " -i " .. inv .. " -l web1 -e ansible_port=" .. DEAD)
      assert.equal(4, code, out)
      assert.truthy(out:find("unreachable: [web1]", 1, true), out)
    end)

    it("Ctrl-C stops the commands on every SSH host (remote kills sent), shows the recap, exits 99", function()
      local p = TMP .. "/nap.lua"
      write(p, "return { hosts = 'web', tasks = { { name = 'nap', shell = 'echo pid $$; exec sleep 30' } } }")
      local lc = luasible.connect()
      local out, pids, final = {}, {}, nil
      local cmd = "exec bin/luasible run " .. p .. " -i " .. ini_inventory(TMP .. "/nap.ini")
      local iter, s = lc:stream({ "sh", "-c", cmd }, { timeout = 20 })
      local t0 = luasible.now()
      for ev in iter, s do
        if ev.type == "stdout" then
          out[#out + 1] = ev.data
          local pid = ev.data:match("| pid (%d+)$")
          if pid then
            pids[#pids + 1] = tonumber(pid)
            if #pids == 3 then os.execute("kill -INT " .. s:pid()) end
          end
        elseif ev.type == "done" or ev.type == "error" then final = ev end
      end
      local text = table.concat(out, "\n")
      assert.is_true(luasible.now() - t0 < 8, text)
      assert.equal(99, final.result.rc, text)
      assert.truthy(text:find("interrupted (SIGINT)", 1, true), text)
      assert.truthy(text:find("PLAY RECAP", 1, true), text)
      local alive = {}
      for _ = 1, 40 do
        alive = {}
        for _, pid in ipairs(pids) do
          if sh("ps -o stat= -p " .. pid):match("^[^Z%s]") then alive[#alive + 1] = pid end
        end
        if #alive == 0 then break end
        os.execute("sleep 0.05")
      end
      assert.same({}, alive, "remote commands still run")
    end)

    it("--check over SSH changes nothing on the hosts", function()
      local f = TMP .. "/check-target"
      local p = TMP .. "/check.lua"
      write(p, "return { hosts = 'web', tasks = { { copy = { content = 'new', dest = '" .. f
        .. "-{{ inventory_hostname }}' } } } }")
      local out, code = cli("run " .. p .. " -i " .. ini_inventory(TMP .. "/cli3.ini") .. " --check")
      assert.equal(0, code, out)
      assert.truthy(out:find("changed: [web1] => would write " .. f .. "-web1", 1, true), out)
      for _, h in ipairs(HOSTS) do assert.is_nil(read(f .. "-" .. h)) end
    end)

    it("never shows a password, not even in --json", function()
      if not IS_ROOT then
        pending("password login needs the helper's password user (root only)")
        return
      end
      local pw, become_pw = srv.password, "b3come-s3cret"
      local inv = TMP .. "/pw.ini"
      write(inv, table.concat({
        "[pw]",
        "pw1 ansible_host=127.0.0.1 ansible_port=" .. srv.port .. " ansible_user=" .. srv.password_user
          .. " ansible_password='" .. pw .. "' ansible_become_password='" .. become_pw .. "'"
          .. " luasible_known_hosts=" .. srv.known_hosts .. " luasible_ssh_config=none luasible_ssh_agent=false",
      }, "\n") .. "\n")
      local p = TMP .. "/pw.lua"
      write(p, [[
return { hosts = "pw", tasks = {
  { name = "logged in", command = "id -un" },
  { name = "show", debug = { var = "hostvars" } },
  { name = "echo it", shell = "echo pw={{ ansible_password }} become={{ ansible_become_password }}" },
  { name = "sudo", command = "id -un", become = true, tags = "sudo" }, -- a wrong password: sudo waits 2 s
} }
]])
      for _, flags in ipairs({ "--json", "--skip-tags sudo -v", "-vv --skip-tags sudo -e ansible_password=" .. pw }) do
        local out, _, err = cli("run " .. p .. " -i " .. inv .. " " .. flags)
        local all = out .. err
        assert.truthy(all:find(srv.password_user, 1, true), all) -- it did log in
        assert.is_nil(all:find(pw, 1, true), "password leaked with " .. flags .. ":\n" .. all)
        assert.is_nil(all:find(become_pw, 1, true), "become password leaked with " .. flags .. ":\n" .. all)
        assert.truthy(all:find("********", 1, true))
      end
    end)
  end)
end)
