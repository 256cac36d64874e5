-- copy: put a file (src, a local path) or a string (content) at dest on the
-- host. Idempotent by sha256: nothing is written when the file is already
-- right. mode/owner/group are applied when they differ. backup keeps the old file.
-- M.install is the part template and lineinfile build on (ctx:module("copy")).
local M = {
  controller_paths = { src = "remote_src" }, -- (`~` in src is this machine's: module/home.lua)
  params = {
    src = { type = "path" },
    content = { type = "string" },
    decrypt = { type = "boolean", default = true }, -- a vault-encrypted src decrypted on the controller
  },
  param_groups = { "install" }, -- dest, backup, force, follow; mode, owner, group
  mutually_exclusive = { { "src", "content" } },
  required_one_of = { { "src", "content" } },
  check_mode = true,
}

local function mode_eq(ctx, want, have)
  if not want or not have then return true end
  local h = tonumber(have, 8)
  return h ~= nil and ctx.mode_bits(want, h) == h
end

-- Where to write for a dest that may be a symbolic link, as Ansible's copy
-- does: a link to a folder is always followed (the file goes into it); a
-- link to a file (or a dangling one) is followed only with follow = true,
-- else the link itself is replaced by a regular file. Returns the path to
-- write, the stat of what is there now (the link's target: its content
-- and mode count) and, for a plain file, its SHA-256; or nil, err.
local function resolve(ctx, path, follow)
  local st, sum = ctx:stat_sha256(path) -- one command: the stat and, for a plain file, its checksum
  if not (st and st.type == "link") then return path, st, sum end
  local real = ctx:realpath(path)
  local tst = real and ctx:stat(real)
  if tst and tst.type == "directory" then return real, tst end
  if not follow then return path, tst end
  if not real then return nil, "cannot follow the link " .. path end
  return real, tst
end

--- Install `content` at args.dest with args' mode/owner/group/backup.
--- args.follow: write through a dest that links to a file (else the link is
--- replaced). args.basename is the name used when dest is a folder (copy's
--- src, template's src); without one, a folder dest is an error.
--- In diff mode (ctx.diff) the result has Ansible's `diff`: the old and new
--- text (args.after_header names the new one: the src) when the content
--- changes, else the attributes that change; args.diff = false: none (the
--- caller makes its own, as lineinfile does).
function M.install(ctx, content, args)
  local q = ctx.quote
  local dest, st, have = resolve(ctx, args.dest, args.follow)
  if not dest then return { failed = true, msg = st } end
  if st and st.type == "directory" then
    if not args.basename then
      return { failed = true, msg = "dest " .. args.dest .. " is a directory (give a file name, or use src)" }
    end
    dest, st, have = resolve(ctx, dest:gsub("/+$", "") .. "/" .. args.basename, args.follow)
    if not dest then return { failed = true, msg = st } end
    if st and st.type == "directory" then return { failed = true, msg = "dest " .. dest .. " is a directory" } end
  end
  if st and st.type ~= "file" then
    return { failed = true, msg = "dest " .. dest .. " exists and is a " .. st.type .. ", not a file" }
  end
  local want = ctx.sha256(content)
  if st and not have then have = ctx:remote_sha256(dest) end -- through a link: its target's
  local result = { changed = false, dest = dest, checksum = want, size = #content }
  local need_write = have ~= want and (args.force or not st)
  local need_mode = args.mode and not (st and mode_eq(ctx, args.mode, st.mode)) and not need_write
  local need_owner = not (ctx.owner_is(st, args.owner) and ctx.group_is(st, args.group))
  if not (need_write or need_mode or need_owner) then return result end
  if not st then
    local dir = ctx.path.py_dirname(dest)
    if dir ~= "" then
      local dst = ctx:stat(dir, true)
      if not dst and ctx.check_mode then
        -- an earlier task of the play would create it; nothing did in --check
        return { changed = true, dest = dest, checksum = want, size = #content,
                 msg = "would write " .. dest .. " (the folder " .. dir .. " does not exist yet)",
                 diff = args.diff ~= false and ctx.diff and { ctx:diff_result("", content, nil, args.after_header) }
                   or nil }
      elseif not dst then
        return { failed = true, msg = "cannot write " .. dest .. ": the folder " .. dir .. " does not exist" }
      elseif dst.type ~= "directory" then
        return { failed = true, msg = "cannot write " .. dest .. ": " .. dir .. " is not a folder" }
      end
    end
  end
  if need_owner then
    local ok, err = ctx:check_owner(args.owner, args.group)
    if not ok then return { failed = true, msg = err .. " (nothing written to " .. dest .. ")" } end
  end
  result.changed = true
  if ctx.diff and args.diff ~= false then
    if need_write then
      result.diff = { ctx:diff_result(ctx:diff_read(dest, st), content, st and dest, args.after_header) }
    else
      result.diff = ctx:diff_result(ctx:diff_attrs(dest, st, args))
    end
  end
  if ctx.check_mode then
    result.msg = need_write and ("would write " .. dest) or ("would change attributes of " .. dest)
    return result
  end
  if need_write then
    if args.backup and st then
      local bk = dest .. "." .. os.date("%Y%m%d%H%M%S") .. "~"
      local res = ctx:run("cp -p -- " .. q(dest) .. " " .. q(bk))
      if not res.ok then return { failed = true, msg = "backup failed: " .. res.stderr } end
      result.backup_file = bk
    end
    local ok, err = ctx:write(content, dest, args.mode or (st and st.mode), function(p)
      p.stage = p.stage or "transferring"
      p.message = dest
      ctx:progress(p)
    end)
    if not ok then
      return { failed = true, msg = "could not write " .. dest .. ": " .. tostring(err) }
    end
  elseif need_mode then
    local res = ctx:run("chmod -- " .. q(args.mode) .. " " .. q(dest))
    if not res.ok then return { failed = true, msg = res.stderr } end
  end
  if need_owner then
    local spec = (args.owner or "") .. (args.group and (":" .. args.group) or "")
    local res = ctx:run("chown -- " .. q(spec) .. " " .. q(dest))
    if not res.ok then return { failed = true, msg = "chown failed: " .. res.stderr } end
  end
  result.msg = need_write and ("wrote " .. dest) or ("changed attributes of " .. dest)
  return result
end

function M.run(ctx, args)
  local content = args.content
  if args.src then
    local path = ctx:find_local(args.src, "files")
    local err
    local st = ctx.local_stat(path)
    if st and st.type == "directory" then
      return { failed = true, msg = "src " .. path .. " is a directory (copy takes one file)" }
    end
    if args.decrypt == false then content, err = ctx.read_raw(path) else content, err = ctx.read_file(path) end
    if not content then return { failed = true, msg = "cannot read src: " .. tostring(err) } end
  end
  return M.install(ctx, content, { dest = args.dest, mode = args.mode, owner = args.owner, group = args.group,
    backup = args.backup, force = args.force, follow = args.follow,
    basename = args.src and ctx.path.basename(args.src),
    after_header = args.src and ctx:find_local(args.src, "files") or "dynamically generated" })
end

return M
