--- Small helpers for specs about processes: liveness, children, fds.
local M = {}

--- Is there a live (non-zombie) process with this pid?
function M.alive(pid)
  local f = io.open("/proc/" .. tostring(pid) .. "/stat")
  if not f then return false end
  local stat = f:read("a")
  f:close()
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

--- Our own pid (the parent of a shell we start).
function M.self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  -- /proc/self is the reader itself: its pid is ours
  return tonumber(stat:match("^(%d+)"))
end

--- Pids of the processes whose parent is `ppid` (zombies included), but for
-- the shell this function itself starts to read /proc.
function M.children(ppid)
  local out = {}
  local p = io.popen("echo $$; cat /proc/[0-9]*/stat 2>/dev/null")
  local reader = tonumber(p:read("l"))
  for line in p:lines() do
    local pid, parent = line:match("^(%d+) %b() %a (%d+)")
    pid, parent = tonumber(pid), tonumber(parent)
    if parent == ppid and pid ~= reader then out[#out + 1] = pid end
  end
  p:close()
  return out
end

--- Number of open file descriptors of this process.
function M.fd_count()
  local p = io.popen("ls /proc/" .. M.self_pid() .. "/fd")
  local n = 0
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n
end

--- Number of this process's TCP sockets connected to `port` (on any
--- address): /proc/net/tcp's remote port matched with the socket inodes
--- of /proc/<pid>/fd.
function M.tcp_to(port)
  local inodes = {}
  for _, file in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    local f = io.open(file)
    if f then
      for line in f:lines() do
        local rport, inode = line:match("^%s*%d+:%s+%x+:%x+%s+%x+:(%x+)%s+%x+%s+%S+%s+%S+%s+%S+%s+%d+%s+%d+%s+(%d+)")
        if rport and tonumber(rport, 16) == port then inodes[inode] = true end
      end
      f:close()
    end
  end
  local p = io.popen("ls -l /proc/" .. M.self_pid() .. "/fd 2>/dev/null")
  local n = 0
  for line in p:lines() do
    local inode = line:match("socket:%[(%d+)%]")
    if inode and inodes[inode] then n = n + 1 end
  end
  p:close()
  return n
end

--- Resident set size of this process, in KiB.
function M.rss_kib()
  local f = assert(io.open("/proc/" .. M.self_pid() .. "/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

return M
