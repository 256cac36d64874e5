--- #oracle: Ansible Vault files made by Debian's ansible-vault (ansible-core)
-- open with luasible and luasible's open with ansible-vault, for every
-- command; the same salt gives the same bytes as ansible's own VaultLib;
-- wrong passwords and tampered files fail in both; a luasible
-- encrypt_string value inline in a vars file reads the same in
-- ansible-inventory, `ansible -m debug` and luasible. `make test-oracle`.
local files = require "spec.helpers.files"
local vault = require "luasible.vault"
local cjson = require "cjson"
local write, read = files.write, files.read

local D = files.tmpdir()
local ROOT = io.popen("pwd"):read("l")
local BIN = ROOT .. "/bin/luasible"
local ENV = "HOME=" .. D .. " ANSIBLE_LOCAL_TEMP=" .. D .. "/.ansible-tmp ANSIBLE_NOCOLOR=1"
  .. " ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0"

-- a shell command in D: stdout, exit code, stderr
local function sh(cmd, stdin)
  local errf = D .. "/.stderr"
  local full = ("cd %s && %s %s 2>%s"):format(D, ENV, cmd, errf)
  if stdin then
    write(D .. "/.stdin", stdin)
    full = full .. " <" .. D .. "/.stdin"
  end
  local p = io.popen(full)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code, read(errf)
end
local function lsb(args, stdin) return sh(BIN .. " " .. args, stdin) end
local function av(args, stdin) return sh("ansible-vault " .. args, stdin) end

