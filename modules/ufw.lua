-- ufw: the host's Uncomplicated Firewall, as community.general's ufw: the
-- state (enabled, disabled, reloaded, reset), default policies, logging and
-- one rule a task, each as the ufw command Ansible runs (`ufw [--dry-run]
-- [route] [delete] [insert N] RULE [DIR] [on IF] [log] from ... port ...
-- to ... port ... proto ... app '...' comment '...'`); changed as Ansible
-- tells it: `ufw status verbose` and the rules' `### tuple` lines before and
-- after (under --check: from the status, and the rule's --dry-run output).
-- One round trip reads; a second one runs the commands and reads again.

local RULE_FILES = { "/lib/ufw/user.rules", "/lib/ufw/user6.rules", "/etc/ufw/user.rules", "/etc/ufw/user6.rules",
  "/var/lib/ufw/user.rules", "/var/lib/ufw/user6.rules" }

local IPV4 = "((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])"
local IPV6 = "(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:"
  .. "|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}"
  .. "(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4})"
  .. "{1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]"
  .. "{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]"
  .. "{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4})"
  .. "{0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]"
  .. "|1{0,1}[0-9]){0,1}[0-9])\\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}"
  .. "[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}"
  .. "[0-9])\\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))"

local function lines_with(text, keep)
  local out = {}
  for l in text:gmatch("[^\n]*\n?") do if l ~= "" and keep(l) then out[#out + 1] = l end end
  return out
end

-- the gathering script: paths, status, rule tuples, version, numbered status
local function gather(files)
  return "export LANG=C\nu=$(command -v ufw) || { echo '@@MISSING'; exit 0; }\ng=$(command -v grep)\n"
    .. "echo \"@@UFW $u\"; echo \"@@GREP $g\"\n"
    .. "echo '@@STATUS'; \"$u\" status verbose 2>&1; echo \"@@RC $?\"\n"
    .. "echo '@@RULES'; \"$g\" -h '^### tuple' " .. table.concat(files, " ") .. " 2>/dev/null\n"
    .. "echo '@@VERSION'; \"$u\" --version 2>&1\n"
    .. "echo '@@NUMBERED'; \"$u\" status numbered 2>&1\necho '@@END'\n"
end

local function sections(out)
  local s, cur = {}, nil
  for l in out:gmatch("([^\n]*)\n") do
    local tag, rest = l:match("^@@(%u+) ?(.*)$")
    if tag and tag ~= "RC" then cur = tag; s[tag] = s[tag] or {}; if rest ~= "" then s[tag .. "_"] = rest end
    elseif tag then s.rc = tonumber(rest)
    elseif cur then s[cur][#s[cur] + 1] = l .. "\n" end
  end
  return s
end

return {
  params = {
    state = { type = "string", choices = { "enabled", "disabled", "reloaded", "reset" } },
    default = { type = "string", aliases = { "policy" }, choices = { "allow", "deny", "reject" } },
    logging = { type = "string", choices = { "full", "high", "low", "medium", "off", "on" } },
    direction = { type = "string", choices = { "in", "incoming", "out", "outgoing", "routed" } },
    delete = { type = "boolean", default = false },
    route = { type = "boolean", default = false },
    insert = { type = "integer" },
    insert_relative_to = { type = "string", default = "zero",
      choices = { "zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6" } },
    rule = { type = "string", choices = { "allow", "deny", "limit", "reject" } },
    interface = { type = "string", aliases = { "if" } },
    interface_in = { type = "string", aliases = { "if_in" } },
    interface_out = { type = "string", aliases = { "if_out" } },
    log = { type = "boolean", default = false },
    from_ip = { type = "string", default = "any", aliases = { "from", "src" } },
    from_port = { type = "string" },
    to_ip = { type = "string", default = "any", aliases = { "dest", "to" } },
    to_port = { type = "string", aliases = { "port" } },
    proto = { type = "string", aliases = { "protocol" },
      choices = { "ah", "any", "esp", "ipv6", "tcp", "udp", "gre", "igmp" } },
    name = { type = "string", aliases = { "app" } },
    comment = { type = "string" },
  },
  mutually_exclusive = { { "name", "proto", "logging" }, { "direction", "interface_in" },
    { "direction", "interface_out" } },
  required_one_of = { { "state", "default", "rule", "logging" } },
  check_args = function(args, all)
    if all.interface ~= nil and all.direction == nil then
      return nil, "argument 'interface' requires 'direction'"
    end
    if args.default and args.direction and not ({ outgoing = 1, incoming = 1, routed = 1 })[args.direction] then
      return nil, "argument 'direction' must be outgoing, incoming or routed with 'default'"
    end
    if args.rule and args.direction and not ({ ["in"] = 1, out = 1 })[args.direction] then
      return nil, "argument 'direction' must be in or out with 'rule'"
    end
    if args.rule and not args.route and args.interface_in and args.interface_out then
      return nil, "arguments 'interface_in' and 'interface_out' go together only in a route rule (route: true)"
    end
    for _, k in ipairs { "from_ip", "to_ip", "from_port", "to_port", "interface", "interface_in", "interface_out",
      "name", "comment" } do
      if type(args[k]) == "string" and args[k]:find("[\n']") then
        return nil, "argument '" .. k .. "' must be one line without '"
      end
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local out = ctx:run(gather(RULE_FILES)).stdout or ""
    if out:find("^@@MISSING") then return { failed = true, msg = "Failed to find required executable \"ufw\"" } end
    local s = sections(out)
    local ufw, grep = s.UFW_ or "ufw", s.GREP_ or "grep"
    local pre_state = table.concat(s.STATUS or {})
    local pre_rules = table.concat(s.RULES or {})
    local cmds = { ufw .. " status verbose", grep .. " -h '^### tuple' " .. table.concat(RULE_FILES, " ") }
    local check = ctx.check_mode
    local changed = false
    local todo = {} -- { text, argv } of the commands to run, in Ansible's order
    local function command(words)
      local w = { ufw }
      if check then w[#w + 1] = "--dry-run" end
      for _, x in ipairs(words) do w[#w + 1] = x end
      local shown, quoted = {}, {}
      for i, x in ipairs(w) do
        shown[i] = type(x) == "table" and (x[1] .. " '" .. x[2] .. "'") or x
        quoted[i] = type(x) == "table" and (x[1] .. " " .. q(x[2])) or q(x)
      end
      return table.concat(shown, " "), table.concat(quoted, " ")
    end
    if args.state then
      local st = ({ enabled = "enable", disabled = "disable", reloaded = "reload", reset = "reset" })[args.state]
      if args.state == "reloaded" or args.state == "reset" then changed = true end
      if check then
        local on = pre_state:find(" active", 1, true) ~= nil
        if (args.state == "disabled" and on) or (args.state == "enabled" and not on) then changed = true end
      else
        todo[#todo + 1] = { command { "-f", st } }
      end
    end
    if args.default then
      if check then
        local i, o, r = pre_state:match("Default: (%a+) %(incoming%), (%a+) %(outgoing%), (%a+) %(routed%)")
        if i then
          local v = ({ incoming = i, outgoing = o, routed = r })[args.direction or "incoming"]
          if v ~= args.default and v ~= "disabled" then changed = true end
        else changed = true end
      else
        local w = { "default", args.default }
        if args.direction then w[#w + 1] = args.direction end
        todo[#todo + 1] = { command(w) }
      end
    end
    local rule_dry
    if args.rule then
      local w = {}
      if args.route then w[#w + 1] = "route" end
      if args.delete then w[#w + 1] = "delete" end
      if args.insert ~= nil and not args.delete then
        local insert_to = args.insert
        if args.insert_relative_to ~= "zero" then
          local nums = {}
          for _, l in ipairs(s.NUMBERED or {}) do
            local n = l:match("^%[ *(%d+)%] ")
            if n then nums[#nums + 1] = { tonumber(n), l:find("(v6)", 1, true) ~= nil } end
          end
          local last, has4, has6, max4 = 0, false, false, nil
          for _, x in ipairs(nums) do
            last = math.max(last, x[1])
            if x[2] then has6 = true else has4 = true; max4 = math.max(max4 or 0, x[1]) end
          end
          local rel = ({ ["first-ipv4"] = 1, ["last-ipv4"] = has4 and max4 or 1,
            ["first-ipv6"] = has4 and (max4 + 1) or 1, ["last-ipv6"] = has6 and last or (last + 1) })
            [args.insert_relative_to]
          insert_to = args.insert + rel
          if insert_to > last then insert_to = nil end
        end
        if insert_to then w[#w + 1] = "insert"; w[#w + 1] = tostring(math.tointeger(insert_to) or insert_to) end
      end
      w[#w + 1] = args.rule
      if args.direction then w[#w + 1] = args.direction end
      if args.interface then w[#w + 1] = "on"; w[#w + 1] = args.interface end
      if args.interface_in then w[#w + 1] = "in"; w[#w + 1] = "on"; w[#w + 1] = args.interface_in end
      if args.interface_out then w[#w + 1] = "out"; w[#w + 1] = "on"; w[#w + 1] = args.interface_out end
      if args.log then w[#w + 1] = "log" end
      for _, kv in ipairs { { "from_ip", "from" }, { "from_port", "port" }, { "to_ip", "to" }, { "to_port", "port" },
        { "proto", "proto" } } do
        if args[kv[1]] then w[#w + 1] = kv[2]; w[#w + 1] = args[kv[1]] end
      end
      if args.name then w[#w + 1] = { "app", args.name } end
      cmds[#cmds + 1] = ufw .. " --version"
      local major, minor = table.concat(s.VERSION or {}):match("^ufw[^\n]-(%d+)%.(%d+)")
      major, minor = tonumber(major), tonumber(minor)
      if not major then return { failed = true, msg = "Failed to get ufw version.", rc = 0 } end
      if args.comment and ((major == 0 and minor >= 35) or major > 0) then w[#w + 1] = { "comment", args.comment } end
      local shown, quoted = command(w)
      todo[#todo + 1] = { shown, quoted, rule = true }
    end
    if args.logging then
      local st, _, caps = ctx.regex.compile("Logging: (on|off)(?: \\(([a-z]+)\\))?"):search(pre_state)
      if st then
        local cur, level = caps[1], caps[2] or nil
        if args.logging ~= "off" then
          if cur == "off" then changed = true
          elseif args.logging ~= "on" and args.logging ~= level then changed = true end
        elseif cur ~= "off" then changed = true end
      else changed = true end
      if not check then todo[#todo + 1] = { command { "logging", args.logging } } end
    end
    -- run them in one script, each marked; stop at the first that fails
    local script = { "export LANG=C" }
    for i, c in ipairs(todo) do
      cmds[#cmds + 1] = c[1]
      script[#script + 1] = "echo '@@CMD " .. i .. "'; o=$(" .. c[2] .. " 2>/tmp/.lsb_ufw_err.$$); r=$?;"
        .. " printf '%s\\n' \"$o\"; echo '@@ERR'; cat /tmp/.lsb_ufw_err.$$; rm -f /tmp/.lsb_ufw_err.$$;"
        .. " echo \"@@RC $r\"; [ $r = 0 ] || exit 0"
    end
    if not check then
      script[#script + 1] = "echo '@@POST'; " .. q(ufw) .. " status verbose 2>&1"
      script[#script + 1] = "echo '@@POSTRULES'; " .. q(grep) .. " -h '^### tuple' " .. table.concat(RULE_FILES, " ")
        .. " 2>/dev/null"
    end
    script[#script + 1] = "echo '@@END'; exit 0"
    local res = ctx:run(table.concat(script, "\n") .. "\n").stdout or ""
    local i = 0
    for body, err, rc in res:gmatch("@@CMD %d+\n(.-)@@ERR\n(.-)@@RC (%d+)\n") do
      i = i + 1
      if tonumber(rc) ~= 0 then
        return { failed = true, msg = ctx.chomp(err ~= "" and err or body), commands = cmds }
      end
      if todo[i].rule then rule_dry = body end
    end
    if check and rule_dry then
      local skipping = #lines_with(rule_dry, function(l) return l:find("Skipping", 1, true) ~= nil end)
      if not (skipping > 0 and skipping == #lines_with(rule_dry, function() return true end)) then
        local dry = table.concat(lines_with(rule_dry, function(l) return l:sub(1, 9) == "### tuple" end))
        local r4, r6 = ctx.regex.compile(IPV4), ctx.regex.compile(IPV6)
        local function only(rx, text)
          return table.concat(lines_with(text, function(l) return rx:search(l) ~= nil end))
        end
        if r4:match(args.from_ip) or r4:match(args.to_ip) then
          if only(r4, pre_rules) ~= only(r4, dry) then changed = true end
        elseif r6:match(args.from_ip) or r6:match(args.to_ip) then
          if only(r6, pre_rules) ~= only(r6, dry) then changed = true end
        elseif pre_rules ~= dry then changed = true end
      end
    end
    if check then return { changed = changed, commands = cmds } end
    local post_state = res:match("@@POST\n(.-)@@POSTRULES\n") or ""
    local post_rules = res:match("@@POSTRULES\n(.-)@@END\n") or ""
    cmds[#cmds + 1] = ufw .. " status verbose"
    if not changed then
      cmds[#cmds + 1] = grep .. " -h '^### tuple' " .. table.concat(RULE_FILES, " ")
      changed = pre_state ~= post_state or pre_rules ~= post_rules
    end
    return { changed = changed, commands = cmds, msg = (post_state:gsub("%s+$", "")) }
  end,
}
