-- A user module: drop a Lua file into a folder on the module path (the play's
-- library/ folder, LUASIBLE_MODULE_PATH, the play's module_path or -M DIR).
-- It checks that the app's heartbeat is fresh. It never changes anything.
return {
  params = {
    dir = { type = "path", required = true },
    max_age = { type = "number", default = 5 },
  },
  check_mode = true,
  run = function(ctx, args)
    local hb = ctx.quote(args.dir .. "/heartbeat")
    local out, rc = ctx:sh("test -f " .. hb .. " && echo $(( $(date +%s) - $(cat " .. hb .. ") ))")
    if rc ~= 0 then return { failed = true, msg = "no heartbeat in " .. args.dir } end
    local age = tonumber(out)
    if not age or age > args.max_age then
      return { failed = true, msg = "heartbeat is " .. tostring(out) .. "s old" }
    end
    return { changed = false, age = age, msg = "healthy (heartbeat " .. age .. "s old)" }
  end,
}
