-- tempfile: a new temporary file (0600) or directory (0700) on the host, as
-- Ansible's tempfile: PREFIX + random + SUFFIX in `path` (default: the
-- host's $TMPDIR or /tmp). Always changed; skipped under --check, as
-- Ansible's (it does not support check mode). One round trip (mktemp(1)).
return {
  params = {
    state = { type = "string", default = "file", choices = { "file", "directory" } },
    path = { type = "path" },
    prefix = { type = "string", default = "ansible." },
    suffix = { type = "string", default = "" },
  },
  check_mode = false,
  run = function(ctx, args)
    local q = ctx.quote
    if args.prefix:find("/", 1, true) or args.suffix:find("/", 1, true) then
      return { failed = true, msg = "prefix and suffix cannot hold a '/'" }
    end
    local dir = args.path and q(args.path) or '"${TMPDIR:-/tmp}"'
    local script = [[command -v mktemp >/dev/null 2>&1 ||
  { echo "the host has no 'mktemp' command (coreutils)" >&2; exit 127; }
p=$(mktemp ]] .. (args.state == "directory" and "-d " or "") .. "--suffix=" .. q(args.suffix) .. " -p " .. dir .. " -- "
      .. q(args.prefix .. "XXXXXXXX") .. [[) || exit 1
stat -c '%n|%u|%g|%U|%G|%a|%s' -- "$p"]]
    local res = ctx:run(script)
    if not res.ok then return { failed = true, msg = ctx.chomp(res.stderr) } end
    local p, uid, gid, owner, group, mode, size =
      ctx.chomp(res.stdout):match("^(.*)|(%d+)|(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)$")
    if not p then return { failed = true, msg = "mktemp said: " .. ctx.chomp(res.stdout) } end
    return { changed = true, path = p, uid = tonumber(uid), gid = tonumber(gid), owner = owner, group = group,
      mode = string.format("%04o", tonumber(mode, 8)), state = args.state, size = tonumber(size) }
  end,
}