local HAVE = os.execute("command -v ansible-vault >/dev/null 2>&1")
-- the Python that runs ansible-vault (its #! line), for ansible's VaultLib
local PY = HAVE and io.popen("head -1 \"$(command -v ansible-vault)\""):read("l"):match("^#!%s*(%S+)") or "python3"

write(D .. "/pw", "correct horse\n")
write(D .. "/pw2", "battery staple\n")
write(D .. "/bad", "wrong\n")
local TEXT = "db_password: S3cr3t-Value\nport: 5432\nunicode: \"h\195\169llo\"\n"

describe("#oracle vault interop with ansible-vault", function()
  if not HAVE then
    pending("ansible-vault not installed (Debian's ansible-core, scripts/deps)")
    return
  end

  it("the same salt gives the same bytes as ansible's VaultLib (1.1 and 1.2)", function()
    write(D .. "/same.py", [[
import sys
from ansible.parsing.vault import VaultLib, VaultSecret
s = VaultSecret(b'correct horse')
v = VaultLib([('default', s)])
data = sys.stdin.buffer.read()
sys.stdout.buffer.write(v.encrypt(data, s, vault_id=sys.argv[1] or None, salt=b'0123456789abcdef0123456789abcdef'))
]])
    for _, id in ipairs({ "", "prod" }) do
      for _, text in ipairs({ "", "x", TEXT, ("0123456789abcdef"):rep(20), ("\0\255"):rep(77) }) do
        local theirs, code, err = sh(PY .. " same.py '" .. id .. "'", text)
        assert.equal(0, code, err)
        local salt = "0123456789abcdef0123456789abcdef"
        local ours = vault.encrypt(text, "correct horse", id ~= "" and id or nil, salt)
        assert.equal(theirs, ours)
      end
    end
  end)

  it("encrypt / view / decrypt both ways, 1.1 and 1.2", function()
    local variants = { { "--vault-password-file pw", "1.1;AES256" }, { "--vault-id prod@pw", "1.2;AES256;prod" } }
    for _, ids in ipairs(variants) do
      write(D .. "/by-ansible.yml", TEXT)
      write(D .. "/by-luasible.yml", TEXT)
      assert.equal(0, select(2, av("encrypt " .. ids[1] .. " by-ansible.yml")))
      assert.equal(0, select(2, lsb("vault encrypt " .. ids[1] .. " by-luasible.yml")))
      assert.equal("$ANSIBLE_VAULT;" .. ids[2], read(D .. "/by-ansible.yml"):match("^[^\n]+"))
      assert.equal("$ANSIBLE_VAULT;" .. ids[2], read(D .. "/by-luasible.yml"):match("^[^\n]+"))
      local out, code, err = lsb("vault view --vault-password-file pw by-ansible.yml")
      assert.equal(0, code, err)
      assert.equal(TEXT, out)
      out, code, err = av("view --vault-password-file pw by-luasible.yml")
      assert.equal(0, code, err)
      assert.equal(TEXT, out)
      out = lsb("vault decrypt --vault-password-file pw --output - by-ansible.yml")
      assert.equal(TEXT, out)
      out = av("decrypt --vault-password-file pw --output - by-luasible.yml")
      assert.equal(TEXT, out)
      -- in place, and the files' modes alike
      assert.equal(0, select(2, lsb("vault decrypt --vault-password-file pw by-ansible.yml")))
      assert.equal(0, select(2, av("decrypt --vault-password-file pw by-luasible.yml")))
      assert.equal(TEXT, read(D .. "/by-ansible.yml"))
      assert.equal(TEXT, read(D .. "/by-luasible.yml"))
      assert.equal(sh("stat -c %a by-ansible.yml"), sh("stat -c %a by-luasible.yml"))
    end
  end)

  it("stdin to stdout", function()
    local enc = lsb("vault encrypt --vault-password-file pw", TEXT)
    assert.equal(TEXT, (av("decrypt --vault-password-file pw", enc)))
    enc = av("encrypt --vault-password-file pw", TEXT)
    assert.equal(TEXT, (lsb("vault decrypt --vault-password-file pw", enc)))
  end)

  it("create and edit with $EDITOR, either tool reading the other's", function()
    write(D .. "/ed", "#!/bin/sh\nprintf '%s\\n' \"$NEWTEXT\" > \"$1\"\n")
    os.execute("chmod +x " .. D .. "/ed")
    local _, code, err = sh("EDITOR=./ed NEWTEXT='made: by luasible' " .. BIN
      .. " vault create --vault-id dev@pw c1.yml")
    assert.equal(0, code, err)
    assert.equal("made: by luasible\n", (av("view --vault-id dev@pw c1.yml")))
    _, code, err = sh("EDITOR=./ed NEWTEXT='made: by ansible' ansible-vault create --vault-id dev@pw c2.yml")
    assert.equal(0, code, err)
    assert.equal("made: by ansible\n", (lsb("vault view --vault-id dev@pw c2.yml")))
    _, code = sh("EDITOR=./ed NEWTEXT='edited: by luasible' " .. BIN .. " vault edit --vault-id dev@pw c2.yml")
    assert.equal(0, code)
    assert.equal("edited: by luasible\n", (av("view --vault-id dev@pw c2.yml")))
    assert.equal("$ANSIBLE_VAULT;1.2;AES256;dev", read(D .. "/c2.yml"):match("^[^\n]+"))
    _, code = sh("EDITOR=./ed NEWTEXT='edited: by ansible' ansible-vault edit --vault-id dev@pw c1.yml")
    assert.equal(0, code)
    assert.equal("edited: by ansible\n", (lsb("vault view --vault-id dev@pw c1.yml")))
  end)

  it("rekey both ways, to a new password and a new vault id", function()
    write(D .. "/k1.yml", TEXT)
    write(D .. "/k2.yml", TEXT)
    assert.equal(0, select(2, av("encrypt --vault-password-file pw k1.yml")))
    assert.equal(0, select(2, lsb("vault encrypt --vault-password-file pw k2.yml")))
    assert.equal(0, select(2, lsb("vault rekey --vault-password-file pw --new-vault-id new@pw2 k1.yml")))
    assert.equal(0, select(2, av("rekey --vault-password-file pw --new-vault-id new@pw2 k2.yml")))
    for _, f in ipairs({ "k1.yml", "k2.yml" }) do
      assert.equal("$ANSIBLE_VAULT;1.2;AES256;new", read(D .. "/" .. f):match("^[^\n]+"))
      assert.equal(TEXT, (av("view --vault-password-file pw2 " .. f)))
      assert.equal(TEXT, (lsb("vault view --vault-password-file pw2 " .. f)))
      assert.equal(1, select(2, av("view --vault-password-file pw " .. f)))
      assert.equal(1, select(2, lsb("vault view --vault-password-file pw " .. f)))
    end
  end)

  it("a wrong password, a tampered HMAC, ciphertext or header: both refuse", function()
    write(D .. "/t.yml", TEXT)
    assert.equal(0, select(2, av("encrypt --vault-password-file pw t.yml")))
    local good = read(D .. "/t.yml")
    local lines = {}
    for l in good:gmatch("[^\n]+") do lines[#lines + 1] = l end
    local function variant(name, f)
      local copy = { table.unpack(lines) }
      f(copy)
      write(D .. "/" .. name, table.concat(copy, "\n") .. "\n")
      return name
    end
    local function flip(s, i)
      local c = s:sub(i, i)
      return s:sub(1, i - 1) .. (c == "3" and "6" or "3") .. s:sub(i + 1)
    end
    -- the body is hex(hex(salt) \n hex(hmac) \n hex(ct)): the HMAC's hex digits
    -- start after the 64 of the salt and the newline: at character 2*65+1
    local cases = {
      variant("hmac.yml", function(c) c[2] = flip(c[2], 2 * 65 + 2) end),
      variant("cipher.yml", function(c) c[#c - 1] = flip(c[#c - 1], 2) end),
      variant("header.yml", function(c) c[1] = "$ANSIBLE_VAULT;1.1;AES128" end),
    }
    for _, f in ipairs(cases) do
      local _, c1 = av("view --vault-password-file pw " .. f)
      local out, c2, err = lsb("vault view --vault-password-file pw " .. f)
      assert.equal(1, c1, f)
      assert.equal(1, c2, f)
      assert.equal("", out)
      assert.truthy(err:find("^ERROR! [^\n]+\n$"), err)
    end
    local _, c1 = av("view --vault-password-file bad t.yml")
    local _, c2, err = lsb("vault view --vault-password-file bad t.yml")
    assert.equal(1, c1)
    assert.equal(1, c2)
    assert.truthy(err:find("Decryption failed (no vault secrets were found that could decrypt)", 1, true), err)
  end)

  it("an executable password file, for both", function()
    write(D .. "/pw.sh", "#!/bin/sh\necho 'correct horse'\n")
    os.execute("chmod +x " .. D .. "/pw.sh")
    write(D .. "/s.yml", TEXT)
    assert.equal(0, select(2, lsb("vault encrypt --vault-password-file pw.sh s.yml")))
    assert.equal(TEXT, (av("view --vault-password-file pw.sh s.yml")))
    assert.equal(TEXT, (av("view --vault-password-file pw s.yml")))
  end)

  it("encrypt_string output inline in a vars file: ansible-inventory, ansible -m debug and luasible agree", function()
    local ours = lsb("vault encrypt_string --vault-id prod@pw -n db_password 'S3cr3t-Value'")
    local theirs = av("encrypt_string --vault-password-file pw -n api_token 'Tok3n-Value'")
    os.execute("mkdir -p " .. D .. "/inv/group_vars")
    write(D .. "/inv/hosts", "[web]\nw1 ansible_connection=local\n")
    write(D .. "/inv/group_vars/web.yml", "plain: visible\n" .. ours .. "\n" .. theirs .. "\n")
    -- ansible -m debug decrypts both
    local out, code, err = sh("ansible w1 -i inv/hosts --vault-password-file pw -m debug"
      .. " -a 'msg={{ db_password }}/{{ api_token }}'")
    assert.equal(0, code, err .. out)
    assert.truthy(out:find('"msg": "S3cr3t-Value/Tok3n-Value"', 1, true), out)
    -- luasible too (and does not show them)
    write(D .. "/show.lua", "return { hosts = 'w1', tasks = { { shell = 'echo {{ db_password }}/{{ api_token }}"
      .. " > " .. D .. "/shown.txt' } } }")
    out, code, err = lsb("run show.lua -i inv/hosts --vault-password-file pw --json")
    assert.equal(0, code, err .. out)
    assert.equal("S3cr3t-Value/Tok3n-Value\n", read(D .. "/shown.txt"))
    assert.is_nil(out:find("S3cr3t", 1, true))
    -- ansible-inventory --list: the same, !vault values as {"__ansible_vault": ...}
    local a = cjson.decode((sh("ansible-inventory -i inv/hosts --list --vault-password-file pw")))
    local l = cjson.decode((lsb("inventory -i inv/hosts --list --vault-password-file pw")))
    assert.same(a, l)
    assert.truthy(l._meta.hostvars.w1.db_password.__ansible_vault)
  end)

  it("a vaulted group_vars file: ansible-inventory and luasible inventory agree; no password: both refuse", function()
    os.execute("mkdir -p " .. D .. "/inv2/group_vars")
    write(D .. "/inv2/hosts", "[db]\nd1 ansible_connection=local\n")
    write(D .. "/inv2/group_vars/db.yml", TEXT)
    assert.equal(0, select(2, lsb("vault encrypt --vault-password-file pw inv2/group_vars/db.yml")))
    local a = cjson.decode((sh("ansible-inventory -i inv2/hosts --list --vault-password-file pw")))
    local l = cjson.decode((lsb("inventory -i inv2/hosts --list --vault-password-file pw")))
    assert.same(a, l)
    assert.equal("S3cr3t-Value", l._meta.hostvars.d1.db_password)
    local _, c1 = sh("ansible-inventory -i inv2/hosts --list")
    local _, c2, err = lsb("inventory -i inv2/hosts --list")
    assert.equal(c1 ~= 0, c2 ~= 0)
    assert.truthy(err:find("group_vars/db.yml: Attempting to decrypt but no vault secrets found", 1, true), err)
  end)
end)
