-- group: make sure a group exists (groupadd, groupmod for its gid) or does
-- not (groupdel), as Ansible's group module does on Linux. One round trip
-- reads the group and the tools; a second one changes it, when needed (and
-- reads it back).

local function script(ctx, name)
  return "for t in groupadd groupmod groupdel getent; do\n"
    .. "command -v \"$t\" >/dev/null 2>&1 || echo \"MISSING:$t\"; done\n"
    .. "getent group -- " .. ctx.quote(name) .. " | sed 's/^/G:/'\nexit 0\n"
end

local function parse(out)
  local st = { missing = {} }
  for line in out:gmatch("[^\n]+") do
    local tag, rest = line:match("^(%u+):(.*)$")
    if tag == "MISSING" then st.missing[rest] = true
    elseif tag == "G" then
      local gname, gid = rest:match("^([^:]*):[^:]*:(%d+):")
      st.group = { name = gname, gid = tonumber(gid) }
    end
  end
  return st
end

return {
  params = {
    name = { type = "string", required = true },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    gid = { type = "integer" },
    system = { type = "boolean", default = false },
    non_unique = { type = "boolean", default = false },
    ["local"] = { type = "boolean", default = false },
  },
  check_args = function(args)
    local n = args.name
    if n and (n == "" or n:find("^%-") or n:find("[:%s,]")) then
      return nil, "argument 'name' must be a group name (no ':', ',', spaces, no leading '-'), got '" .. n .. "'"
    end
    if args.non_unique and args.gid == nil then return nil, "argument 'non_unique' needs 'gid'" end
    if args["local"] then return nil, "argument 'local' (lgroupadd of libuser) is not supported" end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q, name = ctx.quote, args.name
    local st = parse((ctx:sh(script(ctx, name))))
    if st.missing.getent then return { failed = true, msg = "getent not found on the host (needed to read groups)" } end
    local g = st.group
    local result = { name = name, state = args.state }
    local cmd, tool
    if args.state == "absent" then
      if g then cmd, tool = "groupdel " .. q(name), "groupdel" end
    elseif not g then
      cmd = "groupadd" .. (args.gid and (" -g " .. args.gid .. (args.non_unique and " -o" or "")) or "")
        .. (args.system and " -r" or "") .. " " .. q(name)
      tool = "groupadd"
    elseif args.gid and g.gid ~= args.gid then
      cmd = "groupmod -g " .. args.gid .. (args.non_unique and " -o" or "") .. " " .. q(name)
      tool = "groupmod"
    end
    if cmd and st.missing[tool] then
      return { failed = true, name = name,
        msg = tool .. " not found on the host (needed to change group " .. name .. ")" }
    end
    result.changed = cmd ~= nil
    if ctx.diff and cmd then
      local function text(x) return x and ("name: " .. x.name .. "\ngid: " .. tostring(x.gid) .. "\n") or "" end
      local after = args.state == "present" and { name = name, gid = args.gid or (g and g.gid) or "(new)" } or nil
      result.diff = { before = text(g), after = text(after), before_header = "group " .. name,
        after_header = "group " .. name }
    end
    if cmd and ctx.check_mode then
      result.msg = "would run: " .. cmd
      return result
    end
    if cmd then
      local res = ctx:run(cmd .. " && { " .. script(ctx, name) .. "}")
      if not res.ok then
        local e = ctx.chomp(res.stderr)
        return { failed = true, changed = false, name = name,
          msg = e ~= "" and e or ("exit status " .. tostring(res.rc)) }
      end
      g = parse(res.stdout).group
      if ctx.chomp(res.stderr) ~= "" then result.stderr = ctx.chomp(res.stderr) end
    end
    if g then result.system, result.gid = args.system, g.gid end
    return result
  end,
}
