-- Resource errors fail closed, each with its own name and the file or call
-- that hit it (issue 8, finding 1): out of file descriptors (a child
-- lua5.4 under `ulimit -n`), a known_hosts or key file that exists but
-- cannot be read (a folder, chmod 000 as a user that is not root, EMFILE),
-- a known_hosts that accept-new cannot append to. Never a false
-- EHOSTUNREACH or EHOSTKEY, never a key trusted without being recorded.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

local ROOT = os.getenv("PWD")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Run a Lua script in a child lua5.4 on the in-tree library, with
-- o.nofile (ulimit -n) and o.as_nobody (setpriv: uid and gid 65534).
-- Returns what it printed.
local function child(dir, script, o)
  o = o or {}
  local path = dir .. "/child.lua"
  files.write(path, "package.path = " .. ("%q"):format(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;")
    .. " .. package.path\npackage.cpath = " .. ("%q"):format(ROOT .. "/?.so;") .. " .. package.cpath\n" .. script)
  local cmd = "lua5.4 " .. q(path)
  if o.as_nobody then cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups env USER=nobody " .. cmd end
  if o.nofile then cmd = "ulimit -n " .. o.nofile .. " && " .. cmd end
  local p = io.popen("cd " .. q(ROOT) .. " && (" .. cmd .. ") 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

-- the lines "NAME\nmessage" a child printed for a failed connect
local function name_and_error(out)
  return out:match("^(%S+)\n(.-)\n?$")
end

local function is_root() return (files.sh("id -u")) == "0" end

describe("#ssh resource errors fail closed", function()
  local srv, dir
  lazy_setup(function()
    srv = sshd.start { config = { "MaxStartups 1000" } }
    dir = files.tmpdir()
    os.execute("chmod 755 " .. q(dir))
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local function spec(extra)
    local s = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, agent = false, ssh_config = false, connect_timeout = 10 }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end

  -- connect with `extra`: refused with `want` as the name; the message
  local function refused(extra, want)
    local c, err, name = luasible.connect(spec(extra))
    assert.is_nil(c)
    assert.are.equal(want, name, err)
    return err
  end

  local function folder(name)
    local d = dir .. "/" .. name
    assert(os.execute("mkdir -p " .. q(d)))
    return d
  end

  -- a child that connects with `extra` (a Lua table constructor's text),
  -- with `free` (when given) file descriptors left; prints name, message
  local function connect_script(extra, free)
    return ([[
local luasible = require "luasible"
require "luasible.ssh" -- loaded before the descriptors are taken
local held, free = {}, %d
while free >= 0 do local f = io.open("/dev/null") if not f then break end held[#held + 1] = f end
for _ = 1, free do table.remove(held):close() end
local spec = { host = "127.0.0.1", port = %d, user = %q, identity = %q, agent = false,
  ssh_config = false }
for k, v in pairs(%s) do spec[k] = v end
local c, err, name = luasible.connect(spec)
if c then print("connected") else io.write(tostring(name), "\n", tostring(err), "\n") end
]]):format(free or -1, srv.port, srv.user, srv.key, extra)
  end

  it("500 hosts with 64 file descriptors: each host that fails says EMFILE, the recap is clear", function()
    local lines = { "[all:vars]", "ansible_host=127.0.0.1", "ansible_port=" .. srv.port,
      "ansible_user=" .. srv.user, "ansible_ssh_private_key_file=" .. srv.key,
      "luasible_known_hosts=" .. srv.known_hosts, "luasible_ssh_config=none", "luasible_ssh_agent=false",
      "[web]" }
    for i = 1, 500 do lines[#lines + 1] = "h" .. i end
    files.write(dir .. "/inventory.ini", table.concat(lines, "\n") .. "\n")
    files.write(dir .. "/play.lua", 'return { hosts = "web", tasks = { { name = "t", command = "true" } } }\n')
    local p = io.popen("cd " .. q(ROOT) .. " && ulimit -n 64 && bin/luasible run " .. q(dir .. "/play.lua")
      .. " -i " .. q(dir .. "/inventory.ini") .. " -f 500 2>&1; echo \"exit=$?\"")
    local out = p:read("a")
    p:close()
    local names, ok, recap = {}, 0, 0
    for line in out:gmatch("[^\n]+") do
      local name = line:match("^unreachable: %[h%d+%] (%u+):") or line:match("^fatal: %[h%d+%][^%u]*(%u+):")
      if name then names[name] = (names[name] or 0) + 1 end
      if line:match("^changed: %[h%d+%]") then ok = ok + 1 end
      if line:match("^h%d+%s+: ok=%d+") then recap = recap + 1 end
    end
    assert.is_nil(names.EHOSTKEY, out:sub(1, 2000))
    assert.is_nil(names.EHOSTUNREACH, out:sub(1, 2000))
    assert.is_true((names.EMFILE or 0) > 100, "EMFILE named for " .. tostring(names.EMFILE) .. " hosts")
    assert.is_true(ok > 0, "some hosts ran")
    assert.are.equal(500, ok + names.EMFILE)
    assert.are.equal(500, recap) -- one recap line per host
    assert.truthy(out:find("EMFILE: socket() for " .. srv.user .. "@127.0.0.1:" .. srv.port
      .. ": Too many open files", 1, true))
    assert.truthy(out:find("exit=4\n", 1, true))
  end)

  for _, check in ipairs { "strict", "accept-new" } do
    it("a known_hosts read that hits EMFILE is EMFILE, never an unknown key (" .. check .. ")", function()
      local kh = dir .. "/kh_emfile_" .. check
      -- another host's entry: under accept-new the old code appended ours
      local other = "otherhost " .. files.read(srv.key .. ".pub"):match("^(%S+ %S+)") .. "\n"
      files.write(kh, other)
      -- one descriptor free: the socket takes it, the known_hosts read finds none
      local out = child(dir, connect_script(("{ known_hosts = %q, host_key_check = %q }"):format(kh, check), 1),
        { nofile = 64 })
      local name, err = name_and_error(out)
      assert.are.equal("EMFILE", name, out)
      assert.matches("^EMFILE: cannot read known_hosts " .. kh:gsub("%p", "%%%0") .. ": Too many open files", err)
      assert.are.equal(other, files.read(kh)) -- nothing appended
    end)

    it("a folder at the known_hosts path is EISDIR, never empty (" .. check .. ")", function()
      local kh = folder("kh_dir_" .. check)
      local err = refused({ known_hosts = kh, host_key_check = check }, "EISDIR")
      assert.matches("^EISDIR: cannot read known_hosts " .. kh:gsub("%p", "%%%0")
        .. ": Is a directory: the host key of 127%.0%.0%.1:" .. srv.port .. " %(ssh%-ed25519 SHA256:", err)
      assert.are.equal("", (files.sh("ls -A " .. q(kh)))) -- nothing written into it
    end)

    it("a known_hosts chmod 000 is EACCES as a user that is not root (" .. check .. ")", function()
      local kh = dir .. "/kh_000_" .. check
      files.write(kh, files.read(srv.known_hosts))
      local opts
      if is_root() then
        os.execute("chown 65534:65534 " .. q(kh))
        opts = { as_nobody = true }
      end
      os.execute("chmod 000 " .. q(kh))
      local out = child(dir, connect_script(("{ known_hosts = %q, host_key_check = %q, user = %q }")
        :format(kh, check, srv.user)), opts)
      local name, err = name_and_error(out)
      assert.are.equal("EACCES", name, out)
      assert.matches("^EACCES: cannot read known_hosts " .. kh:gsub("%p", "%%%0") .. ": Permission denied", err)
      os.execute("chmod 600 " .. q(kh))
      assert.are.equal(files.read(srv.known_hosts), files.read(kh)) -- never appended
    end)
  end

  it("host_key_check = \"off\" and pins do not need known_hosts: an unreadable one does not stop them", function()
    local kh = folder("kh_dir_off")
    local c = assert(luasible.connect(spec { known_hosts = kh, host_key_check = "off" }))
    c:close()
    c = assert(luasible.connect(spec { known_hosts = kh, host_key = srv.host_key_fingerprint }))
    c:close()
  end)

  it("accept-new that cannot record the key does not trust it (EACCES), as a user that is not root", function()
    if not is_root() then pending("needs root (to run a child as nobody)") return end
    local ro = dir .. "/readonly"
    assert(os.execute("mkdir -p " .. q(ro) .. " && chmod 755 " .. q(ro))) -- root's: nobody cannot write
    local kh = ro .. "/known_hosts" -- missing: the key is unknown
    local out = child(dir, connect_script(("{ known_hosts = %q, host_key_check = 'accept-new', user = %q }")
      :format(kh, srv.user)), { as_nobody = true })
    local name, err = name_and_error(out)
    assert.are.equal("EACCES", name, out)
    assert.matches("^EACCES: cannot append to " .. kh:gsub("%p", "%%%0")
      .. ": Permission denied %(the host key of 127%.0%.0%.1:" .. srv.port
      .. ", ssh%-ed25519 SHA256:.*, was not trusted%)$", err)
    assert.is_nil(files.read(kh))
  end)

  it("accept-new makes the known_hosts folder when it is missing, as OpenSSH", function()
    local kh = dir .. "/new/.ssh/known_hosts"
    local c = assert(luasible.connect(spec { known_hosts = kh, host_key_check = "accept-new" }))
    c:close()
    assert.matches("^%[127%.0%.0%.1%]:" .. srv.port .. " ssh%-ed25519 ", files.read(kh))
    assert.are.equal("700", (files.sh("stat -c %a " .. q(dir .. "/new/.ssh"))))
  end)

  it("a key file that cannot be read is named: a folder (EISDIR), chmod 000 (EACCES), EMFILE", function()
    local kdir = folder("key_dir")
    local err = refused({ identity = kdir }, "EISDIR")
    assert.are.equal("EISDIR: cannot read key file " .. kdir .. " for " .. srv.user .. "@127.0.0.1:" .. srv.port
      .. ": Is a directory", err)
    if is_root() then
      local key = dir .. "/key_000"
      files.write(key, files.read(srv.key))
      os.execute("chown 65534:65534 " .. q(key) .. " && chmod 000 " .. q(key))
      local out = child(dir, connect_script(("{ identity = %q, host_key = %q, user = %q }")
        :format(key, srv.host_key_fingerprint, srv.user)), { as_nobody = true })
      local n2, e2 = name_and_error(out)
      assert.are.equal("EACCES", n2, out)
      assert.matches("^EACCES: cannot read key file " .. key:gsub("%p", "%%%0") .. " for ", e2)
    end
    -- every descriptor taken once the session is up: the key file read is EMFILE
    local out = child(dir, [[
local luasible = require "luasible"
local core = require "luasible.core"
local sess = core.ssh_connect { host = "127.0.0.1", port = ]] .. srv.port .. [[, user = "]] .. srv.user
      .. [[", identities = { { path = "]] .. srv.key .. [[" } }, agent = false }
require("luasible.scheduler").wait(sess)
local held = {}
while true do local f = io.open("/dev/null") if not f then break end held[#held + 1] = f end
sess:accept_host_key()
require("luasible.scheduler").wait(sess)
local err, name = sess:error()
io.write(tostring(name), "\n", tostring(err), "\n")
]], { nofile = 64 })
    local n3, e3 = name_and_error(out)
    assert.are.equal("EMFILE", n3, out)
    assert.are.equal("EMFILE: cannot read key file " .. srv.key .. " for " .. srv.user .. "@127.0.0.1:" .. srv.port
      .. ": Too many open files", e3)
  end)

  it("an ssh_config that cannot be read is named, never taken for none", function()
    local cdir = folder("config_dir")
    assert.matches(cdir, refused({ ssh_config = cdir }, "EISDIR"), 1, true)
  end)

  it("a local command out of descriptors: EMFILE and the call (pipe()), not a vague failure", function()
    local out = child(dir, [[
local luasible = require "luasible"
local conn = luasible.connect()
local held = {}
while true do local f = io.open("/dev/null") if not f then break end held[#held + 1] = f end
local res, err, name = conn:execute("true")
io.write(tostring(name), "\n", tostring(err), "\n")
]], { nofile = 64 })
    local name, err = name_and_error(out)
    assert.are.equal("EMFILE", name, out)
    assert.are.equal("EMFILE: pipe() for '/bin/sh': too many open files", err)
  end)
end)
