-- getent: a database of the host's name service switch read with getent(1),
-- as Ansible's ansible.builtin.getent: each line split (on `:` for passwd,
-- shadow, group and gshadow, else on `split`, else on runs of blanks, as
-- Python's str.split), its first field the key, the rest its value (a list
-- of such lists when a key comes twice); the mapping becomes the host's
-- variable getent_DATABASE. One round trip; nothing is changed, so it runs
-- alike under --check.

local COLON = { passwd = true, shadow = true, group = true, gshadow = true }

-- Python's str.split(sep) (sep given) and str.split() (nil)
local function split(line, sep)
  local out = {}
  if sep == nil then
    for w in line:gmatch("%S+") do out[#out + 1] = w end
    return out
  end
  local i = 1
  while true do
    local s, e = line:find(sep, i, true)
    if not s then out[#out + 1] = line:sub(i); break end
    out[#out + 1] = line:sub(i, s - 1)
    i = e + 1
  end
  return out
end

local MSG = {
  [1] = "Missing arguments, or database unknown.",
  [2] = "One or more supplied key could not be found in the database.",
  [3] = "Enumeration not supported on this database.",
}

return {
  params = {
    database = { type = "string", required = true },
    key = { type = "string" },
    service = { type = "string" },
    split = { type = "string" },
    fail_key = { type = "boolean", default = true },
  },
  check_args = function(args)
    if args.split == "" then return nil, "argument 'split' must not be empty (empty separator)" end
    if args.database and args.database:find("^%-") then
      return nil, "argument 'database' must be a database name, got '" .. args.database .. "'"
    end
    return true
  end,
  returns_facts = true,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local cmd = "command -v getent >/dev/null 2>&1 || { echo 'getent: not found' >&2; exit 127; }\n"
      .. "exec getent " .. (args.service and ("-s " .. q(args.service) .. " ") or "") .. "-- " .. q(args.database)
      .. (args.key and (" " .. q(args.key)) or "")
    local r = ctx:run(cmd)
    local rc = r.rc or (r.ok and 0) or 1
    if rc == 127 then return { failed = true, msg = "getent not found on the host" } end
    local sep = args.split
    if sep == nil and COLON[args.database] then sep = ":" end
    local name = "getent_" .. args.database
    local tree, seen = ctx.object({}), {}
    if rc == 0 then
      for _, line in ipairs(ctx.lines(r.stdout or "")) do
        local rec = split(line, sep)
        local k = rec[1] or ""
        local rest = {}
        for i = 2, #rec do rest[#rest + 1] = rec[i] end
        if seen[k] then
          if seen[k] == 1 then tree[k] = { tree[k] } end
          tree[k][#tree[k] + 1] = rest
          seen[k] = seen[k] + 1
        else
          tree[k], seen[k] = rest, 1
        end
      end
      return { changed = false, ansible_facts = { [name] = tree } }
    end
    local msg = MSG[rc] or "Unexpected failure!"
    if rc == 2 and not args.fail_key then
      if args.key then tree[args.key] = ctx:eval("None") end -- null, as Ansible's None
      return { changed = false, msg = msg, ansible_facts = { [name] = tree } }
    end
    return { failed = true, msg = msg }
  end,
}
