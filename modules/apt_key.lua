-- apt_key: an OpenPGP key apt trusts, present or absent, with the host's
-- gpg (no apt-key: it is gone from newer apt). The key comes from `data`,
-- a `file` on the host or a `url` the host downloads (curl or wget); its
-- id is the first key's (`gpg --show-keys`), or `id`. `keyring`: the file
-- holding it (a signed-by keyring in /etc/apt/keyrings, or one of
-- /etc/apt/trusted.gpg.d); without it every key apt trusts is looked at
-- (/etc/apt/trusted.gpg and trusted.gpg.d) and a new key goes to
-- /etc/apt/trusted.gpg, as Ansible's. Keyrings are written as binary
-- OpenPGP keyrings (armored for a .asc), which signed-by reads. One round
-- trip: the script gets the key, lists the keyrings, decides, and (not in
-- --check) imports or deletes in a throwaway GNUPGHOME and writes the file.
local M = {
  params = {
    id = { type = "string" },
    url = { type = "string" },
    data = { type = "string" },
    file = { type = "path" },
    keyring = { type = "path" },
    validate_certs = { type = "boolean", default = true },
    keyserver = { type = "string" },
    state = { type = "string", default = "present", choices = { "absent", "present" } },
    env = { type = "dict" }, -- the task's `environment:` (a proxy for the url's download)
  },
  mutually_exclusive = { { "data", "file", "keyserver", "url" } },
  check_mode = true,
  check_args = function(args)
    if args.keyring and args.keyring:sub(1, 1) ~= "/" then
      return nil, "keyring: give an absolute path (/etc/apt/keyrings/NAME.gpg), got " .. args.keyring
    end
    if args.keyserver and not args.id then return nil, "Missing key_id, required with keyserver." end
    return true
  end,
}

-- the script: env SRC (data|file|url|keyserver|none), FILE, KS, WANT
-- (the id asked, upper case, or empty), STATE, CHECK (1 or 0), KR (the
-- keyring or empty), INSECURE (1: no certificate check); stdin: the data
-- or the url
local SCRIPT = [=[
command -v gpg >/dev/null 2>&1 || { echo @@NOGPG; exit 0; }
export LC_ALL=C
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
export GNUPGHOME="$T/home"; mkdir -m 700 "$GNUPGHOME"
G="gpg --batch --no-tty -q"
case "$SRC" in
  data) cat > "$T/key" ;;
  file) [ -f "$FILE" ] || { echo @@NOFILE; exit 0; }; cp -- "$FILE" "$T/key" ;;
  url)
    URL=$(cat) # on stdin, and to curl/wget on theirs: never on a command line (it may hold a password)
    if command -v curl >/dev/null 2>&1; then
      k=; [ "$INSECURE" = 1 ] && k=-k
      printf 'url = "%s"\n' "$(printf '%s' "$URL" | sed 's/[\\"]/\\&/g')" |
        curl -fsSL $k -o "$T/key" -K - 2>"$T/err" ||
        { printf '@@URLFAIL %s\n' "$(head -c 300 "$T/err")"; exit 0; }
    elif command -v wget >/dev/null 2>&1; then
      k=; [ "$INSECURE" = 1 ] && k=--no-check-certificate
      printf '%s\n' "$URL" | wget -q $k -O "$T/key" -i - 2>"$T/err" ||
        { printf '@@URLFAIL %s\n' "$(head -c 300 "$T/err")"; exit 0; }
    else echo @@NOFETCH; exit 0; fi ;;
esac
if [ -s "$T/key" ]; then
  ID=$($G --with-colons --show-keys "$T/key" 2>/dev/null | awk -F: '$1=="pub"||$1=="sub" {print $5; exit}')
  [ -n "$ID" ] || { echo @@BADKEY; exit 0; }
  printf '@@ID %s\n' "$ID"
  [ -n "$WANT" ] || WANT=$ID
