-- user: make sure an account exists (useradd / usermod) or does not
-- (userdel), as Ansible's user module does on Linux: uid, group, groups
-- (append), comment, home (move_home, create_home), shell, system, a
-- password hash, expires, password_lock, password_expire_min/max, an SSH key.
-- One round trip reads everything (getent passwd/shadow/group, the home,
-- the key files, the tools); a second one makes the changes, when any.
-- The password hash never reaches a command line or an event: it goes to
-- `chpasswd -e` on the command's standard input.

-- What the gathering prints, one tagged line each.
local function gather_script(ctx, args, keyfile)
  local q = ctx.quote
  local s = {
    "n=" .. q(args.name),
    "for t in useradd usermod userdel chpasswd chage ssh-keygen getent; do"
      .. " command -v \"$t\" >/dev/null 2>&1 || echo \"MISSING:$t\"; done",
    "h=",
    "if p=$(getent passwd -- \"$n\"); then echo \"P:$p\"; s=$(getent shadow -- \"$n\") && echo \"S:$s\";"
      .. " h=$(printf %s \"$p\" | cut -d: -f6); [ -d \"$h\" ] && echo HOMEDIR; fi",
    "getent group | sed 's/^/G:/'",
  }
  if args.home then s[#s + 1] = "[ -d " .. q(args.home) .. " ] && echo WANTDIR" end
  if args.home and args.create_home then
    s[#s + 1] = "[ -d " .. q(ctx.path.dirname(args.home)) .. " ] || echo NOPARENT"
  end
  if keyfile then
    local k = keyfile:sub(1, 1) == "/" and q(keyfile)
      or ("\"${h:-" .. (args.home and q(args.home) or "/nonexistent") .. "}\"/" .. q(keyfile))
    if args.home and keyfile:sub(1, 1) ~= "/" then k = q(args.home .. "/" .. keyfile) end
    s[#s + 1] = "k=" .. k .. "; echo \"KF:$k\"; [ -e \"$k\" ] && echo KEY; [ -e \"$k.pub\" ] && echo PUB;"
      .. " [ -e \"$k\" ] && ssh-keygen -l -f \"$k\" 2>&1 | sed 's/^/FP:/';"
      .. " [ -e \"$k.pub\" ] && sed -n '1s/^/PK:/p' \"$k.pub\""
    s[#s + 1] = "echo \"HN:$(hostname 2>/dev/null || cat /etc/hostname)\""
  end
  return table.concat(s, "\n") .. "\nexit 0\n"
end

local function split(line, sep)
  local t = {}
  for f in (line .. sep):gmatch("(.-)" .. sep) do t[#t + 1] = f end
  return t
end

local function parse(out)
  local st = { missing = {}, groups = {}, by_gid = {} }
  for line in out:gmatch("[^\n]+") do
    local tag, rest = line:match("^(%u+):(.*)$")
    tag = tag or line
    if tag == "MISSING" then st.missing[rest] = true
    elseif tag == "P" then
      local f = split(rest, ":")
      st.user = { name = f[1], passwd = f[2], uid = tonumber(f[3]), gid = tonumber(f[4]), comment = f[5] or "",
        home = f[6] or "", shell = f[7] or "" }
    elseif tag == "S" then
      local f = split(rest, ":")
      st.shadow = { hash = f[2] or "", min = tonumber(f[4]) or -1, max = tonumber(f[5]) or -1,
        expire = tonumber(f[8]) or -1 }
    elseif tag == "G" then
      local f = split(rest, ":")
      local g = { name = f[1], gid = tonumber(f[3]), members = {} }
      for m in (f[4] or ""):gmatch("[^,]+") do g.members[m] = true end
      st.groups[#st.groups + 1] = g
      st.groups[g.name] = g
      if g.gid then st.by_gid[g.gid] = st.by_gid[g.gid] or g end
    elseif tag == "HOMEDIR" then st.homedir = true
    elseif tag == "WANTDIR" then st.wantdir = true
    elseif tag == "NOPARENT" then st.noparent = true
    elseif tag == "KF" then st.keyfile = rest
    elseif tag == "KEY" then st.key = true
    elseif tag == "PUB" then st.pub = true
    elseif tag == "FP" then st.fingerprint = rest
    elseif tag == "PK" then st.public_key = rest
    elseif tag == "HN" then st.hostname = rest
    end
  end
  return st
end

local function find_group(st, g)
  local n = tonumber(g)
  return st.groups[g] or (n and st.by_gid[n])
end

-- The groups the user is a member of (the member lists of /etc/group).
local function member_of(st, name)
  local list = {}
  for _, g in ipairs(st.groups) do if g.members[name] then list[#list + 1] = g.name end end
  return list
end

local function wanted_groups(args)
  if args.groups == nil then return nil end
  local set, list = {}, {}
  for _, g in ipairs(args.groups) do
    for x in tostring(g):gmatch("[^,]+") do
      x = x:match("^%s*(.-)%s*$")
      if x ~= "" and not set[x] then set[x] = true; list[#list + 1] = x end
    end
  end
  table.sort(list)
  return list, set
end

-- The account as diff text: the fields this module manages (never the hash).
local function describe(u, sh, groups)
  if not u then return "" end
  local t = {}
  for _, k in ipairs({ "name", "uid", "group", "comment", "home", "shell" }) do
    if u[k] ~= nil then t[#t + 1] = k .. ": " .. tostring(u[k]) end
  end
  t[#t + 1] = "groups: " .. table.concat(groups or {}, ",")
  if sh then
    t[#t + 1] = "expires: " .. tostring(sh.expire)
    t[#t + 1] = "password_lock: " .. tostring(sh.hash:sub(1, 1) == "!")
  end
  return table.concat(t, "\n") .. "\n"
end

local function need_tool(st, tool, what)
  if st.missing[tool] then return tool .. " not found on the host (needed to " .. what .. ")" end
end

local function expire_days(e) return math.floor(e / 86400) end

return {
  params = {
    name = { type = "string", required = true, aliases = { "user" } },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    uid = { type = "integer" },
    non_unique = { type = "boolean", default = false },
    group = { type = "string" },
    groups = { type = "list" },
    append = { type = "boolean", default = false },
    comment = { type = "string" },
    home = { type = "path" },
    shell = { type = "string" },
    password = { type = "string" },
    update_password = { type = "string", default = "always", choices = { "always", "on_create" } },
    password_lock = { type = "boolean" },
    password_expire_min = { type = "integer" },
    password_expire_max = { type = "integer" },
    expires = { type = "number" },
    force = { type = "boolean", default = false },
    remove = { type = "boolean", default = false },
    create_home = { type = "boolean", default = true, aliases = { "createhome" } },
    move_home = { type = "boolean", default = false },
    skeleton = { type = "string" },
    system = { type = "boolean", default = false },
    umask = { type = "string" },
    generate_ssh_key = { type = "boolean" },
    ssh_key_bits = { type = "integer", default = 0 },
    ssh_key_type = { type = "string", default = "rsa" },
    ssh_key_file = { type = "path" },
    ssh_key_comment = { type = "string" },
    ssh_key_passphrase = { type = "string" },
  },
  check_args = function(args)
    local n = args.name
    if n and (n == "" or n:find("^%-") or n:find("[:%s,]")) then
      return nil, "argument 'name' must be a user name (no ':', ',', spaces, no leading '-'), got '" .. n .. "'"
    end
    if args.password and args.password:find("[:\n]") then
      return nil, "argument 'password' must be a crypt(3) hash (no ':' or newline)"
    end
    if args.ssh_key_passphrase then
      return nil, "argument 'ssh_key_passphrase' is not supported (it would have to reach ssh-keygen's command line)"
    end
    if args.umask and not args.umask:match("^[0-7]+$") then
      return nil, "argument 'umask' must be octal digits, got '" .. args.umask .. "'"
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q, name = ctx.quote, args.name
    local keyfile = args.generate_ssh_key and (args.ssh_key_file or (".ssh/id_" .. args.ssh_key_type)) or nil
    local st = parse((ctx:sh(gather_script(ctx, args, keyfile))))
    if st.missing.getent then
      return { failed = true, msg = "getent not found on the host (needed to read accounts)" }
    end
    local u, sh = st.user, st.shadow
    local result = { name = name, state = args.state }
    local cmds, stdin, err = {}, nil, nil
    local before_groups = u and member_of(st, name) or {}
    local after = nil

    if args.state == "absent" then
      if u then
        err = need_tool(st, "userdel", "remove " .. name)
        local c = { "userdel" }
        if args.force then c[#c + 1] = "-f" end
        if args.remove then c[#c + 1] = "-r" end
        c[#c + 1] = q(name)
        cmds[1] = table.concat(c, " ")
        result.force, result.remove = args.force, args.remove
      end
    else
      local groups, gset = wanted_groups(args)
      for _, g in ipairs(groups or {}) do
        if not find_group(st, g) then
          return { failed = true, name = name, msg = "Group " .. g .. " does not exist" }
        end
      end
      local pg = args.group and find_group(st, args.group)
      if args.group and not pg then
        return { failed = true, name = name, msg = "Group " .. args.group .. " does not exist" }
      end
      local hash = args.password
      if hash and args.password_lock then hash = "!" .. hash end
      local set_password = false
      if not u then
        err = need_tool(st, "useradd", "create " .. name)
        local c = { "useradd" }
        if args.uid then c[#c + 1] = "-u " .. args.uid; if args.non_unique then c[#c + 1] = "-o" end end
        if args.group then c[#c + 1] = "-g " .. q(args.group)
        elseif st.groups[name] then c[#c + 1] = "-N" end
        if groups and #groups > 0 then c[#c + 1] = "-G " .. q(table.concat(groups, ",")) end
        if args.comment then c[#c + 1] = "-c " .. q(args.comment) end
        if args.home then c[#c + 1] = "-d " .. q(args.home) end
        if args.shell then c[#c + 1] = "-s " .. q(args.shell) end
        if args.expires then c[#c + 1] = "-e " .. q(args.expires < 0 and "" or os.date("!%Y-%m-%d", args.expires)) end
        if args.create_home then
          c[#c + 1] = "-m"
          if args.skeleton then c[#c + 1] = "-k " .. q(args.skeleton) end
          if args.umask then c[#c + 1] = "-K " .. q("UMASK=" .. args.umask) end
        else
          c[#c + 1] = "-M"
        end
        if args.system then c[#c + 1] = "-r" end
        c[#c + 1] = q(name)
        if st.noparent then cmds[#cmds + 1] = "mkdir -p -- " .. q(ctx.path.dirname(args.home)) end
        cmds[#cmds + 1] = table.concat(c, " ")
        set_password = hash ~= nil
        result.system, result.create_home = args.system, args.create_home
        after = { name = name, uid = args.uid, group = args.group, comment = args.comment, home = args.home,
          shell = args.shell }
      else
        local c = {}
        if args.uid and u.uid ~= args.uid then
          c[#c + 1] = "-u " .. args.uid; if args.non_unique then c[#c + 1] = "-o" end
        end
        if pg and pg.gid ~= u.gid then c[#c + 1] = "-g " .. pg.gid end
        local new_groups = before_groups
        if groups then
          local cur = {}
          for _, g in ipairs(before_groups) do cur[g] = true end
          local need = false
          if #groups == 0 then need = #before_groups > 0 and not args.append
          else
            for _, g in ipairs(groups) do if not cur[g] then need = true end end
            if not args.append then for g in pairs(cur) do if not gset[g] then need = true end end end
          end
          if need then
            c[#c + 1] = (args.append and "-a " or "") .. "-G " .. q(table.concat(groups, ","))
            if args.append then
              new_groups = {}
              for g in pairs(cur) do gset[g] = true end
              for g in pairs(gset) do new_groups[#new_groups + 1] = g end
              table.sort(new_groups)
            else
              new_groups = groups
            end
          end
        end
        if args.comment and u.comment ~= args.comment then c[#c + 1] = "-c " .. q(args.comment) end
        if args.home and u.home ~= args.home then
          c[#c + 1] = "-d " .. q(args.home); if args.move_home then c[#c + 1] = "-m" end
        end
        if args.shell and u.shell ~= args.shell then c[#c + 1] = "-s " .. q(args.shell) end
        local cur_hash = sh and sh.hash or u.passwd
        if args.expires then
          local cur = sh and sh.expire or -1
          if args.expires < 0 then
            if cur >= 0 then c[#c + 1] = "-e ''" end
          elseif cur < 0 or cur ~= expire_days(args.expires) then
            c[#c + 1] = "-e " .. q(os.date("!%Y-%m-%d", args.expires))
          end
        end
        if args.update_password == "always" and args.password
          and cur_hash:gsub("^!+", "") ~= args.password:gsub("^!+", "") then
          set_password = true
        elseif args.password_lock and cur_hash:sub(1, 1) ~= "!" then c[#c + 1] = "-L"
        elseif args.password_lock == false and cur_hash:sub(1, 1) == "!" then c[#c + 1] = "-U"
        end
        if #c > 0 then
          err = need_tool(st, "usermod", "change " .. name)
          cmds[#cmds + 1] = "usermod " .. table.concat(c, " ") .. " " .. q(name)
        end
        result.append, result.move_home = args.append, args.move_home
        after = { name = name, uid = args.uid or u.uid, group = pg and pg.gid or u.gid,
          comment = args.comment or u.comment, home = args.home or u.home, shell = args.shell or u.shell }
        after.groups = new_groups
      end
      if set_password then
        err = err or need_tool(st, "chpasswd", "set the password of " .. name)
        cmds[#cmds + 1] = "chpasswd -e"
        stdin = name .. ":" .. hash .. "\n" -- on stdin: never on a command line
      end
      if args.password then result.password = "NOT_LOGGING_PASSWORD" end
      -- the password ages
      local ch = {}
      if args.password_expire_min and (not sh or sh.min ~= args.password_expire_min) then
        ch[#ch + 1] = "-m " .. args.password_expire_min
      end
      if args.password_expire_max and (not sh or sh.max ~= args.password_expire_max) then
        ch[#ch + 1] = "-M " .. args.password_expire_max
      end
      if #ch > 0 then
        err = err or need_tool(st, "chage", "set the password ages of " .. name)
        cmds[#cmds + 1] = "chage " .. table.concat(ch, " ") .. " " .. q(name)
      end
      -- a home that is missing (an existing account whose folder is gone)
      local home = args.home or (u and u.home)
      local home_there = (args.home and st.wantdir) or (not args.home and st.homedir)
      if u and args.create_home and home and home ~= "" and not home_there
        and not (args.move_home and args.home and args.home ~= u.home) then
        local skel = q(args.skeleton or "/etc/skel")
        cmds[#cmds + 1] = "{ if [ -d " .. skel .. " ]; then cp -a " .. skel .. " " .. q(home) .. "; else mkdir -p -- "
          .. q(home) .. "; fi; um=$(sed -n 's/^UMASK[[:space:]]*\\([0-7]*\\)$/\\1/p' /etc/login.defs 2>/dev/null);"
          .. " [ -z \"$um\" ] || chmod \"$(printf '%o' $((0777 & ~0$um)))\" " .. q(home) .. "; chown -R "
          .. q(name) .. ": " .. q(home) .. "; }"
      end
      -- the SSH key
      if keyfile and not (st.key or st.pub) then
        err = err or need_tool(st, "ssh-keygen", "generate the SSH key of " .. name)
        local k = st.keyfile or keyfile
        local comment = args.ssh_key_comment or ("ansible-generated on " .. (st.hostname or ""))
        local kq = keyfile:sub(1, 1) == "/" and q(k)
          or ("\"$(getent passwd -- " .. q(name) .. " | cut -d: -f6)\"/" .. q(keyfile))
        cmds[#cmds + 1] = "{ k=" .. kq .. "; d=$(dirname \"$k\"); if [ ! -d \"$d\" ]; then mkdir -m 0700 \"$d\" &&"
          .. " chown " .. q(name) .. ": \"$d\"; fi && ssh-keygen -q -t " .. q(args.ssh_key_type)
          .. (args.ssh_key_bits > 0 and (" -b " .. args.ssh_key_bits) or "") .. " -C " .. q(comment)
          .. " -f \"$k\" -N '' </dev/null >/dev/null && chown " .. q(name) .. ": \"$k\" \"$k.pub\"; }"
      end
    end
    if err and #cmds > 0 then return { failed = true, name = name, msg = err } end

    local changed = #cmds > 0
    result.changed = changed
    if ctx.diff and changed then
      local a = nil
      if args.state == "present" then
        a = after or {}
        a.groups = a.groups or (wanted_groups(args)) or before_groups
      end
      result.diff = { before = describe(u and { name = name, uid = u.uid, group = u.gid, comment = u.comment,
        home = u.home, shell = u.shell }, nil, before_groups), after = describe(a, nil, a and a.groups),
        before_header = "user " .. name, after_header = "user " .. name }
    end
    if changed and ctx.check_mode then
      result.msg = "would run: " .. table.concat(cmds, "; ")
      return result
    end
    local final = st
    if changed then
      local script = table.concat(cmds, " && ") .. "\nrc=$?\n[ $rc -eq 0 ] || exit $rc\n"
        .. gather_script(ctx, args, keyfile) -- and read back what is now
      local res = ctx:run(script, { stdin = stdin or "" })
      if not res.ok then
        local e = ctx.chomp(res.stderr)
        return { failed = true, changed = false, name = name, rc = res.rc,
          msg = e ~= "" and e or ("exit status " .. tostring(res.rc)) }
      end
      final = parse(res.stdout)
      if ctx.chomp(res.stderr) ~= "" then result.stderr = ctx.chomp(res.stderr) end
    end
    local fu = final.user
    if args.state == "present" and fu then
      result.uid, result.group, result.comment = fu.uid, fu.gid, fu.comment
      result.home, result.shell = fu.home, fu.shell
      if args.groups then result.groups = table.concat((wanted_groups(args)), ",") end
      if keyfile then
        result.ssh_key_file = final.keyfile
        result.ssh_fingerprint = final.fingerprint
        result.ssh_public_key = final.public_key
      end
    end
    return result
  end,
}
