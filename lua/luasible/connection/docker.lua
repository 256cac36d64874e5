--- The docker connection kind (ansible_connection: docker): commands run in
-- a running container through the docker CLI, `docker [extra args] exec -i
-- [-u USER] CONTAINER /bin/sh -c LINE`, every line live as the CLI prints
-- it. podman.lua is this file with the podman CLI. docs/CONNECTIONS.md.
-- Host variables: ansible_host (the container; the host's name when
-- unset), ansible_user (the user inside; become's user wins),
-- ansible_<cli>_extra_args (words given before `exec`, e.g. -H host),
-- ansible_<cli>_executable (the CLI's path).
-- Kills: a killed CLI leaves its command running in the container, so
-- each command records its process group in the container
-- (/tmp/.luasible-<id>.pid) and close() kills that group there (through
-- a detached `exec -d`, waited for); a timeout
-- is enforced on both sides: the CLI is killed here, and a watchdog
-- shell in the container kills the command's process group there (at the
-- next whole second after the timeout, plus one).
-- Transfers go through exec (stdin chunks for put, dd chunks for get),
-- with progress and a SHA-256 check: luasible.plugins kit.
local M = {}

local seq = 0

function M.kind(cli)
  local P = { kind = M.kind }

  function P.connect(host, kit)
    local vars = host.vars or {}
    local exe = vars["ansible_" .. cli .. "_executable"] or cli
    local extra = {}
    if vars["ansible_" .. cli .. "_extra_args"] then
      local w, err = kit.words(tostring(vars["ansible_" .. cli .. "_extra_args"]))
      if not w then return nil, "ansible_" .. cli .. "_extra_args: " .. err end
      extra = w
    end
    local container = tostring(host.host or host.name or "")
    if container == "" then return nil, cli .. ": no container named (ansible_host)" end
    -- every exec costs a CLI start and a round trip to the daemon (tens to
    -- hundreds of ms): transfers go in 8 MiB chunks (ansible_<cli>_chunk: bytes)
    local chunk = math.tointeger(tonumber(vars["ansible_" .. cli .. "_chunk"] or 8 * 1024 * 1024))
    local obj = { name = host.name or container, where = cli .. ":" .. container, pids = {}, exec_chunk = chunk }
    local me = kit.core.crypto.hex(kit.core.crypto.random(8))

    local function argv(tail, user)
      local a = { exe }
      table.move(extra, 1, #extra, 2, a)
      a[#a + 1] = "exec"
      a[#a + 1] = "-i"
      if user then a[#a + 1] = "-u"; a[#a + 1] = user end
      a[#a + 1] = container
      table.move(tail, 1, #tail, #a + 1, a)
      return a
    end

    function obj.exec(_, cmd, opts, mode)
      seq = seq + 1
      local pidfile = ("/tmp/.luasible-%s.%d.pid"):format(me, seq)
      local q = kit.quote(pidfile)
      -- the command in a subshell of the recorded process group, its exit status kept
      local within = {}
      for k, v in pairs(opts) do within[k] = v end
      within.timeout = nil
      local line = ("echo $$ > %s; (%s); rc=$?; rm -f %s; exit $rc"):format(q, kit.command_line(cmd, within), q)
      local t = opts.timeout
      if t and t > 0 and t < 1e9 then
        -- the watchdog in the container: the whole group killed a second
        -- or so after our own timeout (timeout(1) would kill only its child)
        line = ("( trap '' TERM; t=0; while [ $t -lt %d ] && kill -0 $$ 2>&-; do sleep 1; t=$((t+1)); done;"
          .. " kill -0 $$ 2>&- && { kill -TERM -$$; sleep 2; kill -KILL -$$; } ) <&- >&- 2>&- & %s")
          :format(math.ceil(t) + 1, line)
      end
      -- root as uid 0: an image without /etc/passwd has no name "root"
      local user = opts.user or (opts.sudo and "0") or host.user
      if user == "root" then user = "0" end
      local s, err, name = kit.spawn(argv({ "/bin/sh", "-c", line }, user), opts, mode)
      if s then obj.pids[s] = pidfile end
      return s, err, name
    end

    --- stop, in the container, what still runs there: a detached exec
    --- (`exec -d`: it goes on in the container whatever happens here)
    --- per command, TERM to its process group, KILL 2 s later
    function obj.close()
      local kills = {}
      for s, pidfile in pairs(obj.pids) do
        if not s:finished() then
          local q = kit.quote(pidfile)
          local kill = ("p=$(cat %s 2>/dev/null) && [ -n \"$p\" ] && { kill -TERM -$p 2>/dev/null;"
            .. " sleep 2; kill -KILL -$p 2>/dev/null; }; rm -f %s"):format(q, q)
          local a = argv({ "/bin/sh", "-c", kill }, "0")
          table.insert(a, #extra + 3, "-d")
          kills[#kills + 1] = kit.spawn(a, {}, { lines = false, progress = false })
        end
      end
      obj.pids = {}
      -- the CLI hands the kill over and returns: waited for (a stream
      -- collected too early would kill its CLI before it did)
      for _, k in ipairs(kills) do kit.wait(k) end
    end
    setmetatable(obj.pids, { __mode = "k" })
    return obj
  end

  return P
end

return M.kind("docker")
