--- luasible.module.lib.unarchive_tar: unarchive's GNU tar handlers (gz,
-- plain, bz2, xz, zst, in Ansible's order): the script's tar part (pick the
-- handler, list, `tar --diff` against dest, extract when something
-- differs) and its tagged lines read into the result, `changed` as Ansible
-- decides it.
local shared = require "luasible.module.lib.unarchive_common"

local M = {}

-- Ansible tries the handlers in this order; GNU tar without a flag reads any compression
local HANDLERS = { { "TgzArchive", "-z" }, { "TarArchive", "" }, { "TarBzipArchive", "-j" },
  { "TarXzArchive", "-J" }, { "TarZstdArchive", "--use-compress-program=zstd" } }

local DIFF_LINE = {
  owner = ": Uid differs$", group = ": Gid differs$", mode = ": Mode differs$",
  ": Mod time differs$", ": Warning: Cannot stat: No such file or directory$", ": Invalid owner", ": Invalid group",
}

-- The tar part: pick the handler, list, diff and (unless `check`) extract.
function M.script(ctx, args, check)
  local q = ctx.quote
  local common = {}
  for _, o in ipairs(args.extra_opts) do common[#common + 1] = q(o) end
  if #common > 0 then table.insert(common, 1, "--show-transformed-names") end
  local ex, inc, own = {}, {}, {}
  for _, e in ipairs(args.exclude) do ex[#ex + 1] = q("--exclude=" .. e:gsub("/+$", "")) end
  for _, i in ipairs(args.include) do inc[#inc + 1] = q(i) end
  if args.owner then own[#own + 1] = q("--owner=" .. args.owner) end
  if args.group then own[#own + 1] = q("--group=" .. args.group) end
  if args.keep_newer then own[#own + 1] = "--keep-newer-files" end
  local pats = {}
  for k, re in pairs(DIFF_LINE) do
    if type(k) == "number" or not args[k] then pats[#pats + 1] = re end
  end
  local OWN = table.concat(own, " ")
  local tail = table.concat(common, " ") .. " " .. table.concat(ex, " ") .. ' -f "$src" ' .. table.concat(inc, " ")
  local hs = {}
  for i, hd in ipairs(HANDLERS) do hs[i] = q(hd[1] .. ":" .. hd[2]) end
  return table.concat({ [[command -v tar >/dev/null 2>&1 ||
  { echo "Unable to find required 'gtar' or 'tar' binary in the path (the host has no 'tar')" >&2; exit 11; }
tar --version 2>/dev/null | head -n 1 | grep -q GNU ||
  { echo "GNU tar required (the host's tar is not GNU tar)" >&2; exit 11; }
]] .. (check and "printf '\\001T\\n'; exit 0\n" or "") .. [[
cd -- "$dest" || exit 10
h=
for z in ]] .. table.concat(hs, " ") .. [[; do
  flag=${z#*:}
  if list=$(tar --list -C "$dest" $flag ]] .. tail .. [[ 2>/dev/null) && [ -n "$list" ]; then
    h=${z%%:*}; break
  fi
done
[ -n "$h" ] || { echo "Failed to find handler for \"$src\"." \
  "Make sure the required command to extract the file is installed. $zr" >&2; exit 13; }
printf '\001H %s\n' "$h"
printf '%s\n' "$list" | while IFS= read -r l; do printf '\001L %s\n' "$l"; done
d=$(LANG=C LC_ALL=C tar --diff -C "$dest" $flag ]] .. OWN .. " " .. tail .. [[ 2>&1 |
  grep -v ': : Warning: Cannot stat: No such file or directory$' | grep -E ]] .. q(table.concat(pats, "|")) .. [[)
[ -n "$d" ] && printf '%s\n' "$d" | while IFS= read -r l; do printf '\001D %s\n' "$l"; done
stat --printf '\001S. %u|%g|%U|%G|%a|%s\n' -- "$dest"
if [ -n "$d" ]; then printf '\001X\n'; LANG=C LC_ALL=C tar --extract -v -C "$dest" $flag ]]
      .. OWN .. " " .. tail .. [[ 2>&1; rc=$?; printf '\001R %s\n' "$rc"; fi]],
    shared.attrs_script(ctx, args),
    '[ -z "$TMPU" ] || rm -rf -- "$TMPU"',
  }, "\n")
end

--- The result of a tar handler's lines (files listed, exclude as fnmatch
--- globs; extracted: extract_results, changed; a failed extraction).
function M.result(ctx, args, result, lines)
  local files, out, rc = {}, {}, nil
  local glob = ctx:module("find").glob_regex
  local excl = {}
  for i, e in ipairs(args.exclude) do excl[i] = assert(ctx.regex.compile(glob(e:gsub("/+$", "")))) end
  local extracting = false
  for _, l in ipairs(lines) do
    if l.tag == "L" then
      local name = l.rest:gsub("^/", "")
      local keep = true
      for _, r in ipairs(excl) do if r:fullmatch(name) then keep = false break end end
      if keep then files[#files + 1] = name end
    elseif l.tag == "S." then shared.dest_stat(result, l.rest)
    elseif l.tag == "R" then rc = tonumber(l.rest)
    elseif l.tag == "A" then result.changed = true
    elseif l.tag == "X" then extracting = true
    elseif not l.tag and extracting then out[#out + 1] = l.line end
  end
  if rc then
    result.extract_results = { rc = rc, out = table.concat(out, "\n"), err = "", cmd = "tar --extract -v -C "
      .. args.dest .. " -f " .. result.src }
    if rc ~= 0 then
      result.failed, result.msg = true, "failed to unpack " .. result.src .. " to " .. args.dest
      return result
    end
    result.changed = true
  end
  if args.list_files then result.files = files end
  return result
end

return M
