--- #hosts apt_key and apt_repository on real test hosts: a signed apt
-- repository (spec/helpers/aptrepo.lua: dpkg-deb, apt-ftparchive, gpg) on
-- "srv" served over HTTP, its key and source added on "cli" and a package
-- installed from it, end to end and offline; present, absent, changed then
-- unchanged, --check changing nothing, --diff of the sources file, the
-- file names Ansible gives, bad arguments, a missing gpg.
local th = require "spec.helpers.testhosts"
local hosts_task = require "spec.helpers.hosts_task"
local aptrepo = require "spec.helpers.aptrepo"
local json = require "luasible.json"
local files = require "spec.helpers.files"
local cli_run = require "spec.helpers.cli"

describe("#hosts apt_key and apt_repository", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, task, repo, cli
  local _ -- the results a test does not look at
  local KR = "/etc/apt/keyrings/spec.gpg"
  local function on(cmd) return (cli:exec(cmd)) end
  local function keys(file)
    return on("gpg --batch --no-default-keyring --keyring " .. file
      .. " --with-colons --list-keys 2>/dev/null | awk -F: '$1==\"pub\"{print $5}'"):gsub("%s+$", "")
  end
  lazy_setup(function()
    hosts = th.start { names = { "srv", "cli" } }
    cli = hosts[2]
    repo = aptrepo.start(hosts[1])
    repo:package("lsb-hello", "1.0")
    aptrepo.plain(cli)
    task = hosts_task.runner(hosts)
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  local function run(t, o) return task(t, setmetatable({ host = 2 }, { __index = o or {} })) end

  it("the key from a url into a signed-by keyring, the source, a package from it; then unchanged", function()
    local line = "deb [signed-by=" .. KR .. "] " .. repo.url .. " stable main"
    -- --check first: nothing written
    local r, st = run({ apt_key = { url = repo.key_url, keyring = KR } }, { check = true })
    assert.equal("changed", st, json.encode(r))
    assert.equal("", keys(KR))
    r, st = run({ apt_key = { url = repo.key_url, keyring = KR } })
    assert.equal("changed", st, json.encode(r))
    assert.equal(repo.id, r.id)
    assert.equal(repo.id, keys(KR))
    assert.equal(repo.id:sub(-8), r.short_id)
    r, st = run({ apt_key = { url = repo.key_url, keyring = KR } })
    assert.equal("ok", st, json.encode(r))
    assert.same({ repo.id }, r.before)
    -- the source: Ansible's file name (the URL's host and path, `_` for the rest)
    local file = "/etc/apt/sources.list.d/" .. (repo.url:gsub("^http://", ""):gsub("[^%w]+", "_")) .. ".list"
    r, st = run({ apt_repository = { repo = line } }, { check = true, diff = true })
    assert.equal("changed", st, json.encode(r))
    assert.equal("", on("ls /etc/apt/sources.list.d/"))
    assert.equal("/dev/null", r.diff[1].before_header)
    assert.equal(file, r.diff[1].after_header)
    assert.equal(line .. "\n", r.diff[1].after)
    local evs
    r, st, evs = run({ apt_repository = { repo = line } })
    assert.equal("changed", st, json.encode(r))
    assert.equal(line .. "\n", on("cat " .. file))
    assert.equal("-rw-r--r--", on("stat -c %A " .. file):gsub("%s+$", ""))
    local streamed = false
    for _, e in ipairs(evs) do
      if e.type == "stdout" and tostring(e.data):find("InRelease", 1, true) then streamed = true end
    end
    assert.is_true(streamed, "apt-get update's lines streamed")
    -- the signed index is in: apt installs from it
    r, st = run({ apt = { name = "lsb-hello" } })
    assert.equal("changed", st, json.encode(r))
    assert.equal("1.0\n", on("cat /usr/share/lsb-hello/version"))
    -- the same line, spaced differently and in another file's name: found, unchanged
    r, st = run({ apt_repository = { repo = "  deb  [signed-by=" .. KR .. "]   " .. repo.url .. " stable   main " } })
    assert.equal("ok", st, json.encode(r))
    _, st = run({ apt_repository = { repo = line, filename = "other" } })
    assert.equal("ok", st)
    assert.equal(file:match("[^/]+$") .. "\n", on("ls /etc/apt/sources.list.d/"))
  end)

  it("absent: the source out of every file (an empty file gone), then unchanged; a disabled line enabled", function()
    local line = "deb [trusted=yes] " .. repo.url .. " stable main"
    aptrepo.must(cli, "printf '# a comment\\n#" .. line .. "\\n' > /etc/apt/sources.list")
    local r, st = run({ apt_repository = { repo = line, update_cache = false } }, { diff = true })
    assert.equal("changed", st, json.encode(r))
    assert.equal("# a comment\n" .. line .. "\n", on("cat /etc/apt/sources.list"))
    assert.equal("/etc/apt/sources.list", r.diff[1].before_header)
    _, st = run({ apt_repository = { repo = "deb http://x.invalid/a b c", filename = "extra", update_cache = false,
      mode = "0600" } })
    assert.equal("changed", st)
    assert.equal("-rw-------", on("stat -c %A /etc/apt/sources.list.d/extra.list"):gsub("%s+$", ""))
    r, st = run({ apt_repository = { repo = "deb http://x.invalid/a b c", state = "absent", update_cache = false } },
      { check = true })
    assert.equal("changed", st, json.encode(r))
    assert.equal("deb http://x.invalid/a b c\n", on("cat /etc/apt/sources.list.d/extra.list"))
    _, st = run({ apt_repository = { repo = "deb http://x.invalid/a b c", state = "absent", update_cache = false } })
    assert.equal("changed", st)
    assert.equal("no", on("[ -e /etc/apt/sources.list.d/extra.list ] && echo yes || echo no"):gsub("%s+$", ""))
    _, st = run({ apt_repository = { repo = "deb http://x.invalid/a b c", state = "absent", update_cache = false } })
    assert.equal("ok", st)
    _, st = run({ apt_repository = { repo = line, state = "absent", update_cache = false } })
    assert.equal("changed", st)
    assert.equal("# a comment\n", on("cat /etc/apt/sources.list"))
  end)

  it("a source apt cannot fetch: the update fails, the files are put back", function()
    local r, st = run({ apt_repository = { repo = "deb http://" .. hosts[1].address .. ":9/none stable main",
      update_cache_retries = 1 } })
    assert.equal("failed", st, json.encode(r))
    assert.matches("Failed to update apt cache", r.msg)
    assert.equal("", on("ls /etc/apt/sources.list.d/ | grep 9_none || true"))
  end)

  it("apt_key from data and from a file, absent by id, into trusted.gpg.d", function()
    local data = repo.host:read(repo.dir .. "/key.asc")
    local kr = "/etc/apt/trusted.gpg.d/spec.asc"
    local r, st = run({ apt_key = { data = data, keyring = kr } })
    assert.equal("changed", st, json.encode(r))
    assert.matches("BEGIN PGP PUBLIC KEY BLOCK", on("cat " .. kr))
    -- without keyring: every key apt trusts is looked at: there already
    _, st = run({ apt_key = { data = data } })
    assert.equal("ok", st)
    cli:write("/root/key.gpg", repo.host:read(repo.dir .. "/key.gpg"))
    _, st = run({ apt_key = { file = "/root/key.gpg", keyring = "/etc/apt/keyrings/f.gpg" } })
    assert.equal("changed", st)
    assert.equal(repo.id, keys("/etc/apt/keyrings/f.gpg"))
    _, st = run({ apt_key = { id = repo.fpr, keyring = "/etc/apt/keyrings/f.gpg", state = "absent" } },
      { check = true })
    assert.equal("changed", st)
    assert.equal(repo.id, keys("/etc/apt/keyrings/f.gpg"))
    _, st = run({ apt_key = { id = repo.id:sub(-8), keyring = "/etc/apt/keyrings/f.gpg", state = "absent" } })
    assert.equal("changed", st)
    assert.equal("no", on("[ -e /etc/apt/keyrings/f.gpg ] && echo yes || echo no"):gsub("%s+$", ""))
    _, st = run({ apt_key = { id = repo.id, keyring = "/etc/apt/keyrings/f.gpg", state = "absent" } })
    assert.equal("ok", st)
    -- a host without curl: wget downloads it
    aptrepo.must(cli, "mv /usr/bin/curl /usr/bin/curl.off")
    r, st = run({ apt_key = { url = repo.key_url, keyring = "/etc/apt/keyrings/w.gpg" } })
    aptrepo.must(cli, "mv /usr/bin/curl.off /usr/bin/curl")
    assert.equal("changed", st, json.encode(r))
    assert.equal(repo.id, keys("/etc/apt/keyrings/w.gpg"))
  end)

  it("bad arguments are refused naming them; a ppa on Debian, a missing gpg: clear failures", function()
    local r, st, err = run({ apt_repository = { repo = "deb x y", bogus = 1 } })
    assert.is_nil(r)
    assert.equal("refused", st)
    assert.matches("bogus", tostring(err))
    _, st, err = run({ apt_key = { data = "x", url = "http://a/b" } })
    assert.equal("refused", st)
    assert.matches("data", tostring(err))
    _, st, err = run({ apt_repository = { repo = "deb x y", state = "gone" } })
    assert.equal("refused", st)
    assert.matches("state", tostring(err))
    r, st = run({ apt_repository = { repo = "ppa:deadsnakes/ppa" } })
    assert.equal("failed", st)
    assert.matches("PPA is Ubuntu's", r.msg)
    r, st = run({ apt_repository = { repo = "rpm http://a/b c" } })
    assert.equal("failed", st)
    assert.matches("Invalid repository string", r.msg)
    r, st = run({ apt_key = { url = repo.url .. "/nothing.asc" } })
    assert.equal("failed", st)
    assert.matches("Failed to download key", r.msg)
    -- environment: reaches the download (a proxy nobody listens on: the download fails through it)
    local d = files.tmpdir()
    files.write(d .. "/inv.ini", hosts:inventory_ini())
    files.write(d .. "/site.yml", "- hosts: cli\n  gather_facts: false\n  tasks:\n    - apt_key: { url: \""
      .. repo.key_url .. "\", keyring: /etc/apt/keyrings/p.gpg }\n"
      .. "      environment: { http_proxy: \"http://127.0.0.1:9\" }\n")
    local out, code = cli_run.luasible("run " .. d .. "/site.yml -i " .. d .. "/inv.ini")
    assert.equal(2, code, out)
    assert.matches("Failed to download key", out)
    aptrepo.must(cli, "mv /usr/bin/gpg /usr/bin/gpg.off")
    r, st = run({ apt_key = { url = repo.key_url } })
    aptrepo.must(cli, "mv /usr/bin/gpg.off /usr/bin/gpg")
    assert.equal("failed", st)
    assert.matches("gpg not found on the host", r.msg)
    aptrepo.must(cli, "mv /usr/bin/apt-config /usr/bin/apt-config.off")
    r, st = run({ apt_repository = { repo = "deb http://a.invalid/x y z" } })
    aptrepo.must(cli, "mv /usr/bin/apt-config.off /usr/bin/apt-config")
    assert.equal("failed", st)
    assert.matches("apt%-get/apt%-config not found on the host", r.msg)
  end)
end)
