-- iptables: one rule, a chain's policy, a flush or a chain of the host's
-- iptables/ip6tables, as ansible.builtin.iptables. The rule is built from
-- the arguments in Ansible's order (construct_rule), so that `iptables -C`
-- finds the rule Ansible would have added and `result.rule` is the same
-- text. One round trip whatever happens: one script checks (-C, -L), and,
-- unless --check or nothing is to be done, applies (-A, -I, -D, -P, -F, -N,
-- -X); with --diff it prints the chain's `-S` before and after.
local M = {
  params = {
    table = { type = "string", default = "filter", choices = { "filter", "nat", "mangle", "raw", "security" } },
    state = { type = "string", default = "present", choices = { "absent", "present" } },
    action = { type = "string", default = "append", choices = { "append", "insert" } },
    ip_version = { type = "string", default = "ipv4", choices = { "ipv4", "ipv6" } },
    chain = { type = "string" },
    rule_num = { type = "string" },
    protocol = { type = "string" },
    wait = { type = "string" },
    source = { type = "string" },
    to_source = { type = "string" },
    destination = { type = "string" },
    to_destination = { type = "string" },
    match = { type = "list", default = {} },
    tcp_flags = { type = "dict" },
    jump = { type = "string" },
    gateway = { type = "string" },
    log_prefix = { type = "string" },
    log_level = { type = "string", choices = { "0", "1", "2", "3", "4", "5", "6", "7", "emerg", "alert", "crit",
      "error", "warning", "notice", "info", "debug" } },
    ["goto"] = { type = "string" },
    in_interface = { type = "string" },
    out_interface = { type = "string" },
    fragment = { type = "string" },
    set_counters = { type = "string" },
    source_port = { type = "string" },
    destination_port = { type = "string" },
    destination_ports = { type = "list", default = {} },
    to_ports = { type = "string" },
    set_dscp_mark = { type = "string" },
    set_dscp_mark_class = { type = "string" },
    comment = { type = "string" },
    ctstate = { type = "list", default = {} },
    src_range = { type = "string" },
    dst_range = { type = "string" },
    match_set = { type = "string" },
    match_set_flags = { type = "string", choices = { "src", "dst", "src,dst", "dst,src" } },
    limit = { type = "string" },
    limit_burst = { type = "string" },
    uid_owner = { type = "string" },
    gid_owner = { type = "string" },
    reject_with = { type = "string" },
    icmp_type = { type = "string" },
    syn = { type = "string", default = "ignore", choices = { "ignore", "match", "negate" } },
    flush = { type = "boolean", default = false },
    policy = { type = "string", choices = { "ACCEPT", "DROP", "QUEUE", "RETURN" } },
    chain_management = { type = "boolean", default = false },
  },
  mutually_exclusive = { { "set_dscp_mark", "set_dscp_mark_class" }, { "flush", "policy" } },
  check_mode = true,
}

local ICMP = { ipv4 = "--icmp-type", ipv6 = "--icmpv6-type" }
local BIN = { ipv4 = "iptables", ipv6 = "ip6tables" }

function M.check_args(args, all)
  if all.flush == false and all.chain == nil then
    return nil, "Either chain or flush parameter must be specified."
  end
  if args.jump and args.jump:lower() == "tee" and not args.gateway then
    return nil, "jump is " .. args.jump .. " but all of the following are missing: gateway"
  end
  if (args.log_prefix or args.log_level) and args.jump and args.jump ~= "LOG" then
    return nil, "Logging options can only be used with the LOG jump target."
  end
  local tf = args.tcp_flags
  if tf then
    for k in pairs(tf) do
      if k ~= "flags" and k ~= "flags_set" then
        return nil, "argument 'tcp_flags' has an unknown key '" .. tostring(k) .. "' (flags, flags_set)"
      end
    end
  end
  for _, v in pairs(args) do
    if type(v) == "string" and v:find("[\r\n%z]") then return nil, "an iptables argument holds a line break" end
  end
  return true
end

local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

