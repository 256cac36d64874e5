-- file: make a path a file, a directory, a symlink, absent, or touch it;
-- set mode/owner/group (recursively for directories with recurse=true).
local function attrs(ctx, args, st, recurse)
  local q, cmds = ctx.quote, {}
  local R = recurse and "-R " or ""
  if args.mode and (recurse or not st or not args.mode:match("^%d+$")
      or tonumber(args.mode, 8) ~= tonumber(st.mode, 8)) then
    cmds[#cmds + 1] = "chmod " .. R .. q(args.mode) .. " " .. q(args.path)
  end
  if (args.owner and (recurse or not st or st.owner ~= args.owner))
      or (args.group and (recurse or not st or st.group ~= args.group)) then
    cmds[#cmds + 1] = "chown " .. R .. q((args.owner or "") .. (args.group and (":" .. args.group) or ""))
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
        cmds[1] = "ln -sfn -- " .. q(args.src) .. " " .. q(path)
      end
    end
    local result = { changed = #cmds > 0, path = path, state = state }
    if #cmds == 0 or ctx.check_mode then
      if ctx.check_mode and #cmds > 0 then result.msg = "would run: " .. table.concat(cmds, "; ") end
      return result
    end
    local res = ctx:run(table.concat(cmds, " && "))
    if not res.ok then return { failed = true, changed = false, msg = res.stderr ~= "" and res.stderr or "failed" } end
    return result
  end,
}
