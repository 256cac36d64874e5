-- file: make a path a file, a directory, a symlink, absent, or touch it;
-- set mode/owner/group (recursively for directories with recurse=true).
-- `changed` is what really changes: modes (numeric or symbolic) are compared
-- with what chmod would make of the current ones, owners and groups by name
-- or number, and with recurse every entry of the tree is compared.
-- In diff mode the result's diff is Ansible's file module's: `before` and
-- `after` mappings of the path, its state when it changes (and a link's
-- src), and the mode/owner/group that change.

-- The diff of a file task (nil when not in diff mode).
local function diff_of(ctx, args, st, state, cur_src)
  if not ctx.diff then return nil end
  local prev = st and (st.type == "link" and "link" or st.type == "directory" and "directory" or "file") or "absent"
  local before, after
  if st and state ~= "absent" and state ~= "link" and not args.recurse then
    before, after = ctx:diff_attrs(args.path, st, args, st.type == "directory")
  else
    before, after = ctx.object({ path = args.path }), ctx.object({ path = args.path })
  end
  if prev ~= state then before.state, after.state = prev, state end
  if state == "link" and prev == "link" and cur_src ~= args.src then before.src, after.src = cur_src, args.src end
  return ctx:diff_result(before, after)
end

-- A path no command can take for an option.
local function arg(path) return path:sub(1, 1) == "-" and ("./" .. path) or path end

-- Does an entry { type=, mode= (octal string), owner=, group=, uid=, gid= } need attribute changes?
local function differs(ctx, args, e)
  if args.mode then
    local want = ctx.mode_bits(args.mode, tonumber(e.mode, 8), e.type == "directory")
    if want ~= tonumber(e.mode, 8) then return true end
  end
  return not (ctx.owner_is(e, args.owner) and ctx.group_is(e, args.group))
end

-- Every entry below (and including) path, links left out (chmod -R and chown -R leave them be);
-- nil when find cannot list them (busybox and BSD find have no -printf): then the tree needs the change.
local function tree(ctx, path)
  local out, rc = ctx:sh("find " .. ctx.quote(arg(path)) .. " ! -type l -printf '%y|%m|%u|%g|%U|%G\\n'")
  if rc ~= 0 then return nil end
  local list = {}
  for y, m, u, g, uid, gid in out:gmatch("(%a)|(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)") do
    list[#list + 1] = { type = y == "d" and "directory" or "file", mode = m, owner = u, group = g,
      uid = tonumber(uid), gid = tonumber(gid) }
  end
  return list
end

local function attrs(ctx, args, st, recurse)
  local q, cmds = ctx.quote, {}
  if not (args.mode or args.owner or args.group) then return cmds end
  local need = not st
  if st then
    if recurse and st.type == "directory" then
      local list = tree(ctx, args.path)
      if not list then need = true end
      for _, e in ipairs(list or {}) do
        if differs(ctx, args, e) then need = true break end
      end
    else
      need = differs(ctx, args, st)
    end
  end
  if not need then return cmds end
  local R = recurse and "-R " or ""
  if args.mode then cmds[#cmds + 1] = "chmod " .. R .. "-- " .. q(args.mode) .. " " .. q(args.path) end
  if args.owner or args.group then
    cmds[#cmds + 1] = "chown " .. R .. "-- " .. q((args.owner or "") .. (args.group and (":" .. args.group) or ""))
      .. " " .. q(args.path)
  end
  return cmds
end

return {
  params = {
    path = { type = "path", required = true, aliases = { "dest", "name" } },
    state = { type = "string", choices = { "file", "directory", "absent", "touch", "link" } },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
    recurse = { type = "boolean", default = false },
    src = { type = "path" },
    force = { type = "boolean", default = false },
  },
  check_mode = true,
  run = function(ctx, args)
    local q, path = ctx.quote, args.path
    local st = ctx:stat(path)
    local state = args.state or (st and st.type) or "file"
    local cmds = {}
    if state == "absent" then
      if st then cmds[1] = "rm -rf -- " .. q(path) end
    elseif state == "directory" then
      if st and st.type ~= "directory" then
        return { failed = true, msg = path .. " exists and is a " .. st.type .. ", not a directory" }
      end
      if not st then cmds[1] = "mkdir -p -- " .. q(path) end
      for _, c in ipairs(attrs(ctx, args, st, args.recurse)) do cmds[#cmds + 1] = c end
    elseif state == "file" then
      if not st then return { failed = true, msg = path .. " does not exist (use state=touch to create it)" } end
      if st.type ~= "file" then return { failed = true, msg = path .. " is a " .. st.type .. ", not a file" } end
      cmds = attrs(ctx, args, st)
    elseif state == "touch" then
      cmds[1] = "touch -- " .. q(path)
      for _, c in ipairs(attrs(ctx, args, nil)) do cmds[#cmds + 1] = c end
    elseif state == "link" then
      if not args.src then return { failed = true, msg = "state=link needs src" } end
      local cur = st and st.type == "link" and ctx:sh("readlink -- " .. q(path)) or nil
      if cur ~= args.src then
        if st and st.type ~= "link" and not args.force then
          return { failed = true, msg = path .. " exists and is a " .. st.type .. " (force=true to replace it)" }
        end
        if st and st.type == "directory" then
          -- as Ansible: force replaces an empty folder, never a full one
          local _, rc = ctx:sh("[ -z \"$(ls -A -- " .. q(path) .. ")\" ]")
          if rc ~= 0 then
            return { failed = true, msg = path .. " is a directory that is not empty: not replaced by a link" }
          end
          cmds[1] = "rmdir -- " .. q(path) .. " && ln -s -- " .. q(args.src) .. " " .. q(path)
        else
          cmds[1] = "ln -sfn -- " .. q(args.src) .. " " .. q(path)
        end
      end
    end
    if #cmds > 0 and (args.owner or args.group) and state ~= "absent" and state ~= "link" then
      -- only when something is to be done: an unknown owner fails before it is
      local ok, err = ctx:check_owner(args.owner, args.group)
      if not ok then return { failed = true, msg = err } end
    end
    local cur_src = state == "link" and st and st.type == "link" and ctx:sh("readlink -- " .. q(path)) or nil
    local result, res = ctx:apply(cmds, { changed = #cmds > 0, path = path, state = state,
      diff = #cmds > 0 and diff_of(ctx, args, st, state, cur_src) or nil })
    if not result then return { failed = true, changed = false, msg = res.stderr ~= "" and res.stderr or "failed" } end
    return result
  end,
}