local function param(rule, v, flag)
  if v == nil then return end
  if v:sub(1, 1) == "!" then
    rule[#rule + 1] = "!"; rule[#rule + 1] = flag; rule[#rule + 1] = v:sub(2)
  else
    rule[#rule + 1] = flag; rule[#rule + 1] = v
  end
end

local function add(rule, ...)
  for _, v in ipairs({ ... }) do rule[#rule + 1] = v end
end

local function flag(rule, v, f, negatable)
  if v == "match" then add(rule, f) elseif negatable and v == "negate" then add(rule, "!", f) end
end

local function csv(rule, list, f)
  if list and #list > 0 then add(rule, f, table.concat(list, ",")) end
end

local function aslist(v)
  if type(v) == "table" then return v end
  if v == nil then return {} end
  local t = {}
  for s in tostring(v):gmatch("[^,]+") do t[#t + 1] = s end
  return t
end

--- The rule's words, in Ansible's order (its construct_rule).
function M.rule(p)
  local r = {}
  if p.wait then add(r, "-w", p.wait) end
  param(r, p.protocol, "-p")
  param(r, p.source, "-s")
  param(r, p.destination, "-d")
  for _, m in ipairs(p.match) do param(r, m, "-m") end
  if p.tcp_flags and p.tcp_flags.flags and p.tcp_flags.flags_set then
    add(r, "--tcp-flags", table.concat(aslist(p.tcp_flags.flags), ","),
      table.concat(aslist(p.tcp_flags.flags_set), ","))
  end
  param(r, p.jump, "-j")
  if p.jump and p.jump:lower() == "tee" then param(r, p.gateway, "--gateway") end
  param(r, p.log_prefix, "--log-prefix")
  param(r, p.log_level, "--log-level")
  param(r, p.to_destination, "--to-destination")
  if #p.destination_ports > 0 then add(r, "-m", "multiport") end
  csv(r, p.destination_ports, "--dports")
  param(r, p.to_source, "--to-source")
  param(r, p["goto"], "-g")
  param(r, p.in_interface, "-i")
  param(r, p.out_interface, "-o")
  param(r, p.fragment, "-f")
  param(r, p.set_counters, "-c")
  param(r, p.source_port, "--source-port")
  param(r, p.destination_port, "--destination-port")
  param(r, p.to_ports, "--to-ports")
  param(r, p.set_dscp_mark, "--set-dscp")
  param(r, p.set_dscp_mark_class, "--set-dscp-class")
  flag(r, p.syn, "--syn", true)
  if has(p.match, "conntrack") then csv(r, p.ctstate, "--ctstate")
  elseif has(p.match, "state") then csv(r, p.ctstate, "--state")
  elseif #p.ctstate > 0 then add(r, "-m", "conntrack"); csv(r, p.ctstate, "--ctstate") end
  if has(p.match, "iprange") then
    param(r, p.src_range, "--src-range"); param(r, p.dst_range, "--dst-range")
  elseif p.src_range or p.dst_range then
    add(r, "-m", "iprange"); param(r, p.src_range, "--src-range"); param(r, p.dst_range, "--dst-range")
  end
  if has(p.match, "set") or p.match_set then
    if not has(p.match, "set") then add(r, "-m", "set") end
    param(r, p.match_set, "--match-set")
    if p.match_set_flags then add(r, p.match_set_flags) end
  end
  if p.limit or p.limit_burst then add(r, "-m", "limit") end
  param(r, p.limit, "--limit")
  param(r, p.limit_burst, "--limit-burst")
  if p.uid_owner then add(r, "-m", "owner") end
  param(r, p.uid_owner, "--uid-owner")
  if p.gid_owner then add(r, "-m", "owner") end
  param(r, p.gid_owner, "--gid-owner")
  if p.jump == nil and p.reject_with then add(r, "-j", "REJECT") end
  param(r, p.reject_with, "--reject-with")
  param(r, p.icmp_type, ICMP[p.ip_version])
  if p.comment then add(r, "-m", "comment") end
  param(r, p.comment, "--comment")
  return r
end

--- Under --check, the chain's `-S` lines as they would be: the rule (as
--- iptables lists it when a scratch network namespace could tell, else as
--- given) appended, inserted at rule_num, or
--- (absent) its line left out when it reads the same.
function M.would(args, before, rule, norm)
  local lines, first = {}, 1
  for i, l in ipairs(before) do
    lines[i] = l
    if l:match("^%-[PN] ") then first = i + 1 end
  end
  local line = (norm or ("-A " .. args.chain .. " " .. rule)) .. "\n"
  if args.state ~= "present" then
    for i, l in ipairs(lines) do if l == line then table.remove(lines, i) break end end
  elseif args.action == "insert" then
    table.insert(lines, math.min(#lines + 1, first + math.max(0, (tonumber(args.rule_num) or 1) - 1)), line)
  else
    lines[#lines + 1] = line
  end
  return table.concat(lines)
end

-- what the script does: "rule" (check, then add or delete), "policy", "flush", "chain"
local function plan(args, rule)
  if args.flush then return "flush" end
  if args.policy then return "policy" end
  if #rule == 0 then return "chain" end
  return "rule"
end

local function script(ctx, args, kind, argv_rule)
  local q = ctx.quote
  local qr = {}
  for i, w in ipairs(argv_rule) do qr[i] = q(w) end
  local R = table.concat(qr, " ")
  local T = "-t " .. q(args.table)
  local C = args.chain and q(args.chain) or ""
  local check = ctx.check_mode and 1 or 0
  local s = {
    "bin=" .. BIN[args.ip_version],
    'command -v "$bin" >/dev/null 2>&1 || { echo "@missing"; exit 0; }',
    "export LANG=C LC_ALL=C; CHECK=" .. check .. "; DIFF=" .. (ctx.diff and 1 or 0),
    'show() { [ "$DIFF" = 1 ] && [ -n "$2" ] && "$bin" ' .. T .. ' -S "$2" 2>/dev/null | sed "s/^/@$1 /"; true; }',
    'run() { o=$("$bin" "$@" 2>&1) || { printf "@fail %s\\n" "$*"; printf "%s\\n" "$o"; exit 0; }; }',
  }
  local function put(l) s[#s + 1] = l end
  if kind == "flush" then
    put("show b " .. C)
    put('echo "@changed"; [ $CHECK = 1 ] || run ' .. T .. " -F " .. C)
    put("show a " .. C)
  elseif kind == "policy" then
    put("p=$(\"$bin\" " .. T .. " -S " .. C .. " 2>/dev/null | head -n 1) || true")
    put([[p=$(printf '%s\n' "$p" | sed -n 's/^-P [^ ]* \([A-Z]*\)$/\1/p')]])
    put('[ -n "$p" ] || { echo "@nopolicy"; exit 0; }')
    put('echo "@policy $p"; [ "$p" = ' .. q(args.policy) .. " ] && exit 0")
    put('echo "@changed"; show b ' .. C .. '; [ $CHECK = 1 ] || run ' .. T .. " -P " .. C .. " " .. q(args.policy))
    put("show a " .. C)
  elseif kind == "chain" then
    put('"$bin" ' .. T .. " -S " .. C .. " >/dev/null 2>&1 && present=1 || present=0")
    if args.state == "absent" then
      put('[ $present = 1 ] || exit 0; echo "@present"')
      if args.chain_management then put('echo "@changed"; [ $CHECK = 1 ] || run ' .. T .. " -X " .. C) end
    else
      put('[ $present = 0 ] || exit 0; echo "@absent"')
      if args.chain_management then put('echo "@changed"; [ $CHECK = 1 ] || run ' .. T .. " -N " .. C) end
    end
  else
    put('o=$("$bin" ' .. T .. " -C " .. C .. " " .. R .. ' 2>&1); rc=$?')
    put('if [ $rc -gt 1 ]; then echo "@bad $rc"; printf "%s\\n" "$o"; exit 0; fi')
    local want = args.state == "present" and 0 or 1
    put("[ $rc = " .. want .. " ] && exit 0")
    put('echo "@changed"')
    put('"$bin" ' .. T .. " -S " .. C .. " >/dev/null 2>&1 && chain=1 || chain=0; echo \"@chain $chain\"")
    put('show b ' .. C)
    if ctx.check_mode and ctx.diff then -- the rule as iptables lists it: added in a scratch network namespace
      local inner = '"$1" ' .. T .. " -N " .. C .. ' 2>/dev/null; "$1" ' .. T .. " -A " .. C .. " " .. R
        .. ' && "$1" ' .. T .. " -S " .. C
      put("n=$(unshare -n sh -c " .. q(inner) .. ' sh "$bin" 2>/dev/null | grep "^-A" | head -n 1)')
      put('[ -n "$n" ] && printf "@norm %s\n" "$n"')
    end
    put("[ $CHECK = 1 ] && exit 0")
    if args.state == "present" then
      if args.chain_management then put("[ $chain = 1 ] || run " .. T .. " -N " .. C) end
      if args.action == "insert" then
        put("run " .. T .. " -I " .. C .. (args.rule_num and (" " .. q(args.rule_num)) or "") .. " " .. R)
      else
        put("run " .. T .. " -A " .. C .. " " .. R)
      end
    else
      put("run " .. T .. " -D " .. C .. " " .. R)
    end
    put("show a " .. C)
  end
  return table.concat(s, "\n")
end

function M.run(ctx, args)
  local rule = M.rule(args)
  local result = { changed = false, failed = false, ip_version = args.ip_version, table = args.table,
    chain = args.chain, flush = args.flush, rule = table.concat(rule, " "), state = args.state,
    chain_management = args.chain_management }
  -- (as Ansible: the result's rule is built before log options imply `-j LOG`)
  local p = args
  if (args.log_prefix or args.log_level) and args.jump == nil then
    p = setmetatable({ jump = "LOG" }, { __index = args })
  end
  local argv_rule = p == args and rule or M.rule(p)
  local kind = plan(args, rule)
  local res = ctx:run(script(ctx, args, kind, argv_rule))
  local out = res.stdout or ""
  local m, before, after, tail = {}, {}, {}, {}
  local failing = false
  for line in out:gmatch("[^\n]+") do
    local k, v = line:match("^@(%a+) ?(.*)$")
    if k == "b" then before[#before + 1] = v .. "\n"
    elseif k == "a" then after[#after + 1] = v .. "\n"
    elseif k then m[k] = v; if k == "fail" or k == "bad" then failing = true end
    elseif failing then tail[#tail + 1] = line end
  end
  local bin = BIN[args.ip_version]
  if m.missing then
    result.failed, result.msg = true, "Failed to find required executable \"" .. bin .. "\" in paths (the host has no "
      .. bin .. ")"
    return result
  end
  if not res.ok then
    result.failed, result.msg = true, bin .. " failed on the host: " .. ctx.chomp(res.stderr or "")
    return result
  end
  local why = table.concat(tail, "\n")
  if m.bad then
    result.failed, result.msg = true, bin .. " refused the rule (" .. result.rule .. "): " .. why
    return result
  end
  if m.nopolicy then result.failed, result.msg = true, "Can't detect current policy"; return result end
  result.changed = m.changed ~= nil
  if kind == "chain" and not args.chain_management and (m.present or m.absent) then
    result.msg = "chain " .. args.chain .. (m.present and " exists" or " does not exist")
      .. " (chain_management: false leaves it)"
  end
  if m.fail then
    result.failed, result.msg = true, bin .. " " .. m.fail .. " failed: " .. why
    return result
  end
  if result.changed and ctx.diff and kind ~= "chain" then
    local b = table.concat(before)
    local a = table.concat(after)
    if ctx.check_mode and kind == "rule" then a = M.would(args, before, result.rule, m.norm) end
    result.diff = ctx:diff_result(b, a, bin .. " -t " .. args.table .. " -S " .. (args.chain or ""))
  end
  return result
end

return M
