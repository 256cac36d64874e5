-- Agent forwarding (docs/SSH.md "Agent forwarding") against a real sshd and
-- a real ssh-agent started here (its own socket, its own key): OpenSSH's
-- client forwards it on this server (`ssh-add -l` on the host lists the
-- key, and an ssh from the host to a second host logs in with it), which
-- is what a user who asks for it expects; libssh2 1.10 cannot serve the
-- agent channels the server opens back, so luasible refuses every way of
-- asking (forward_agent, -A, -o ForwardAgent=yes, ssh_config ForwardAgent)
-- with the reason, before anything runs, and never connects pretending.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"
local resolve = require "luasible.ssh.resolve"
local ic = require "luasible.inventory.connect"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("#ssh agent forwarding", function()
  local srv, srv2, agent_sock, agent_pid

  lazy_setup(function()
    srv = sshd.start { aliases = { "web1" } }
    srv2 = sshd.start {} -- the second host, reached from the first one with the agent's key
    local f = assert(io.open(srv2.authorized_keys, "a"))
    f:write(files.read(srv.key .. ".pub"))
    f:close()
    agent_sock = srv.dir .. "/agent.sock"
    local out = files.sh("ssh-agent -a " .. q(agent_sock))
    agent_pid = assert(out:match("SSH_AGENT_PID=(%d+)"), out)
    assert(os.execute("SSH_AUTH_SOCK=" .. q(agent_sock) .. " ssh-add " .. q(srv.key) .. " 2>/dev/null"))
  end)
  lazy_teardown(function()
    if agent_pid then os.execute("kill " .. agent_pid) end
    if srv then srv:stop() end
    if srv2 then srv2:stop() end
  end)

  it("OpenSSH forwards this agent on this server: ssh-add -l lists its key, a second ssh uses it", function()
    local fp = files.sh("ssh-keygen -l -f " .. q(srv.key .. ".pub")):match("(SHA256:%S+)")
    local opts = { options = { "-A", "-o", "IdentityAgent=" .. agent_sock, "-o", "IdentitiesOnly=no" } }
    local out, ok = srv:ssh("ssh-add -l", opts)
    assert.is_true(ok, out)
    assert.truthy(out:find(fp, 1, true), out)
    -- from that host to the second one, with the forwarded agent (no key
    -- file of the user's there: ~/.ssh has none)
    local hop = ("ssh -p %d -o BatchMode=yes -o UserKnownHostsFile=%s"
      .. " -o StrictHostKeyChecking=yes %s@127.0.0.1 echo second-host"):format(srv2.port, srv2.known_hosts, srv2.user)
    out, ok = srv:ssh(hop, opts)
    assert.is_true(ok, out)
    assert.equal("second-host\n", out)
    -- without the agent the same hop is refused: the agent did the work
    local _, ok2 = srv:ssh(hop, { options = { "-o", "IdentityAgent=none" } })
    assert.falsy(ok2)
  end)

  local function base(extra)
    local s = { host = "127.0.0.1", port = srv.port, user = srv.user, known_hosts = srv.known_hosts,
      agent = agent_sock, ssh_config = false }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end

  it("forward_agent = true is refused with the reason; false connects, with no agent on the host", function()
    local ok, err = pcall(luasible.connect, base { forward_agent = true })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("bad option 'forward_agent' to 'connect' (agent forwarding is not supported:"
      .. " libssh2 1.10", 1, true), err)
    assert.truthy(tostring(err):find("auth-agent@openssh.com", 1, true), err)
    -- the agent authenticates (it is not forwarded)
    local c = assert(luasible.connect(base { forward_agent = false }))
    local r = assert(c:execute("echo \"[$SSH_AUTH_SOCK]\"; ssh-add -l; echo rc=$?"))
    assert.truthy(r.stdout:find("[]\n", 1, true), r.stdout)
    assert.truthy(r.stdout:find("rc=2", 1, true), r.stdout) -- ssh-add: no agent there
    c:close()
  end)

  it("ForwardAgent yes in the ssh_config fails the connect naming FILE:LINE, before any packet", function()
    local cfg = srv.dir .. "/fa_config"
    files.write(cfg, "Host other\n  User nobody\nHost 127.0.0.1\n  ForwardAgent yes\n")
    local log0 = #(files.read(srv.log) or "")
    local c, err, name = luasible.connect(base { ssh_config = cfg })
    assert.is_nil(c)
    assert.equal("EINVAL", name)
    assert.truthy(err:find("EINVAL: " .. cfg .. ":4: ForwardAgent yes for " .. srv.user .. "@127.0.0.1:" .. srv.port
      .. ": agent forwarding is not supported", 1, true), err)
    assert.truthy(err:find("-o ForwardAgent=no", 1, true), err)
    -- nothing reached the server
    assert.is_nil((files.read(srv.log) or ""):sub(log0 + 1):find("Connection from", 1, true))
    -- a socket path is forwarding too; "no" is not
    files.write(cfg, "Host *\n  ForwardAgent " .. agent_sock .. "\n")
    assert.is_nil((luasible.connect(base { ssh_config = cfg })))
    files.write(cfg, "Host *\n  ForwardAgent no\n")
    local c2 = assert(luasible.connect(base { ssh_config = cfg }))
    c2:close()
    -- forward_agent = false (-a, -o ForwardAgent=no) goes without it
    files.write(cfg, "Host *\n  ForwardAgent yes\n")
    local c3 = assert(luasible.connect(base { ssh_config = cfg, forward_agent = false }))
    assert.equal("ok\n", assert(c3:execute("echo ok")).stdout)
    c3:close()
    -- a jump host's ForwardAgent does not matter (it runs nothing of ours)
    local r = assert(resolve.resolve({ host = "127.0.0.1", port = srv.port, user = srv.user, ssh_config = cfg,
      jump = "bastion", forward_agent = false }))
    assert.equal("bastion", r.jump.hostname)
  end)

  it("-A and -o ForwardAgent=yes in ansible_ssh_*_args are refused; -a and ForwardAgent=no go without", function()
    local function ca(args)
      return ic.connect_args("h", { ansible_host = "127.0.0.1", ansible_ssh_common_args = args })
    end
    local _, err = ca("-A")
    assert.truthy(err:find("host h: ansible_ssh_common_args: unsupported ssh option -A (agent forwarding is not"
      .. " supported: libssh2 1.10", 1, true), err)
    _, err = ca("-o ForwardAgent=yes")
    assert.truthy(err:find("bad ssh option -o ForwardAgent=yes (agent forwarding is not supported", 1, true), err)
    assert.is_false(assert(ca("-a")).forward_agent)
    assert.is_false(assert(ca("-o ForwardAgent=no -p 2222")).forward_agent)
    assert.equal(2222, assert(ca("-a -p 2222")).port)
    -- a run with -A: the host is not reached, the reason is shown, nothing ran
    local inv = srv.dir .. "/fa_inv.ini"
    local mark = srv.dir .. "/fa_ran"
    files.write(inv, ("h1 ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s luasible_known_hosts=%s"
      .. " luasible_ssh_config=false luasible_ssh_agent=%s ansible_ssh_common_args='-A'\n")
      :format(srv.port, srv.user, srv.known_hosts, agent_sock))
    local out, ok = files.run("bin/luasible exec h1 -i " .. q(inv) .. " -m shell -a " .. q("touch " .. mark)
      .. " 2>&1")
    assert.falsy(ok)
    assert.truthy(out:find("agent forwarding is not supported", 1, true), out)
    assert.falsy(files.exists(mark))
    -- with -a it runs, through the agent
    files.write(inv, ("h1 ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s luasible_known_hosts=%s"
      .. " luasible_ssh_config=false luasible_ssh_agent=%s ansible_ssh_common_args='-a'\n")
      :format(srv.port, srv.user, srv.known_hosts, agent_sock))
    out, ok = files.run("bin/luasible exec h1 -i " .. q(inv) .. " -m shell -a " .. q("touch " .. mark) .. " 2>&1")
    assert.is_true(ok, out)
    assert.truthy(files.exists(mark))
  end)
end)
