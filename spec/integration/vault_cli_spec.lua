-- `luasible vault ...` and vault content in runs, with real processes: the
-- editor, password scripts, a terminal (script(1)) for the hidden prompt.
-- Interop with ansible-vault itself is vault_oracle_spec.lua (#oracle).
local files = require "spec.helpers.files"
local cjson = require "cjson"
local vault = require "luasible.vault"
local write, read = files.write, files.read
local _ -- the values not looked at

local D = files.tmpdir()
local ROOT = io.popen("pwd"):read("l")
local BIN = ROOT .. "/bin/luasible"

-- Run bin/luasible with args (from folder `cwd`, default D); returns
-- stdout, exit code, stderr.
local function cli(args, opts)
  opts = opts or {}
  local errf = D .. "/.stderr"
  local cmd = ("cd %s && %s %s %s 2>%s"):format(opts.cwd or D, opts.env or "", BIN, args, errf)
  if opts.stdin then
    write(D .. "/.stdin", opts.stdin)
    cmd = cmd .. " <" .. D .. "/.stdin"
  end
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code, read(errf)
end

local function ring(pw, id) return { { id = id or "default", secret = pw } } end
local function plain_of(file, pw) return (vault.decrypt(read(file), ring(pw))) end
local function mode_of(file) return require("luasible.util.fs").stat(file).mode end

write(D .. "/pw", "hunter2-pass\n")
write(D .. "/pw2", "second-pass\n")
write(D .. "/wrong", "not-it\n")

describe("luasible vault", function()
  it("encrypt in place (mode 0600), view, decrypt with --output, stdin and stdout with -", function()
    write(D .. "/a.yml", "secret: value-a\n")
    local out, code, err = cli("vault encrypt --vault-password-file pw a.yml")
    assert.equal(0, code, err)
    assert.equal("", out)
    assert.equal("", err) -- not a terminal: no "Encryption successful"
    assert.truthy(read(D .. "/a.yml"):match("^%$ANSIBLE_VAULT;1%.1;AES256\n"))
    assert.equal(384, mode_of(D .. "/a.yml")) -- 0600
    out, code = cli("vault view --vault-password-file pw a.yml")
    assert.equal(0, code)
    assert.equal("secret: value-a\n", out)
    out, code = cli("vault decrypt --vault-password-file pw --output a.txt a.yml")
    assert.equal(0, code)
    assert.equal("", out)
    assert.equal("secret: value-a\n", read(D .. "/a.txt"))
    assert.truthy(vault.is_encrypted(read(D .. "/a.yml")))
    out, code = cli("vault encrypt --vault-password-file pw --output - -", { stdin = "from stdin\n" })
    assert.equal(0, code)
    assert.equal("from stdin\n", (vault.decrypt(out, ring("hunter2-pass"))))
    write(D .. "/s.vault", out)
    out, code = cli("vault decrypt --vault-password-file pw", { stdin = read(D .. "/s.vault") })
    assert.equal(0, code)
    assert.equal("from stdin\n", out)
    out, code = cli("vault decrypt --vault-password-file pw a.yml")
    assert.equal(0, code)
    assert.equal("", out)
    assert.equal("secret: value-a\n", read(D .. "/a.yml"))
  end)

  it("a wrong password: one line, exit 1, the file untouched", function()
    write(D .. "/w.yml", "x: 1\n")
    assert.equal(0, select(2, cli("vault encrypt --vault-password-file pw w.yml")))
    local before = read(D .. "/w.yml")
    local out, code, err = cli("vault decrypt --vault-password-file wrong w.yml")
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("ERROR! Decryption failed (no vault secrets were found that could decrypt) on "
      .. D .. "/w.yml for " .. D .. "/w.yml\n", err:gsub("/private", ""))
    assert.equal(before, read(D .. "/w.yml"))
    _, code, err = cli("vault encrypt --vault-password-file pw w.yml")
    assert.equal(1, code)
    assert.equal("ERROR! input is already encrypted\n", err)
    assert.equal(before, read(D .. "/w.yml"))
    _, code, err = cli("vault view w.yml --vault-password-file missing")
    assert.equal(1, code)
    assert.truthy(err:find("The vault password file missing was not found", 1, true), err)
  end)

  it("vault ids: 1.2 with the label; several ids need --encrypt-vault-id; any of them decrypts", function()
    write(D .. "/i.yml", "x: ids\n")
    local _, code, err = cli("vault encrypt --vault-id dev@pw --vault-id prod@pw2 i.yml")
    assert.equal(1, code)
    assert.equal("ERROR! The vault-ids dev,prod are available to encrypt. Specify the vault-id to encrypt with"
      .. " --encrypt-vault-id\n", err)
    _, code, err = cli("vault encrypt --vault-id dev@pw --vault-id prod@pw2 --encrypt-vault-id prod i.yml")
    assert.equal(0, code, err)
    assert.truthy(read(D .. "/i.yml"):match("^%$ANSIBLE_VAULT;1%.2;AES256;prod\n"))
    local out = cli("vault view --vault-id dev@pw --vault-id prod@pw2 i.yml")
    assert.equal("x: ids\n", out)
    out = cli("vault view --vault-id other@pw2 i.yml") -- the label need not match
    assert.equal("x: ids\n", out)
    out = cli("vault view --vault-password-file pw2 i.yml")
    assert.equal("x: ids\n", out)
  end)

  it("rekey: the new password (and label), mode kept; the old one no longer opens it", function()
    write(D .. "/r.yml", "x: rekeyed\n")
    assert.equal(0, select(2, cli("vault encrypt --vault-password-file pw r.yml")))
    os.execute("chmod 640 " .. D .. "/r.yml")
    local _, code, err = cli("vault rekey --vault-password-file pw --new-vault-password-file pw2 r.yml")
    assert.equal(0, code)
    assert.equal("Rekey successful\n", err)
    assert.equal(416, mode_of(D .. "/r.yml")) -- 0640
    assert.equal("x: rekeyed\n", plain_of(D .. "/r.yml", "second-pass"))
    assert.is_nil(plain_of(D .. "/r.yml", "hunter2-pass"))
    _, code = cli("vault rekey --vault-password-file pw2 --new-vault-id new@pw r.yml")
    assert.equal(0, code)
    assert.truthy(read(D .. "/r.yml"):match("^%$ANSIBLE_VAULT;1%.2;AES256;new\n"))
    assert.equal("x: rekeyed\n", plain_of(D .. "/r.yml", "hunter2-pass"))
  end)

  it("encrypt_string: -n, several strings with their headers on stderr, --stdin-name, stdin", function()
    local out, code, err = cli("vault encrypt_string --vault-password-file pw -n db_password 'S3cret value'")
    assert.equal(0, code, err)
    assert.truthy(out:match("^db_password: !vault |\n          %$ANSIBLE_VAULT;1%.1;AES256\n"), out)
    assert.is_nil(out:find("\n$")) -- as ansible-vault: no final newline
    local text = out:gsub("^[^\n]*\n", ""):gsub("\n          ", "\n"):gsub("^          ", "") .. "\n"
    assert.equal("S3cret value", (vault.decrypt(text, ring("hunter2-pass"))))
    out, code, err = cli("vault encrypt_string --vault-password-file pw -n a -n b one two three")
    assert.equal(0, code)
    assert.truthy(err:find('The last named variable will be "b". The rest will not have names.', 1, true))
    assert.truthy(err:find('# The encrypted version of variable ("a", the string #1 from the command line args).',
      1, true))
    assert.truthy(err:find("# The encrypted version of the string #3 from the command line args.)", 1, true))
    assert.truthy(out:find("^a: !vault |\n"))
    assert.truthy(out:find("\nb: !vault |\n"))
    assert.truthy(out:find("\n!vault |\n"))
    out, code = cli("vault encrypt_string --vault-password-file pw --stdin-name piped", { stdin = "from-stdin" })
    assert.equal(0, code)
    assert.truthy(out:find("^piped: !vault |\n"))
    _, code, err = cli("vault encrypt_string --vault-password-file pw", { stdin = "" })
    assert.equal(1, code)
    assert.equal("ERROR! stdin was empty, not encrypting\n", err)
    _, code, err = cli("vault encrypt_string --vault-password-file pw -p")
    assert.equal(1, code)
    assert.equal("ERROR! The --prompt option is not supported if also reading input from stdin\n", err)
  end)

  it("edit: $EDITOR on a private temporary file, removed after; saved only when changed", function()
    write(D .. "/e.yml", "x: before\n")
    assert.equal(0, select(2, cli("vault encrypt --vault-id lab@pw e.yml")))
    os.execute("chmod 644 " .. D .. "/e.yml")
    -- the editor notes what it was given, then changes the text
    write(D .. "/editor", "#!/bin/sh\nf=\"$1\"\necho \"$f\" > " .. D .. "/edited-path\n"
      .. "stat -c %a \"$f\" > " .. D .. "/edited-mode\nstat -c %a \"$(dirname \"$f\")\" >> " .. D .. "/edited-mode\n"
      .. "cp \"$f\" " .. D .. "/edited-before\n"
      .. "[ -n \"$NEWTEXT\" ] && printf '%s\\n' \"$NEWTEXT\" > \"$f\"\nexit 0\n")
    os.execute("chmod +x " .. D .. "/editor")
    local before = read(D .. "/e.yml")
    local _, code, err = cli("vault edit --vault-password-file pw e.yml", { env = "EDITOR=" .. D .. "/editor" })
    assert.equal(0, code, err)
    assert.equal(before, read(D .. "/e.yml")) -- unchanged: not re-encrypted
    assert.equal("x: before\n", read(D .. "/edited-before"))
    local tmp = read(D .. "/edited-path"):gsub("\n$", "")
    assert.truthy(tmp:match("%.yml$"), tmp) -- the file's extension, for the editor
    assert.equal("600\n700\n", read(D .. "/edited-mode"))
    assert.is_nil(io.open(tmp))
    assert.is_nil(io.open((tmp:match("^(.*)/"))))
    _, code = cli("vault edit --vault-password-file pw e.yml", { env = "EDITOR=" .. D .. "/editor NEWTEXT='x: after'" })
    assert.equal(0, code)
    assert.truthy(read(D .. "/e.yml"):match("^%$ANSIBLE_VAULT;1%.2;AES256;lab\n")) -- its label kept
    assert.equal(420, mode_of(D .. "/e.yml")) -- 0644 kept
    assert.equal("x: after\n", plain_of(D .. "/e.yml", "hunter2-pass"))
    -- $EDITOR with arguments, split as a shell would
    _, code = cli("vault edit --vault-password-file pw e.yml",
      { env = "EDITOR='" .. D .. "/editor --flag' NEWTEXT='x: again'" })
    assert.equal(0, code)
    assert.equal("--flag\n", read(D .. "/edited-path"))
  end)

  it("create: a new file from the editor; refuses an existing one", function()
    local _, code, err = cli("vault create --vault-password-file pw sub/c.yml",
      { env = "EDITOR=" .. D .. "/editor NEWTEXT='x: created'" })
    assert.equal(0, code, err)
    assert.truthy(err:find("sub does not exist, creating...", 1, true))
    assert.equal("x: created\n", plain_of(D .. "/sub/c.yml", "hunter2-pass"))
    _, code, err = cli("vault create --vault-password-file pw sub/c.yml", { env = "EDITOR=" .. D .. "/editor" })
    assert.equal(1, code)
    assert.equal("ERROR! sub/c.yml exists, please use 'edit' instead\n", err)
  end)

  it("an executable password file is run, its output the password; a -client script gets --vault-id", function()
    write(D .. "/pw.sh", "#!/bin/sh\necho hunter2-pass\n")
    os.execute("chmod +x " .. D .. "/pw.sh")
    write(D .. "/x.yml", "x: scripted\n")
    assert.equal(0, select(2, cli("vault encrypt --vault-password-file pw x.yml")))
    local out, code = cli("vault view --vault-password-file pw.sh x.yml")
    assert.equal(0, code)
    assert.equal("x: scripted\n", out)
    write(D .. "/keys-client.sh", "#!/bin/sh\n[ \"$1\" = --vault-id ] || exit 3\necho \"$2\" >> " .. D
      .. "/asked\ncase \"$2\" in dev) echo hunter2-pass;; *) exit 2;; esac\n")
    os.execute("chmod +x " .. D .. "/keys-client.sh")
    out, code = cli("vault view --vault-id dev@keys-client.sh x.yml")
    assert.equal(0, code)
    assert.equal("x: scripted\n", out)
    assert.equal("dev\n", read(D .. "/asked"))
    local err
    _, code, err = cli("vault view --vault-id prod@keys-client.sh x.yml")
    assert.equal(1, code)
    assert.truthy(err:find("did not find a secret for vault-id=prod", 1, true), err)
    write(D .. "/fail.sh", "#!/bin/sh\nexit 5\n")
    os.execute("chmod +x " .. D .. "/fail.sh")
    _, code, err = cli("vault view --vault-password-file fail.sh x.yml")
    assert.equal(1, code)
    assert.truthy(err:find("returned non-zero (5)", 1, true), err)
  end)

  it("--ask-vault-pass: without a terminal, a line of stdin", function()
    write(D .. "/q.yml", "x: asked\n")
    assert.equal(0, select(2, cli("vault encrypt --vault-password-file pw q.yml")))
    local out, code, err = cli("vault view --ask-vault-pass q.yml", { env = "setsid -w", stdin = "hunter2-pass\n" })
    assert.equal(0, code, err)
    assert.equal("x: asked\n", out)
    assert.equal("Vault password: ", err)
  end)

  it("--ask-vault-pass on a terminal: the password is not echoed", function()
    local p = io.popen(("cd %s && (sleep 2; printf 'hunter2-pass\\n') | script -q -e -c '%s vault view"
      .. " --ask-vault-pass q.yml' /dev/null"):format(D, BIN))
    local out = p:read("a")
    p:close()
    assert.truthy(out:find("Vault password: ", 1, true), out)
    assert.truthy(out:find("x: asked", 1, true), out)
    assert.is_nil(out:find("hunter2", 1, true), out)
  end)
end)

describe("vault content in runs", function()
  local P = D .. "/play"
  local function setup()
    os.execute("rm -rf " .. P .. " && mkdir -p " .. P .. "/group_vars " .. P .. "/files " .. P .. "/templates")
    write(P .. "/hosts", "[web]\nw1 ansible_connection=local\n")
    write(P .. "/group_vars/web.yml", assert(vault.encrypt("db_pass: WholeFileSecret77\nport: 22\n", "hunter2-pass")))
    local inline = assert(vault.encrypt("InlineSecret99", "hunter2-pass"))
    write(P .. "/group_vars/all.yml", "plain: visible\ninline_secret: !vault |\n"
      .. inline:gsub("[^\n]+", "  %0"))
  end

  it("decrypts vaulted group_vars and !vault values; --json never shows them", function()
    setup()
    write(P .. "/p.lua", [[return { hosts = "web", tasks = {
      { name = "show", debug = { msg = "pass={{ db_pass }} inline={{ inline_secret }} port={{ port }}" } },
      { name = "sh", shell = "echo {{ db_pass }} {{ inline_secret }} > ]] .. P .. [[/out.txt; cat ]]
        .. P .. [[/out.txt" },
    } }]])
    local out, code, err = cli("run p.lua -i hosts --vault-password-file ../pw --json", { cwd = P })
    assert.equal(0, code, err .. out)
    -- the commands got the values
    assert.equal("WholeFileSecret77 InlineSecret99\n", read(P .. "/out.txt"))
    assert.is_nil(out:find("WholeFileSecret77", 1, true))
    assert.is_nil(out:find("InlineSecret99", 1, true))
    assert.is_nil(out:find("hunter2-pass", 1, true))
    local saw_msg, saw_line = false, false
    for line in out:gmatch("[^\n]+") do
      local ev = cjson.decode(line)
      if ev.type == "host_task_result" and ev.task == "show" then
        saw_msg = ev.result.msg == "pass=******** inline=******** port=22"
      end
      if ev.type == "stdout" and ev.data == "******** ********" then saw_line = true end
    end
    assert.is_true(saw_msg, out)
    assert.is_true(saw_line, out)
    -- and the terminal's output neither
    out = cli("run p.lua -i hosts --vault-password-file ../pw", { cwd = P })
    assert.truthy(out:find("pass=******** inline=********", 1, true), out)
    assert.is_nil(out:find("Secret", 1, true))
  end)

  it("a wrong or missing password: one line naming the file, nothing runs", function()
    setup()
    write(P .. "/p.lua", "return { hosts = 'web', tasks = { { shell = 'touch " .. P .. "/ran' } } }")
    local out, code, err = cli("run p.lua -i hosts --vault-password-file ../wrong", { cwd = P })
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:match("^luasible: error: [^\n]*group_vars/[a-z]+%.yml[:0-9]*: [^\n]*Decryption failed"
      .. " %(no vault secrets were found that could decrypt%)\n$"), err)
    _, code, err = cli("run p.lua -i hosts", { cwd = P })
    assert.equal(1, code)
    assert.truthy(err:find("no vault secrets found", 1, true), err)
    -- a tampered file
    local text = read(P .. "/group_vars/web.yml")
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    lines[3] = (lines[3]:sub(1, 1) == "3" and "6" or "3") .. lines[3]:sub(2)
    write(P .. "/group_vars/web.yml", table.concat(lines, "\n") .. "\n")
    _, code, err = cli("run p.lua -i hosts --vault-password-file ../pw", { cwd = P })
    assert.equal(1, code)
    assert.truthy(err:find("group_vars/web.yml: ", 1, true), err)
    assert.is_nil(io.open(P .. "/ran"))
  end)

  it("copy and template decrypt a vaulted src on the controller; copy decrypt=false copies it as is", function()
    setup()
    local enc = assert(vault.encrypt("file body secret\n", "hunter2-pass"))
    write(P .. "/files/secret.txt", enc)
    write(P .. "/templates/t.j2", assert(vault.encrypt("port={{ port }}\n", "hunter2-pass")))
    write(P .. "/p.lua", ([[return { hosts = "web", tasks = {
      { copy = { src = "secret.txt", dest = "%s/plain.txt" } },
      { copy = { src = "secret.txt", dest = "%s/raw.txt", decrypt = false } },
      { template = { src = "t.j2", dest = "%s/t.txt" } },
    } }]]):format(P, P, P))
    local out, code, err = cli("run p.lua -i hosts --vault-id ../pw --json", { cwd = P })
    assert.equal(0, code, err .. out)
    assert.equal("file body secret\n", read(P .. "/plain.txt"))
    assert.equal(enc, read(P .. "/raw.txt"))
    assert.equal("port=22\n", read(P .. "/t.txt"))
    assert.is_nil(out:find("file body secret", 1, true))
  end)

  it("-e @vaulted.yml, a vaulted INI inventory, and exec", function()
    setup()
    write(P .. "/extra.yml", assert(vault.encrypt("from_extra: ExtraSecret55\n", "hunter2-pass")))
    write(P .. "/inv.ini", assert(vault.encrypt("[web]\nw1 ansible_connection=local inv_secret=InvSecret33\n",
      "hunter2-pass")))
    local out, code, err = cli("exec web -i inv.ini -e @extra.yml --vault-password-file ../pw --json -a "
      .. "'echo {{ from_extra }} {{ inv_secret }} > " .. P .. "/exec.txt'", { cwd = P })
    assert.equal(0, code, err .. out)
    assert.equal("ExtraSecret55 InvSecret33\n", read(P .. "/exec.txt"))
    assert.is_nil(out:find("ExtraSecret55", 1, true))
    assert.is_nil(out:find("InvSecret33", 1, true))
    _, code, err = cli("exec web -i inv.ini -a true", { cwd = P })
    assert.equal(1, code)
    assert.truthy(err:find("inv.ini: Attempting to decrypt but no vault secrets found", 1, true), err)
  end)

  it("luasible inventory: vaulted files decrypted, !vault values shown encrypted (as ansible-inventory)", function()
    setup()
    local out, code, err = cli("inventory -i hosts --list --vault-password-file ../pw", { cwd = P })
    assert.equal(0, code, err)
    local t = cjson.decode(out)
    local w1 = t._meta.hostvars.w1
    assert.equal("WholeFileSecret77", w1.db_pass)
    assert.truthy(vault.is_encrypted(w1.inline_secret.__ansible_vault))
    assert.equal("InlineSecret99", (vault.decrypt(w1.inline_secret.__ansible_vault, ring("hunter2-pass"))))
  end)
end)
