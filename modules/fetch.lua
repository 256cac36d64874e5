-- fetch: copy a file from the host to this machine. dest is a folder:
-- the file lands in dest/<host>/<src path>, or at dest itself with flat=true.

return {
  controller_paths = { dest = true }, -- (`~` in dest is this machine's: module/home.lua)
  params = {
    src = { type = "path", required = true },
    dest = { type = "path", required = true },
    flat = { type = "boolean", default = false },
    fail_on_missing = { type = "boolean", default = true },
  },
  check_mode = true,
  run = function(ctx, args)
    local local_path = args.flat and args.dest
      or (args.dest:gsub("/+$", "") .. "/" .. ctx.host .. "/" .. args.src:gsub("^/+", ""))
    if args.flat and args.dest:sub(-1) == "/" then local_path = args.dest .. ctx.path.py_basename(args.src) end
    local remote = ctx:remote_sha256(args.src)
    if not remote then
      return { failed = args.fail_on_missing, changed = false, msg = "file not found on host: " .. args.src }
    end
    local cur = ctx.read_file(local_path)
    if cur and ctx.sha256(cur) == remote then
      return { changed = false, dest = local_path, checksum = remote }
    end
    if ctx.check_mode then return { changed = true, dest = local_path, msg = "would fetch " .. args.src } end
    local dir = ctx.path.py_dirname(local_path)
    if dir ~= "" then
      local ok, err = ctx.mkdir_local(dir)
      if not ok then return { failed = true, msg = "fetch failed: " .. tostring(err) } end
    end
    if ctx.conn.get and not (ctx.become and ctx.become.become) then
      local ok, err = ctx.conn:get(args.src, local_path, { on_progress = function(p)
        p.stage = p.stage or "transferring"
        p.message = args.src
        ctx:progress(p)
      end })
      if not ok then return { failed = true, msg = "fetch failed: " .. tostring(err) } end
    else
      local res = ctx:run({ "cat", args.src })
      if not res.ok then return { failed = true, msg = "fetch failed: " .. res.stderr } end
      local f, err = io.open(local_path, "wb")
      if not f then return { failed = true, msg = "cannot write " .. local_path .. ": " .. err } end
      f:write(res.stdout)
      f:close()
    end
    return { changed = true, dest = local_path, checksum = remote }
  end,
}
