-- slurp: a file of the host, base64-encoded, as Ansible's slurp (content,
-- encoding = "base64", source); b64decode gives it back. One round trip
-- (base64 of coreutils on the host).
return {
  params = {
    src = { type = "path", required = true, aliases = { "path" } },
  },
  check_mode = true,
  run = function(ctx, args)
    local src = args.src
    local script = "p=" .. ctx.quote(src) .. "\n" .. [[
command -v base64 >/dev/null 2>&1 || { echo "the host has no 'base64' command (coreutils)" >&2; exit 127; }
[ -d "$p" ] && { echo "source is a directory and must be a file: $p" >&2; exit 21; }
[ -e "$p" ] || { echo "file not found: $p" >&2; exit 2; }
[ -r "$p" ] || { echo "file is not readable: $p" >&2; exit 13; }
base64 -w 0 < "$p" || exit 1]]
    local res = ctx:run(script)
    if not res.ok then
      local err = ctx.chomp(res.stderr)
      return { failed = true, msg = err ~= "" and err or ("unable to slurp file: " .. src) }
    end
    return { changed = false, content = ctx.chomp(res.stdout), source = src, encoding = "base64" }
  end,
}
