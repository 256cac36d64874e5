--- The chroot connection kind (ansible_connection: chroot): commands run
-- here, as root, under `chroot [--userspec=USER] DIR /bin/sh -c LINE`
-- (DIR: ansible_host, or the host's name). The process is a local one:
-- every line live, a timeout or a close kills its whole process group
-- as on the local connection. Transfers go through exec (the files land
-- inside DIR, written by the chroot's own sh, cat, sha256sum and mv).
-- docs/CONNECTIONS.md.
local P = {}

function P.connect(host, kit)
  local dir = tostring(host.host or host.name or "")
  local st = dir ~= "" and kit.core.stat(dir)
  if not (st and st.type == "directory") then
    return nil, "chroot: " .. (dir ~= "" and dir or "(none)") .. " is not a directory (ansible_host)", "ENOENT"
  end
  local sh = kit.core.stat(dir .. "/bin/sh")
  if not sh then return nil, "chroot: " .. dir .. " has no /bin/sh", "ENOENT" end
  local chroot = (host.vars or {}).ansible_chroot_exe or "chroot"
  local obj = { name = host.name or dir, where = "chroot:" .. dir }
  function obj.exec(_, cmd, opts, mode)
    local argv = { chroot }
    local user = opts.user or host.user
    if user and user ~= "root" then argv[#argv + 1] = "--userspec=" .. user end
    argv[#argv + 1] = dir
    argv[#argv + 1] = "/bin/sh"
    argv[#argv + 1] = "-c"
    argv[#argv + 1] = kit.command_line(cmd, opts)
    return kit.spawn(argv, opts, mode)
  end
  return obj
end

return P
