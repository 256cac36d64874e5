-- unarchive: an archive extracted into dest on the host, as Ansible's
-- unarchive: src from the controller (copied to a temporary folder on the
-- host first), on the host (remote_src), or a URL the host downloads
-- (get_url's request, module/lib/http_request.lua: curl, wget or python3;
-- progress streamed; remote_src implied). Handlers in Ansible's order:
-- ZipArchive (unzip + zipinfo), ZipZArchive (unzip -Z), then GNU tar's (gz,
-- plain, bz2, xz, zst).
--   tar: `changed` as Ansible decides it: `tar --diff` against dest, its
--   "differs"/"Cannot stat" lines (owner, group and mode lines only when not
--   given); nothing differs: nothing extracted. Skipped under --check.
--   zip: every member compared as Ansible's ZipArchive does (missing, type,
--   mtime, size, CRC-32, mode, owner, group) from one listing of the archive
--   and of dest; `unzip -o` when one differs; --check says what would
--   change, --diff shows Ansible's itemized lines.
-- The extraction streams its lines as output and progress.
-- Round trips: tar 1 (creates, list, diff and, when needed, extract in one script),
-- zip 1 unchanged / 2 changed; a controller src adds a temporary folder and
-- the transfer (and, for an unchanged zip, its removal); a URL adds none.
-- The handlers are module/lib/unarchive_tar.lua and unarchive_zip.lua, what
-- they share module/lib/unarchive_common.lua (ctx.lib); this file is the
-- module's flow: where src comes from, the one script, which handler.
local M = {
  controller_paths = { src = "remote_src" }, -- (`~` in src is this machine's unless remote_src)
  params = {
    src = { type = "path", required = true },
    dest = { type = "path", required = true },
    remote_src = { type = "boolean", default = false },
    copy = { type = "boolean" },
    creates = { type = "path" },
    list_files = { type = "boolean", default = false },
    keep_newer = { type = "boolean", default = false },
    exclude = { type = "list", default = {} },
    include = { type = "list", default = {} },
    extra_opts = { type = "list", default = {} },
    decrypt = { type = "boolean", default = true },
    validate_certs = { type = "boolean", default = true },
    io_buffer_size = { type = "integer", default = 65536 },
    env = { type = "dict" }, -- the task's `environment` (play/playbook_task.lua): the download's and tools' environment
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  mutually_exclusive = { { "include", "exclude" }, { "copy", "remote_src" } },
  check_mode = true,
}

local function is_url(s) return s:find("://", 1, true) ~= nil end

-- src downloaded by the host (a URL), then the checks of src and dest
local function prelude(ctx, args, src)
  local q = ctx.quote
  local s = { "A=$(printf '\\001'); src=" .. q(src) .. "; dest=" .. q(args.dest) .. "; TMPU=" }
  if args.creates then s[#s + 1] = "[ -e " .. q(args.creates) .. " ] && { printf '\\001K\\n'; exit 0; }" end
  if is_url(src) then
    local name = src:gsub("[?#].*$", ""):match("([^/]*)$")
    if name == "" then name = "download" end
    s[#s + 1] = table.concat({
      'cfgall=$(mktemp) && cat >"$cfgall" || exit 1',
      'TMPU=$(mktemp -d "${TMPDIR:-/tmp}/.luasible-unarchive.XXXXXXXX") && BODY="$TMPU"/' .. q(name)
        .. ' && HDR=$(mktemp) || exit 1',
      "out=$(", ctx.lib("http_request").fetch_sh(q), ")", 'rm -f "$cfgall" "$HDR"',
      'case $out in *@notool*) rm -rf "$TMPU"; echo "Failure downloading $src: the host has none of curl, wget,'
        .. ' python3" >&2; exit 15;; esac',
      'st=$(printf "%s\\n" "$out" | sed -n "s/^@status //p" | tail -n 1); code=${st%% *}',
      'if [ "$code" != 200 ]; then rm -rf "$TMPU"; case $code in -1|0|"") why="cannot reach it";;'
        .. ' *) why="HTTP status $code";; esac; echo "Failure downloading $src, $why" >&2; exit 15; fi',
      'src=$BODY; printf "\\001P %s\\n" "$TMPU"',
    }, "\n")
  end
  s[#s + 1] = [[printf '\001F %s\n' "$src"
[ -e "$src" ] || { echo "Source '$src' does not exist" >&2; exit 10; }
[ -r "$src" ] || { echo "Source '$src' not readable" >&2; exit 10; }
[ -s "$src" ] || { echo "Invalid archive '$src', the file is 0 bytes" >&2; exit 10; }
[ -d "$dest" ] || { echo "Destination '$dest' is not a directory" >&2; exit 10; }]]
  return table.concat(s, "\n")
end

function M.run(ctx, args)
  local q = ctx.quote
  local url = is_url(args.src) and args.src or nil
  local remote = args.remote_src or args.copy == false or url ~= nil
  local skipped = { skipped = true, changed = false, msg = "skipped, since " .. tostring(args.creates) .. " exists" }
  -- (creates: checked first in the one script for a src on the host; before the transfer for a controller's)
  if args.creates and not remote and ctx:exists(args.creates) then return skipped end
  local src, tmp, stdin = args.src, nil, nil
  if url then
    local err
    stdin, err = ctx.lib("http_request").fetch_stdin({ url = url, method = "GET", follow = true, timeout = 10,
      validate_certs = args.validate_certs })
    if not stdin then return { failed = true, msg = err } end
  elseif not remote then
    local path = ctx:find_local(args.src, "files")
    local content, err
    if args.decrypt == false then content, err = ctx.read_raw(path) else content, err = ctx.read_file(path) end
    if not content then
      return { failed = true, msg = "could not find or read src '" .. args.src .. "': " .. tostring(err) }
    end
    local out, rc = ctx:sh("mktemp -d \"${TMPDIR:-/tmp}/.luasible-unarchive.XXXXXXXX\"")
    if rc ~= 0 then return { failed = true, msg = "cannot make a temporary folder on the host: " .. out } end
    tmp = out
    src = tmp .. "/source"
    local ok, werr = ctx:write(content, src, "0600", function(p)
      p.stage = p.stage or "transferring"
      p.message = src
      ctx:progress(p)
    end)
    if not ok then
      ctx:run({ "rm", "-rf", "--", tmp })
      return { failed = true, msg = "Source '" .. args.src .. "' failed to transfer: " .. tostring(werr) }
    end
  end
  local script = table.concat({ prelude(ctx, args, src), tmp and ("TMPU=" .. q(tmp)) or "",
    ctx.lib("unarchive_zip").probe(ctx, args), ctx.lib("unarchive_tar").script(ctx, args, ctx.check_mode) }, "\n")
  local res, lines = ctx.lib("unarchive_common").run_tagged(ctx, script, stdin, url, args.env)
  local result = { dest = args.dest, src = src, changed = false }
  local zip = false
  for _, l in ipairs(lines) do
    if l.tag == "K" then return skipped
    elseif l.tag == "F" then result.src = l.rest
    elseif l.tag == "P" then tmp = l.rest
    elseif l.tag == "H" then result.handler = l.rest; zip = l.rest:find("^Zip") ~= nil
    elseif l.tag == "T" then
      -- Ansible's tar handlers do not run in check mode
      if tmp then ctx:run({ "rm", "-rf", "--", tmp }) end
      return { skipped = true, changed = false,
        msg = "remote module (unarchive) does not support check mode when using gtar" }
    end
  end
  if not result.handler then
    if tmp then ctx:run({ "rm", "-rf", "--", tmp }) end
    local err = {}
    for l in (res.stderr or ""):gmatch("[^\r\n]+") do -- (without a download's progress lines)
      if not l:match("^[#%s]*[%d.]+%%%s*$") and not l:match("^%s*$") then err[#err + 1] = l end
    end
    local fail, why
    for _, l in ipairs(err) do -- a download's failure: its line, and the tool's reason
      if l:find("^Failure downloading ") then fail = l end
      why = why or l:match("^curl: %(%d+%) (.*)$") or l:match("^python3: (.*)$") or l:match("^wget: (.*)$")
    end
    if fail then return { failed = true, msg = fail .. (why and (" (" .. why .. ")") or "") } end
    return { failed = true, msg = #err > 0 and table.concat(err, "\n") or "unarchive failed" }
  end
  if zip then return M.zip(ctx, args, result, lines, tmp) end
  return ctx.lib("unarchive_tar").result(ctx, args, result, lines)
end

-- a zip: the members compared as Ansible's ZipArchive.is_unarchived, then extracted when one differs
-- (module/lib/unarchive_zip.lua)
function M.zip(ctx, args, result, lines, tmp)
  return ctx.lib("unarchive_zip").unarchive(ctx, args, result, lines, tmp)
end

return M
