--- luasible.module.lib.unarchive_common: what unarchive's handlers (tar:
-- module/lib/unarchive_tar.lua, zip: module/lib/unarchive_zip.lua) and its
-- flow (modules/unarchive.lua) share: the script that applies mode, owner
-- and group to the members, a host script run with its tagged lines
-- ("\001T rest") collected and the extraction's lines streamed, and dest's
-- stat line read into the result.
local M = {}

-- mode/owner/group applied to every member ($list) and to the top folders, as
-- Ansible's set_fs_attributes_if_different: a line "\001A member" for each
-- member that changed.
function M.attrs_script(ctx, args)
  if not (args.mode or args.owner or args.group) then return "" end
  local q = ctx.quote
  local cmds = {}
  if args.mode then cmds[#cmds + 1] = "chmod " .. q(args.mode) .. ' -- "$f"' end
  if args.owner or args.group then
    cmds[#cmds + 1] = "chown -h " .. q((args.owner or "") .. (args.group and (":" .. args.group) or "")) .. ' -- "$f"'
  end
  return [[{ printf '%s\n' "$list"; printf '%s\n' "$list" | sed -n 's|^/*\([^/]*\)/.*|\1|p' | sort -u; } |
while IFS= read -r m; do
  f="$dest/${m#/}"; [ -e "$f" ] || [ -L "$f" ] || continue
  b=$(stat -c '%a %u %g' -- "$f")
  ]] .. table.concat(cmds, " && ") .. [[ || { echo "cannot set the attributes of $f" >&2; exit 14; }
  [ "$b" = "$(stat -c '%a %u %g' -- "$f")" ] || printf '\001A %s\n' "$m"
done]]
end

-- run a script, its tagged lines collected; the extraction's lines and a download's progress streamed
function M.run_tagged(ctx, script, stdin, url, env)
  local lines, total, done, extracting = {}, 0, 0, false
  local res = ctx:run(script, { stdin = stdin, env = env, on_output = function(line, is_stderr, ev)
    if is_stderr then
      local p = url and tonumber(line:match("(%d+%.?%d*)%%"))
      if p and p >= 0 and p <= 100 then
        ctx:progress({ stage = "downloading", percentage = p, message = url })
        if ev and ev.cr then return end
      end
      if url then ctx.emit({ type = "stderr", data = line }, ev) end
      return
    end
    local tag, rest = line:match("^\1(%u%.?) ?(.*)$")
    if tag == "L" or tag == "N" then total = total + 1
    elseif tag == "X" then extracting = true
    elseif not tag and extracting then
      done = done + 1
      ctx.emit({ type = "stdout", data = line })
      ctx:progress({ stage = "extracting", message = line, percentage = total > 0 and math.min(100,
        math.floor(done * 100 / total)) or nil })
    end
    lines[#lines + 1] = { tag = tag, rest = rest, line = line }
  end })
  return res, lines
end

-- dest's stat line ("\001S. uid|gid|owner|group|mode|size") into the result
function M.dest_stat(result, rest)
  local uid, gid, owner, group, mode, size = rest:match("^(%d+)|(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)")
  result.uid, result.gid, result.owner, result.group = tonumber(uid), tonumber(gid), owner, group
  result.mode, result.state, result.size = mode and string.format("%04o", tonumber(mode, 8)), "directory",
    tonumber(size)
end

return M