fi
[ -n "$WANT" ] || { echo @@NOID; exit 0; }
keys() { # the long ids of a keyring file
  case "$1" in
    *.asc) $G --with-colons --show-keys "$1" 2>/dev/null ;;
    *) $G --no-default-keyring --keyring "$1" --with-colons --list-keys 2>/dev/null ;;
  esac | awk -F: '($1=="pub"||$1=="sub") && $2!="e" {print $5}'
}
if [ -n "$KR" ]; then set -- "$KR"
else set -- /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d/*.gpg /etc/apt/trusted.gpg.d/*.asc; fi
HOLD=
for f; do
  [ -f "$f" ] || continue
  for k in $(keys "$f"); do
    printf '@@K %s %s\n' "$k" "$f"
    case "$k" in *"$WANT") HOLD="$HOLD $f" ;; esac
  done
done
if [ "$STATE" = present ]; then [ -z "$HOLD" ] || exit 0; else [ -n "$HOLD" ] || exit 0; fi
echo @@CHANGE
[ "$SRC" = none ] && [ "$STATE" = present ] && exit 0
[ "$CHECK" = 1 ] && exit 0
# the keyring(s) rewritten from a throwaway GNUPGHOME
load() {
  case "$1" in *.asc) $G --import "$1" ;; *) $G --no-default-keyring --keyring "$1" --export | $G --import ;; esac
}
save() { # $1: the file; no key left: it goes
  d=$(dirname -- "$1"); mkdir -p -- "$d"
  if [ -z "$($G --with-colons --list-keys 2>/dev/null | grep '^pub')" ]; then rm -f -- "$1"; return 0; fi
  a=; case "$1" in *.asc) a=--armor ;; esac
  $G --export $a > "$T/new" && chmod 0644 "$T/new" && mv -f -- "$T/new" "$1"
}
if [ "$STATE" = present ]; then
  f=${KR:-/etc/apt/trusted.gpg}
  [ -f "$f" ] && load "$f" 2>/dev/null
  if [ "$SRC" = keyserver ]; then $G --keyserver "$KS" --recv-keys "$WANT" || { echo @@RECVFAIL; exit 0; }
  else $G --import "$T/key" || { echo @@IMPORTFAIL; exit 0; }; fi
  save "$f" || exit 1
  for k in $(keys "$f"); do printf '@@A %s %s\n' "$k" "$f"; done
else
  for f in $HOLD; do
    rm -rf "$GNUPGHOME"; mkdir -m 700 "$GNUPGHOME"
    load "$f" 2>/dev/null
    for fp in $($G --with-colons --list-keys 2>/dev/null | awk -F: -v w="$WANT" '
        $1=="pub"||$1=="sub" {hit = (substr($5, length($5) - length(w) + 1) == w)}
        $1=="fpr" && hit {print $10; hit=0}'); do
      $G --yes --delete-keys "$fp" 2>/dev/null
    done
    save "$f" || exit 1
  done
  for f; do [ -f "$f" ] && for k in $(keys "$f"); do printf '@@A %s %s\n' "$k" "$f"; done; done
fi
echo @@DONE
]=]

local function key_id(s)
  local k = s:upper():gsub("^0X", "")
  if not k:match("^%x+$") then return nil, "Invalid key_id" end
  if #k ~= 8 and #k ~= 16 and #k <= 16 then
    return nil, "key_id must be 8, 16, or 16+ hexadecimal characters in length"
  end
  return k
end

function M.run(ctx, args)
  local want = ""
  if args.id then
    local k, err = key_id(args.id)
    if not k then return { failed = true, msg = err, id = args.id } end
    want = k
  end
  local src = args.data and "data" or args.file and "file" or args.url and "url"
    or args.keyserver and "keyserver" or "none"
  -- an 8-character id matches a key's last 8, a longer one its last 16 (Ansible's short_id / fp)
  local match = #want == 8 and want or want:sub(-16)
  local env = { SRC = src, FILE = args.file or "", KS = args.keyserver or "", WANT = match,
    STATE = args.state, CHECK = ctx.check_mode and "1" or "0", KR = args.keyring or "",
    INSECURE = args.validate_certs and "0" or "1" }
  for k, v in pairs(args.env or {}) do if env[k] == nil then env[k] = v end end
  local r = ctx:run(SCRIPT, { env = env, stdin = args.data or args.url })
  local out = r.stdout or ""
  local function fail(msg) return { failed = true, msg = msg, rc = r.rc, stderr = r.stderr } end
  if out:find("@@NOGPG", 1, true) then return fail("apt_key: gpg not found on the host (install gnupg)") end
  if out:find("@@NOFILE", 1, true) then return fail("apt_key: no such key file on the host: " .. args.file) end
  if out:find("@@NOFETCH", 1, true) then return fail("apt_key: url needs curl or wget on the host: neither found") end
  local uf = out:match("@@URLFAIL ([^\n]*)")
  if uf then return fail("Failed to download key at " .. args.url .. ": " .. uf) end
  if out:find("@@BADKEY", 1, true) then
    return fail("Unable to extract key from '" .. (args.file or args.url or "inline data") .. "'")
  end
  if out:find("@@NOID", 1, true) then return fail("key is required to remove a key") end
  local found = out:match("@@ID (%x+)")
  local id = args.id or found
  local k = key_id(id or "") or ""
  local result = { changed = false, id = id, key_id = k, short_id = k:sub(-8), fp = #k > 16 and k:sub(-16) or k }
  local before, after = {}, {}
  for kid in out:gmatch("@@K (%x+)") do before[#before + 1] = kid end
  for kid in out:gmatch("@@A (%x+)") do after[#after + 1] = kid end
  result.before = before
  if not out:find("@@CHANGE", 1, true) then
    if not r.ok then return fail("apt_key: listing the keys failed: " .. ctx.chomp(r.stderr or "")) end
    return result
  end
  result.changed = true
  if ctx.diff then
    result.diff = ctx:diff_result({ keyring = args.keyring or "/etc/apt/trusted.gpg", key = k, state =
      args.state == "present" and "absent" or "present" },
      { keyring = args.keyring or "/etc/apt/trusted.gpg", key = k, state = args.state })
  end
  if ctx.check_mode then return result end
  if args.state == "present" and src == "none" then return fail("No key to add: give data, file, url or keyserver") end
  if out:find("@@RECVFAIL", 1, true) then
    return fail("Error fetching key " .. want .. " from keyserver: " .. args.keyserver)
  end
  if out:find("@@IMPORTFAIL", 1, true) then return fail("Unable to add a key from " .. src) end
  if not (r.ok and out:find("@@DONE", 1, true)) then
    return fail("apt_key: writing the keyring failed: " .. ctx.chomp(r.stderr or ""))
  end
  result.after = after
  return result
end

return M
