--- Ansible Vault benchmark (issue 11). Run from the repo root:
--   lua5.4 bench/vault_bench.lua [ROUNDS]
--
-- 1. Decrypting one vault file (PBKDF2-HMAC-SHA256, 10,000 iterations, 80
--    bytes; then HMAC and AES-CTR) in the process, against OpenSSL's own
--    PBKDF2 for the same parameters: `openssl kdf -keylen 80 -kdfopt
--    digest:SHA256 -kdfopt iter:10000 ... PBKDF2`, its cost net of the
--    process (the same command with iter:1 subtracted), 20 calls a round.
--    Also whole processes: `luasible vault view FILE` against `openssl kdf`
--    of 10,000 iterations. Target: decrypt <= 1.2x openssl's PBKDF2.
-- 2. 200 vaulted host_vars files (200 hosts, one file each) loaded by
--    `luasible inventory --list --vault-password-file` (one process, every
--    file decrypted), against `ansible-vault view` of the same 200 files:
--    (a) all 200 in one call, (b) one process per file (one round: it takes
--    minutes). Target: >= 5x faster.
-- Medians of ROUNDS rounds (default 5), each round alternating the sides.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local core = require "luasible.core"
local vault = require "luasible.vault"

local ROUNDS = tonumber(arg[1]) or 5
local now = core.now

local function median(t)
  local c = { table.unpack(t) }
  table.sort(c)
  return c[(#c + 1) // 2]
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function sh(cmd)
  local t0 = now()
  local ok = os.execute(cmd)
  local dt = now() - t0
  assert(ok, "failed: " .. cmd)
  return dt
end

local D = os.tmpname()
os.remove(D)
assert(os.execute("mkdir -p " .. D .. "/inv/host_vars"))
local PW = "bench password"
write(D .. "/pw", PW .. "\n")
local ring = { { id = "default", secret = PW } }
local BIN = "bin/luasible"
local ENV = "HOME=" .. D .. " ANSIBLE_LOCAL_TEMP=" .. D .. "/.ansible-tmp"

local function fmt(s) return ("%.2f ms"):format(s * 1000) end
local function list(t, f) local o = {} for i, v in ipairs(t) do o[i] = f(v) end return table.concat(o, ", ") end

print(("vault bench: %d rounds, %s"):format(ROUNDS, os.date("!%Y-%m-%d %H:%M UTC")))

---------------------------------------------------------------------------
-- 1. one file
---------------------------------------------------------------------------
local text = assert(vault.encrypt("db_password: s3cret\nport: 5432\n", PW))
write(D .. "/one.yml", text)
local salt_hex = assert(core.crypto.unhex(text:gsub("^[^\n]*\n", ""):gsub("\n", ""))):match("^(%x+)\n")
local KDF = "openssl kdf -keylen 80 -kdfopt digest:SHA256 -kdfopt pass:'" .. PW .. "' -kdfopt hexsalt:"
  .. salt_hex .. " -kdfopt iter:%d PBKDF2 >/dev/null"
local N = 20
local ours, openssl, ratio, proc_ours, proc_openssl = {}, {}, {}, {}, {}
for r = 1, ROUNDS do
  local t0 = now()
  for _ = 1, N do assert(vault.decrypt(text, ring)) end
  ours[r] = (now() - t0) / N
  local full, base = 0, 0
  for _ = 1, N do
    full = full + sh(KDF:format(10000))
    base = base + sh(KDF:format(1))
  end
  openssl[r] = (full - base) / N
  ratio[r] = ours[r] / openssl[r]
  local pv, po = 0, 0
  for _ = 1, 10 do
    pv = pv + sh(BIN .. " vault view --vault-password-file " .. D .. "/pw " .. D .. "/one.yml >/dev/null")
    po = po + sh(KDF:format(10000))
  end
  proc_ours[r], proc_openssl[r] = pv / 10, po / 10
end
print(("1. decrypt one file (in process): %s median (rounds %s)"):format(fmt(median(ours)), list(ours, fmt)))
print(("   openssl kdf PBKDF2 net of its process: %s median (rounds %s)"):format(fmt(median(openssl)),
  list(openssl, fmt)))
print(("   ratio %.2fx median (rounds %s); target <= 1.2x: %s"):format(median(ratio),
  list(ratio, function(x) return ("%.2f"):format(x) end), median(ratio) <= 1.2 and "met" or "NOT met"))
print(("   whole processes: luasible vault view %s, openssl kdf %s (medians)"):format(fmt(median(proc_ours)),
  fmt(median(proc_openssl))))

---------------------------------------------------------------------------
-- 2. 200 vaulted vars files
---------------------------------------------------------------------------
local hosts, names = { "[web]" }, {}
for i = 1, 200 do
  local h = ("h%03d"):format(i)
  hosts[#hosts + 1] = h .. " ansible_connection=local"
  names[#names + 1] = D .. "/inv/host_vars/" .. h .. ".yml"
  write(names[#names], assert(vault.encrypt(("db_password: secret-%d\napp_port: %d\nusers: [a, b, c]\n"):format(i,
    8000 + i), PW)))
end
write(D .. "/inv/hosts", table.concat(hosts, "\n") .. "\n")
local have_ansible = os.execute("command -v ansible-vault >/dev/null 2>&1")
local lsb, one_call = {}, {}
for r = 1, ROUNDS do
  lsb[r] = sh(BIN .. " inventory -i " .. D .. "/inv/hosts --list --vault-password-file " .. D .. "/pw >/dev/null")
  if have_ansible then
    one_call[r] = sh(ENV .. " ansible-vault view --vault-password-file " .. D .. "/pw " .. table.concat(names, " ")
      .. " >/dev/null")
  end
end
-- the check that luasible read them all
local p = io.popen(BIN .. " inventory -i " .. D .. "/inv/hosts --list --vault-password-file " .. D .. "/pw")
local out = p:read("a")
p:close()
assert(out:find('"db_password": "secret-200"', 1, true), "luasible did not decrypt the files")
print(("2. 200 vaulted host_vars files, luasible inventory --list: %s median (rounds %s)"):format(
  fmt(median(lsb)), list(lsb, fmt)))
if have_ansible then
  print(("   ansible-vault view of the 200 files in one call: %s median (rounds %s): %.1fx; target >= 5x: %s")
    :format(fmt(median(one_call)), list(one_call, fmt), median(one_call) / median(lsb),
      median(one_call) / median(lsb) >= 5 and "met" or "NOT met"))
  local t0 = now()
  for _, f in ipairs(names) do
    assert(os.execute(ENV .. " ansible-vault view --vault-password-file " .. D .. "/pw " .. f .. " >/dev/null"))
  end
  local each = now() - t0
  print(("   ansible-vault view once per file (200 processes, one round): %s: %.1fx; target >= 5x: %s"):format(
    fmt(each), each / median(lsb), each / median(lsb) >= 5 and "met" or "NOT met"))
else
  print("   ansible-vault not installed: no baseline")
end
os.execute("rm -rf " .. D)
