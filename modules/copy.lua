-- copy: put a file (src, a local path) or a string (content) at dest on the
-- host. Idempotent by sha256: nothing is written when the file is already
-- right. mode/owner/group are applied when they differ. backup keeps the old file.
local modules = require "luasible.modules"

local M = {
  params = {
    src = { type = "path" },
    content = { type = "string" },
    dest = { type = "path", required = true },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
    backup = { type = "boolean", default = false },
    force = { type = "boolean", default = true },
  },
  mutually_exclusive = { { "src", "content" } },
  required_one_of = { { "src", "content" } },
  check_mode = true,
}

--- Resolve a local source file: absolute, relative to the play's folder, or in its files/.
function M.find_local(ctx, src, sub)
  if src:sub(1, 1) == "/" then return src end
  local base = ctx.base_dir or "."
  for _, cand in ipairs({ base .. "/" .. sub .. "/" .. src, base .. "/" .. src, src }) do
    local f = io.open(cand, "rb")
    if f then f:close() return cand end
  end
  return base .. "/" .. src
end

local function mode_eq(want, have)
  if not want or not have then return true end
  local h = tonumber(have, 8)
  return h ~= nil and modules.mode_bits(want, h) == h
end

--- Install `content` at args.dest with args' mode/owner/group/backup.
--- A dest that is a symbolic link is followed (as Ansible does): to a
--- folder, the file goes into it; to a file, that file is updated in place
--- (atomically, keeping its mode unless `mode` is given). args.basename is
--- the name used in a folder (copy's src, template's src); without one, a
--- folder dest is an error.
-- path, or what its link points to; with its stat. nil, err when a link
-- cannot be followed.
local function follow(ctx, path)
  local st = ctx:stat(path)
  if st and st.type == "link" then
    local real = ctx:realpath(path)
    if not real then return nil, "cannot follow the link " .. path end
    path, st = real, ctx:stat(real)
  end
  return path, st
end

function M.install(ctx, content, args)
  local q = ctx.quote
  local dest, st = follow(ctx, args.dest)
  if not dest then return { failed = true, msg = st } end
  if st and st.type == "directory" then
    if not args.basename then
      return { failed = true, msg = "dest " .. args.dest .. " is a directory (give a file name, or use src)" }
    end
    dest, st = follow(ctx, dest:gsub("/+$", "") .. "/" .. args.basename)
    if not dest then return { failed = true, msg = st } end
    if st and st.type == "directory" then return { failed = true, msg = "dest " .. dest .. " is a directory" } end
  end
  if st and st.type ~= "file" then
    return { failed = true, msg = "dest " .. dest .. " exists and is a " .. st.type .. ", not a file" }
  end
  local want = modules.sha256(content)
  local have = st and ctx:remote_sha256(dest) or nil
  local result = { changed = false, dest = dest, checksum = want, size = #content }
  local need_write = have ~= want and (args.force or not st)
  local need_mode = args.mode and not (st and mode_eq(args.mode, st.mode)) and not need_write
  local need_owner = not (modules.owner_is(st, args.owner) and modules.group_is(st, args.group))
  if not (need_write or need_mode or need_owner) then return result end
  if not st then
    local dir = dest:match("^(.*)/[^/]*$")
    if dir and dir ~= "" then
      local dst = ctx:stat(dir, true)
      if not dst and ctx.check_mode then
        -- an earlier task of the play would create it; nothing did in --check
        return { changed = true, dest = dest, checksum = want, size = #content,
                 msg = "would write " .. dest .. " (the folder " .. dir .. " does not exist yet)" }
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
      err = tostring(err):gsub("^(%u[%u%d_]*: )%1", "%1")
      return { failed = true, msg = "could not write " .. dest .. ": " .. err }
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
    local path = M.find_local(ctx, args.src, "files")
    local err
    local d = io.open(path .. "/.", "rb")
    if d then
      d:close()
      return { failed = true, msg = "src " .. path .. " is a directory (copy takes one file)" }
    end
    content, err = modules.read_file(path)
    if not content then return { failed = true, msg = "cannot read src: " .. tostring(err) } end
  end
  return M.install(ctx, content, { dest = args.dest, mode = args.mode, owner = args.owner, group = args.group,
    backup = args.backup, force = args.force, basename = args.src and args.src:match("([^/]+)/*$") })
end

return M
