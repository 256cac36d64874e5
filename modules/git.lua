-- git: a checkout (or a bare clone) of a repository at dest on the host,
-- made by the host's own git. As Ansible's: clone when dest has no
-- repository, else (update) fetch from the remote and switch to `version`
-- (a branch: reset to the remote's; a tag or a commit: checked out);
-- changed when HEAD moved, the remote URL changed or local modifications
-- were discarded (force). Local modifications without force fail.
-- The whole run is one remote script (probe, clone or fetch, switch, the
-- commits before and after): one round trip, also in the unchanged case.
-- Under --check: nothing is written, `git ls-remote` tells the remote's
-- commit (after) and changed is before ~= after.
local M = {
  params = {
    repo = { type = "string", required = true, aliases = { "name" } },
    dest = { type = "path" },
    version = { type = "string", default = "HEAD" },
    remote = { type = "string", default = "origin" },
    depth = { type = "integer" },
    clone = { type = "boolean", default = true },
    update = { type = "boolean", default = true },
    force = { type = "boolean", default = false },
    bare = { type = "boolean", default = false },
    accept_hostkey = { type = "boolean", default = false },
    accept_newhostkey = { type = "boolean", default = false },
    key_file = { type = "path" },
    ssh_opts = { type = "string" },
    executable = { type = "path" },
    single_branch = { type = "boolean", default = false },
    umask = { type = "string" },
  },
  check_mode = true,
}

function M.check_args(args)
  if args.depth ~= nil and args.depth < 1 then
    return nil, "depth: must be a positive number (got " .. args.depth .. ")"
  end
  if args.umask ~= nil and not tostring(args.umask):match("^[0-7]+$") then
    return nil, "umask: must be an octal integer (a quoted string such as '0022')"
  end
  if not args.dest and args.clone ~= false then
    return nil, "dest: the destination directory must be specified unless clone=no"
  end
  if args.version and (args.version:match("^%-") or args.version:find("[%c ]")) then
    return nil, "version: '" .. args.version .. "' is not a branch, tag or commit name"
  end
  if args.remote and not args.remote:match("^[%w._-]+$") then
    return nil, "remote: '" .. args.remote .. "' is not a remote name"
  end
  return true
end

-- the ssh command git uses (GIT_SSH_COMMAND): never asks (BatchMode), the
-- key file and host key policy of the task
local function ssh_command(ctx, args)
  local words = { "ssh", "-o", "BatchMode=yes" }
  if args.key_file then
    words[#words + 1] = "-i " .. ctx.quote(args.key_file) .. " -o IdentitiesOnly=yes"
  end
  local opts = args.ssh_opts or ""
  if args.accept_hostkey and not opts:find("StrictHostKeyChecking") then
    words[#words + 1] = "-o StrictHostKeyChecking=no"
  elseif args.accept_newhostkey and not opts:find("StrictHostKeyChecking") then
    words[#words + 1] = "-o StrictHostKeyChecking=accept-new"
  end
  if opts ~= "" then words[#words + 1] = opts end
  return table.concat(words, " ")
end

local SCRIPT = [=[
command -v "$GIT" >/dev/null 2>&1 || { echo "@nogit"; exit 0; }
export GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND="$SSHCMD" LC_ALL=C
[ -n "$UMASK" ] && umask "$UMASK"
if [ $BARE = 1 ]; then G() { "$GIT" --git-dir="$DEST" "$@"; }; CFG=$DEST/config
else G() { "$GIT" -C "$DEST" "$@"; }; CFG=$DEST/.git/config; fi
# the commit `version` names on a remote (REPO or the remote of dest), as ls-remote tells
remote_head() {
  if [ "$VERSION" = HEAD ]; then ls=$("$GIT" ls-remote "$1" HEAD) || return 1; echo "${ls%%[	 ]*}"; return 0; fi
  ls=$("$GIT" ls-remote "$1" "refs/heads/$VERSION" "refs/tags/$VERSION" "refs/tags/$VERSION^{}") || return 1
  h=$(echo "$ls" | awk -v v="refs/heads/$VERSION" '$2==v{print $1}')
  p=$(echo "$ls" | awk -v v="refs/tags/$VERSION^{}" '$2==v{print $1}')
  t=$(echo "$ls" | awk -v v="refs/tags/$VERSION" '$2==v{print $1}')
  if [ -n "$h" ]; then echo "$h"; elif [ -n "$p" ]; then echo "$p"
  elif [ -n "$t" ]; then echo "$t"; else echo "$VERSION"; fi
}
# checkout of the version: a branch follows the remote's, a tag or a commit is checked out
switch() {
  [ $BARE = 1 ] && return 0
  v=$VERSION
  if [ "$v" = HEAD ]; then
    v=$(G symbolic-ref -q --short "refs/remotes/$REMOTE/HEAD" 2>/dev/null) && v=${v#"$REMOTE"/} || v=
    [ -n "$v" ] || v=$("$GIT" ls-remote --symref "$REPO" HEAD | sed -n 's|^ref: refs/heads/\([^	]*\)	HEAD$|\1|p')
  fi
  if [ -n "$v" ] && G show-ref --verify --quiet "refs/remotes/$REMOTE/$v"; then
    if G show-ref --verify --quiet "refs/heads/$v"; then G checkout --force -q "$v" || return 1
    else G checkout --force -q -B "$v" --track "$REMOTE/$v" || return 1; fi
    G reset --hard -q "$REMOTE/$v" || return 1
  else
    G checkout --force -q "$VERSION" || return 1
  fi
}
if [ ! -e "$CFG" ]; then
  echo "@new"
  if [ $CHECK = 1 ] || [ $CLONE = 0 ]; then echo "@after $(remote_head "$REPO")"; exit 0; fi
  if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ]; then echo "@notempty"; exit 0; fi
  set -- clone --progress --origin "$REMOTE"
  [ $BARE = 1 ] && set -- "$@" --bare
  [ -n "$DEPTH" ] && set -- "$@" --depth "$DEPTH"
  [ $SINGLE = 1 ] && set -- "$@" --single-branch
  if [ -n "$DEPTH" ] || [ $SINGLE = 1 ]; then
    [ "$VERSION" != HEAD ] \
      && "$GIT" ls-remote --exit-code "$REPO" "refs/heads/$VERSION" "refs/tags/$VERSION" >/dev/null 2>&1 \
      && set -- "$@" --branch "$VERSION"
  fi
  "$GIT" "$@" -- "$REPO" "$DEST" || { echo "@failed clone"; exit 0; }
  if [ $BARE = 1 ]; then G config remote."$REMOTE".fetch '+refs/heads/*:refs/heads/*'; fi
  switch || { echo "@failed checkout $VERSION"; exit 0; }
  echo "@after $(G rev-parse HEAD)"
  exit 0
fi
echo "@before $(G rev-parse HEAD 2>/dev/null)"
[ $UPDATE = 1 ] || { echo "@noupdate"; exit 0; }
if [ $BARE = 0 ] && [ -n "$(G status --porcelain | grep -v '^??')" ]; then
  echo "@localmods"
  [ $FORCE = 1 ] || exit 0
  [ $CHECK = 1 ] || G reset --hard -q HEAD || { echo "@failed reset"; exit 0; }
fi
url=$(G config --get "remote.$REMOTE.url")
if [ "$url" != "$REPO" ]; then
  echo "@urlchanged $url"
  if [ $CHECK = 0 ]; then
    if [ -n "$url" ]; then G remote set-url "$REMOTE" "$REPO"; else G remote add "$REMOTE" "$REPO"; fi \
      || { echo "@failed remote"; exit 0; }
  fi
fi
if [ $CHECK = 1 ]; then echo "@after $(remote_head "$REPO")"; exit 0; fi
if [ $BARE = 1 ]; then set -- "+refs/heads/*:refs/heads/*" "+refs/tags/*:refs/tags/*"
else set -- "+refs/heads/*:refs/remotes/$REMOTE/*" "+refs/tags/*:refs/tags/*"; fi
if [ -n "$DEPTH" ]; then set -- --depth "$DEPTH" "$@"; fi
[ $FORCE = 1 ] && set -- --force "$@"
G fetch --progress "$REMOTE" "$@" || { echo "@failed fetch"; exit 0; }
G symbolic-ref -q "refs/remotes/$REMOTE/HEAD" >/dev/null || G remote set-head "$REMOTE" --auto >/dev/null 2>&1
switch || { echo "@failed checkout $VERSION"; exit 0; }
echo "@after $(G rev-parse HEAD)"
]=]

function M.run(ctx, args)
  local q = ctx.quote
  local repo = args.repo
  if repo:sub(1, 1) == "/" then repo = "file://" .. repo end
  local dest = args.dest or ""
  local vars = {
    "GIT=" .. q(args.executable or "git"), "REPO=" .. q(repo), "DEST=" .. q(dest), "VERSION=" .. q(args.version),
    "REMOTE=" .. q(args.remote), "DEPTH=" .. q(args.depth and tostring(args.depth) or ""),
    "BARE=" .. (args.bare and 1 or 0), "FORCE=" .. (args.force and 1 or 0), "UPDATE=" .. (args.update and 1 or 0),
    "CLONE=" .. (args.clone and 1 or 0), "CHECK=" .. (ctx.check_mode and 1 or 0),
    "SINGLE=" .. (args.single_branch and 1 or 0), "UMASK=" .. q(args.umask or ""),
    "SSHCMD=" .. q(ssh_command(ctx, args)),
  }
  local res = ctx:run(table.concat(vars, "\n") .. "\n" .. SCRIPT, { on_output = function(line, is_stderr, ev)
    if line:match("^@") then return end
    local p = tonumber(line:match("(%d+)%%"))
    if p and is_stderr then
      ctx:progress({ stage = line:match("^([%a ]+):") or "git", percentage = p, message = line })
      if ev and ev.cr then return end
    end
    ctx.emit({ type = is_stderr and "stderr" or "stdout", data = line }, ev)
  end })
  local m = ctx.lib("markers").parse(res.stdout)
  local result = { changed = false }
  if m.nogit then
    return { failed = true,
      msg = "git: the host has no " .. (args.executable or "git") .. " (needed to check out " .. args.repo .. ")" }
  end
  local errtext = ctx.chomp(res.stderr or ""):gsub("\r[^\n]*", "")
  local function failed(msg)
    result.failed, result.msg, result.stderr = true, msg, errtext
    return result
  end
  if not res.ok then return failed("git failed on the host (rc " .. tostring(res.rc) .. "): " .. errtext) end
  if m.notempty then
    return failed("Destination path '" .. dest .. "' already exists and is not an empty directory.")
  end
  -- a new clone's before is null (None), as Ansible's: the value, not a missing field
  result.before = (m.before ~= nil and m.before ~= "") and m.before or ctx:eval("None")
  if m.localmods and not args.force then
    return failed("Local modifications exist in the destination: " .. dest .. " (force=no).")
  end
  if m.failed then
    local what = m.failed:match("^(%S+)") or m.failed
    local last = errtext:match("([^\n]*)$") or ""
    return failed(({ clone = "Failed to clone " .. args.repo, fetch = "Failed to download remote objects and refs",
      checkout = "Failed to checkout " .. args.version, reset = "Failed to reset " .. dest,
      remote = "Failed to set a new url for remote " .. args.remote })[what] .. ": " .. last)
  end
  if m.noupdate then
    result.after = result.before
    return result
  end
  result.after = m.after
  if not m.new then result.remote_url_changed = m.urlchanged ~= nil end
  result.changed = m.new ~= nil or result.before ~= result.after or m.localmods ~= nil or m.urlchanged ~= nil
  if m.localmods and not ctx.check_mode then result.msg = "Local modifications exist in the destination: " .. dest end
  if ctx.diff and result.changed then
    -- as Ansible's: the git diff between the two commits (prepared text); a
    -- new clone or a commit not fetched (--check) shows the commits alone
    local b, a = m.before ~= "" and m.before or nil, result.after
    local text
    if b and a and not ctx.check_mode then
      local d = ctx:run({ args.executable or "git", "-C", dest, "diff", b, a }, { allow_error = true })
      if d and d.ok then text = d.stdout end
    end
    result.diff = { prepared = text or ((b or "(none)") .. " -> " .. tostring(a) .. "\n") }
  end
  return result
end

return M
