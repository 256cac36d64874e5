-- synchronize: rsync between this machine (the controller) and the host,
-- over the host's own SSH settings as luasible resolved them (address,
-- port, user, keys, known_hosts and its host key policy, a ProxyJump chain
-- as nested ProxyCommands, a ProxyCommand), push (default) or pull.
-- Arguments and result as Ansible's ansible.posix.synchronize (not part of
-- ansible-core, so its semantics are rsync's own): changed when rsync's
-- itemized output (--out-format "<<CHANGED>>%i %n%L") names anything;
-- --check adds --dry-run. Progress comes from rsync's --info=progress2.
local M = {
  controller_paths = { src = "skip", dest = "skip", private_key = "skip" }, -- (its own rules)
  params = {
    src = { type = "path", required = true },
    dest = { type = "path", required = true },
    mode = { type = "string", default = "push", choices = { "push", "pull" } },
    archive = { type = "boolean", default = true },
    checksum = { type = "boolean", default = false },
    compress = { type = "boolean", default = true },
    existing_only = { type = "boolean", default = false },
    delete = { type = "boolean", default = false },
    dirs = { type = "boolean", default = false },
    recursive = { type = "boolean" },
    links = { type = "boolean" },
    copy_links = { type = "boolean", default = false },
    perms = { type = "boolean" },
    times = { type = "boolean" },
    owner = { type = "boolean" },
    group = { type = "boolean" },
    rsync_path = { type = "string" },
    rsync_timeout = { type = "integer", default = 0 },
    rsync_opts = { type = "list", default = {} },
    set_remote_user = { type = "boolean", default = true },
    private_key = { type = "path" },
    dest_port = { type = "integer" },
    partial = { type = "boolean", default = false },
    delay_updates = { type = "boolean", default = true },
    verify_host = { type = "boolean", default = true },
    link_dest = { type = "list" },
  },
  check_mode = true,
}

local MARK = "<<CHANGED>>"

function M.check_args(args)
  for _, o in ipairs(args.rsync_opts or {}) do
    local s = tostring(o)
    if s:match("^%-e") or s:match("^%-%-rsh") then
      return nil, "rsync_opts: '" .. s .. "': the ssh command is synchronize's own (the host's SSH settings)"
    end
  end
  return true
end

-- a word of rsync's -e string: rsync splits it on spaces, honouring single
-- and double quotes (no backslashes)
local function eword(w)
  if not w:find("[%s'\"]") then return w end
  if not w:find("'", 1, true) then return "'" .. w .. "'" end
  if not w:find('"', 1, true) then return '"' .. w .. '"' end
  return nil, "cannot pass " .. w .. " to rsync's -e (it holds both kinds of quotes)"
end

local CHECK = { strict = "yes", ["accept-new"] = "accept-new", off = "no" }

