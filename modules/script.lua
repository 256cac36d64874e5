-- script: a local script copied to the host and run there, as Ansible's
-- script: `script: files/setup.sh --flag` (the first word the file, found
-- as copy finds its src — the play's files/, its folder — the rest its
-- arguments, as shell words), creates / removes (skipped when they say so),
-- chdir (absolute), executable (`executable SCRIPT ARGS`), decrypt (a vault
-- file decrypted on the controller). One round trip: the script goes on the
-- command's stdin into a private temporary folder (mktemp -d, 0700),
-- is made executable and run, and the folder is removed; creates/removes
-- are checked in the same command. Output streamed; registered as it came.
-- Under --check nothing runs: skipped, or changed with creates/removes.
local function word_end(s)
  -- the first shell word of s (quotes honoured): its end index
  local i, n, quote = 1, #s, nil
  while i <= n do
    local c = s:sub(i, i)
    if quote then if c == quote then quote = nil end
    elseif c == "'" or c == '"' then quote = c
    elseif c == "\\" then i = i + 1
    elseif c:match("%s") then return i - 1 end
    i = i + 1
  end
  return n
end

return {
  free_form = "cmd",
  params = {
    cmd = { type = "string", required = true },
    creates = { type = "path" },
    removes = { type = "path" },
    chdir = { type = "path" },
    executable = { type = "string" },
    decrypt = { type = "boolean", default = true },
    timeout = { type = "number" },
  },
  check_args = function(args)
    if args.chdir and args.chdir:sub(1, 1) ~= "/" then
      return nil, "argument 'chdir': " .. args.chdir .. " must be an absolute path for a Unix-aware remote node"
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local text = args.cmd:match("^%s*(.-)%s*$")
    local e = word_end(text)
    local words = ctx.argv(text:sub(1, e))
    if not words or not words[1] then return { failed = true, msg = "script: no script given" } end
    local rest = text:sub(e + 1)
    local src = ctx:find_local(words[1], "files")
    local body, err = (args.decrypt and ctx.read_file or ctx.read_raw)(src)
    if not body then
      return { failed = true, msg = "could not find or read the script " .. words[1] .. ": " .. tostring(err) }
    end
    local nonce = ctx.sha256(src .. tostring(ctx.now())):sub(1, 16)
    local skip = "__luasible_script_skip_" .. nonce
    local s = { "d=$(mktemp -d) || exit 1; trap 'rm -rf \"$d\"' EXIT" }
    if args.creates then s[#s + 1] = "if [ -e " .. q(args.creates) .. " ]; then echo " .. skip .. "c; exit 0; fi" end
    if args.removes then s[#s + 1] = "if [ ! -e " .. q(args.removes) .. " ]; then echo " .. skip .. "r; exit 0; fi" end
    if ctx.check_mode then
      s[#s + 1] = "echo " .. skip .. "n; exit 0"
    else
      local name = ctx.path.basename(src)
      s[#s + 1] = "cat > \"$d\"/" .. q(name) .. " && chmod 0700 \"$d\"/" .. q(name)
      if args.chdir then s[#s + 1] = "cd " .. q(args.chdir) .. " || exit 1" end
      local exe = args.executable and (q(args.executable) .. " ") or ""
      s[#s + 1] = exe .. "\"$d\"/" .. q(name) .. rest .. " </dev/null"
    end
    local emit = ctx.emit
    local skipped
    local res = ctx:run(table.concat(s, "\n") .. "\n", {
      stdin = ctx.check_mode and "" or body, timeout = args.timeout,
      on_output = function(line, is_stderr, ev)
        local m = line:match("^" .. skip .. "(%a)$")
        if m and not is_stderr then skipped = m return end
        emit({ type = is_stderr and "stderr" or "stdout", data = line }, ev)
      end })
    if skipped == "c" then
      return { skipped = true, changed = false, msg = args.creates .. " exists, matching creates option" }
    end
    if skipped == "r" then
      return { skipped = true, changed = false, msg = args.removes .. " does not exist, matching removes option" }
    end
    if skipped == "n" then
      if args.creates or args.removes then return { changed = true, msg = "would run " .. words[1] } end
      return { skipped = true, changed = false, msg = "Check mode is not supported for this task." }
    end
    return { changed = true, failed = not res.ok, rc = res.rc, stdout = res.stdout or "", stderr = res.stderr or "",
      msg = (res.timed_out and "timed out") or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil }
  end,
}