-- the ssh options of one hop or target: keys, known_hosts, its policy
local function ssh_opts(s, verify, extra_key)
  local o = { "-o", "BatchMode=yes", "-F", "/dev/null", "-S", "none", "-o", "ConnectTimeout=10" }
  local keys = {}
  if extra_key then keys[1] = extra_key end
  for _, k in ipairs(s.identities or {}) do keys[#keys + 1] = k end
  for _, k in ipairs(keys) do o[#o + 1] = "-i"; o[#o + 1] = k end
  if #keys > 0 then o[#o + 1] = "-o"; o[#o + 1] = "IdentitiesOnly=yes" end
  if s.known_hosts then o[#o + 1] = "-o"; o[#o + 1] = "UserKnownHostsFile=" .. s.known_hosts end
  o[#o + 1] = "-o"
  o[#o + 1] = "StrictHostKeyChecking=" .. (verify and (CHECK[s.host_key_check] or "yes") or "no")
  return o
end

-- the ProxyCommand that reaches hop i of the chain (through the ones
-- before it): `ssh <hop's options> -W host:port user@hop`, shell-quoted
-- (ssh runs it with sh -c), each level inside the next
local function proxy(ctx, hops, i, target, verify)
  local h = hops[i]
  local words = { "ssh" }
  for _, w in ipairs(ssh_opts(h, verify)) do words[#words + 1] = w end
  if i > 1 then
    words[#words + 1] = "-o"
    words[#words + 1] = "ProxyCommand=" .. proxy(ctx, hops, i - 1, h, verify)
  end
  words[#words + 1] = "-p"
  words[#words + 1] = tostring(h.port or 22)
  local host = target.host:find(":", 1, true) and ("[" .. target.host .. "]") or target.host
  words[#words + 1] = "-W"
  words[#words + 1] = host .. ":" .. tostring(target.port or 22)
  words[#words + 1] = (h.user and (h.user .. "@") or "") .. h.host
  local q = {}
  for k, w in ipairs(words) do q[k] = ctx.quote(w) end
  return table.concat(q, " ")
end

-- rsync's -e: the ssh command for the target, or nil, err
local function rsh(ctx, s, args)
  local words = { "ssh" }
  for _, w in ipairs(ssh_opts(s, args.verify_host, args.private_key)) do words[#words + 1] = w end
  words[#words + 1] = "-o"
  words[#words + 1] = "Port=" .. tostring(args.dest_port or s.port or 22)
  local pc = s.proxy_command
  if s.jump and #s.jump > 0 then pc = proxy(ctx, s.jump, #s.jump, { host = s.host, port = args.dest_port or s.port },
    args.verify_host) end
  if pc then
    if pc:find("%", 1, true) then return nil, "a ProxyCommand holding '%' cannot be passed on" end
    words[#words + 1] = "-o"
    words[#words + 1] = "ProxyCommand=" .. pc
  end
  local out = {}
  for i, w in ipairs(words) do
    local e, err = eword(w)
    if not e then return nil, err end
    out[i] = e
  end
  return table.concat(out, " ")
end

local function flag(argv, v, name)
  if v == true then argv[#argv + 1] = "--" .. name
  elseif v == false then argv[#argv + 1] = "--no-" .. name end
end

local function build(ctx, args, s)
  local argv = { "rsync", "--out-format=" .. MARK .. "%i %n%L", "--info=progress2" }
  if args.delay_updates then argv[#argv + 1] = "--delay-updates" end
  argv[#argv + 1] = "-F"
  if args.compress then argv[#argv + 1] = "--compress" end
  if args.archive then argv[#argv + 1] = "--archive" end
  flag(argv, args.recursive, "recursive")
  flag(argv, args.links, "links")
  flag(argv, args.perms, "perms")
  flag(argv, args.times, "times")
  flag(argv, args.owner, "owner")
  flag(argv, args.group, "group")
  if args.checksum then argv[#argv + 1] = "--checksum" end
  if args.existing_only then argv[#argv + 1] = "--existing" end
  if args.dirs then argv[#argv + 1] = "--dirs" end
  if args.copy_links then argv[#argv + 1] = "--copy-links" end
  if args.partial then argv[#argv + 1] = "--partial" end
  if args.delete then argv[#argv + 1] = "--delete-after" end
  if args.rsync_timeout and args.rsync_timeout > 0 then argv[#argv + 1] = "--timeout=" .. args.rsync_timeout end
  for _, l in ipairs(args.link_dest or {}) do argv[#argv + 1] = "--link-dest=" .. l end
  if ctx.check_mode then argv[#argv + 1] = "--dry-run" end
  local rpath = args.rsync_path
  if not rpath and ctx.become and ctx.become.become then rpath = "sudo -n rsync" end
  if rpath and s then argv[#argv + 1] = "--rsync-path=" .. rpath end
  for _, o in ipairs(args.rsync_opts or {}) do argv[#argv + 1] = tostring(o) end
  local src, dest = args.src, args.dest
  if args.mode == "push" then
    local found = ctx:find_local(src, "files")
    if src:sub(-1) == "/" and found:sub(-1) ~= "/" then found = found .. "/" end
    src = found
  end
  if s then
    local e, err = rsh(ctx, s, args)
    if not e then return nil, err end
    argv[#argv + 1] = "-e"
    argv[#argv + 1] = e
    local host = s.host:find(":", 1, true) and ("[" .. s.host .. "]") or s.host
    local prefix = ((args.set_remote_user and s.user) and (s.user .. "@") or "") .. host .. ":"
    if args.mode == "push" then dest = prefix .. dest else src = prefix .. src end
  end
  argv[#argv + 1] = "--"
  argv[#argv + 1] = src
  argv[#argv + 1] = dest
  return argv
end

function M.run(ctx, args)
  local s = ctx:ssh_settings()
  if not s and ctx.conn.kind ~= "local" then
    return { failed = true, msg = "synchronize: needs an SSH or a local connection (this host's is "
      .. tostring(ctx.conn.kind) .. ")" }
  end
  local argv, err = build(ctx, args, s)
  if not argv then return { failed = true, msg = "synchronize: " .. err } end
  local q = {}
  for i, w in ipairs(argv) do q[i] = ctx.quote(w) end
  local cmd = table.concat(q, " ")
  local res, rerr, name = ctx:run_local(argv, { allow_error = true, on_output = function(line, is_stderr, ev)
    local p = not is_stderr and tonumber(line:match("^%s*[%d,]+%s+(%d+)%%"))
    if p then
      ctx:progress({ stage = "transferring", percentage = p, message = ctx.chomp(line:match("^%s*(.-)%s*$")) })
      return
    end
    if line:sub(1, #MARK) == MARK then line = line:sub(#MARK + 1) end
    if line ~= "" then ctx.emit({ type = is_stderr and "stderr" or "stdout", data = line }, ev) end
  end })
  if not res then
    if name == "ENOENT" then
      return { failed = true, msg = "synchronize: this machine (the controller) has no rsync" }
    end
    return { failed = true, msg = "synchronize: " .. tostring(rerr), cmd = cmd }
  end
  local items = {}
  for line in (res.stdout or ""):gmatch("[^\r\n]+") do
    if line:sub(1, #MARK) == MARK then items[#items + 1] = line:sub(#MARK + 1) end
  end
  local result = { changed = #items > 0, rc = res.rc, cmd = cmd, msg = table.concat(items, "\n"),
    stdout_lines = items }
  if res.rc ~= 0 then
    local e = ctx.chomp(res.stderr or "")
    result.failed = true
    if (res.rc == 12 or res.rc == 127) and (e:find("not found", 1, true) or e:find("No such file", 1, true)) then
      result.msg = "synchronize: the host has no rsync (" .. (e:match("([^\n]*)") or "") .. ")"
    else
      result.msg = "rsync failed (rc " .. tostring(res.rc) .. "): " .. e
    end
    result.stderr = e
    return result
  end
  if ctx.diff and result.changed then result.diff = { prepared = result.msg .. "\n" } end
  return result
end

return M
