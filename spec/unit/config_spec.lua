--- luasible.config: the INI reader (configparser's semantics as Ansible
-- uses them), which file is read, the precedence of the command line, the
-- environment, the file and the defaults, the types of values, warnings.
local config = require "luasible.config"
local ini = require "luasible.config.ini"
local settings = require "luasible.config.settings"
local files = require "spec.helpers.files"

local function env(t) return function(k) return t[k] end end

describe("config", function()
  local dir = files.tmpdir()
  local n = 0
  -- a fresh folder with files { rel = text }
  local function tree(t)
    n = n + 1
    local d = dir .. "/t" .. n
    files.sh("mkdir -p '" .. d .. "/home' '" .. d .. "/cwd'")
    for rel, text in pairs(t or {}) do
      files.sh("mkdir -p \"$(dirname '" .. d .. "/" .. rel .. "')\"")
      files.write(d .. "/" .. rel, text)
    end
    return d
  end
  local function load(d, e)
    return config.load({ cwd = d .. "/cwd", home = d .. "/home", getenv = env(e or {}), etc = d .. "/etc/ansible.cfg" })
  end

  describe("the INI reader", function()
    it("reads sections, key = value and key: value, comments, inline ; comments, continuation lines", function()
      local t = assert(ini.parse(table.concat({
        "\239\187\191# a comment",
        "; another",
        "[defaults]",
        "Forks = 50 ; fifty",
        "remote_user: deploy",
        "color = #fff",
        "semi = a;b",
        "raw = %(home)s/x",
        "ssh_args = -o A=1",
        "    -o B=2",
        "",
        "    -o C=3",
        "",
        "[privilege_escalation]",
        "become=yes",
        "empty =",
      }, "\n"), "f.cfg"))
      local d = t.sections.defaults
      assert.equal("50", d.forks.value)
      assert.equal(4, d.forks.line)
      assert.equal("deploy", d.remote_user.value)
      assert.equal("#fff", d.color.value)
      assert.equal("a;b", d.semi.value)
      assert.equal("%(home)s/x", d.raw.value)
      assert.equal("-o A=1\n-o B=2\n\n-o C=3", d.ssh_args.value)
      assert.equal("yes", t.sections.privilege_escalation.become.value)
      assert.equal("", t.sections.privilege_escalation.empty.value)
      assert.same({ "defaults", "privilege_escalation" }, t.order)
    end)

    it("refuses what configparser refuses, naming file:line", function()
      local cases = {
        { "forks = 5\n", "f.cfg:1: key 'forks' before any [section]" },
        { "[defaults]\nforks = 5\nforks = 6\n", "f.cfg:3: key 'forks' given twice in section '[defaults]'" },
        { "[defaults]\n[defaults]\n", "f.cfg:2: section '[defaults]' given twice" },
        { "[defaults]\njust words\n", "f.cfg:2: expected key = value, got 'just words'" },
        { "[defaults]\n= 5\n", "f.cfg:2: expected key = value, got '= 5'" },
      }
      for _, c in ipairs(cases) do
        local t, err = ini.parse(c[1], "f.cfg")
        assert.is_nil(t)
        assert.equal(c[2], err)
      end
    end)
  end)

  describe("which file", function()
    it("LUASIBLE_CONFIG, ./luasible.cfg, ~/.luasible.cfg, ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc",
      function()
      local all = {
        ["x/explicit.cfg"] = "[defaults]\nforks = 1\n", ["cwd/luasible.cfg"] = "[defaults]\nforks = 2\n",
        ["home/.luasible.cfg"] = "[defaults]\nforks = 3\n", ["y/a.cfg"] = "[defaults]\nforks = 4\n",
        ["cwd/ansible.cfg"] = "[defaults]\nforks = 5\n", ["home/.ansible.cfg"] = "[defaults]\nforks = 6\n",
        ["etc/ansible.cfg"] = "[defaults]\nforks = 7\n",
      }
      local d = tree(all)
      local e = { LUASIBLE_CONFIG = d .. "/x/explicit.cfg", ANSIBLE_CONFIG = d .. "/y/a.cfg" }
      local order = { "x/explicit.cfg", "cwd/luasible.cfg", "home/.luasible.cfg", "y/a.cfg", "cwd/ansible.cfg",
        "home/.ansible.cfg", "etc/ansible.cfg" }
      for i, rel in ipairs(order) do
        local c = assert(load(d, e))
        assert.equal(d .. "/" .. rel, c.file)
        assert.equal(i, c:get("forks"))
        assert.equal(d .. "/" .. rel .. ":2", c:origin("forks"))
        os.remove(d .. "/" .. rel)
        if rel == "x/explicit.cfg" then e.LUASIBLE_CONFIG = nil end
        if rel == "y/a.cfg" then e.ANSIBLE_CONFIG = nil end
      end
      local c = assert(load(d, e))
      assert.is_nil(c.file)
      assert.equal(settings.DEFAULT_FORKS, c:get("forks"))
      assert.equal("default", c:origin("forks"))
    end)

    it("LUASIBLE_CONFIG may name a folder; one that names nothing is an error", function()
      local d = tree({ ["conf/luasible.cfg"] = "[defaults]\nforks = 9\n" })
      assert.equal(9, assert(load(d, { LUASIBLE_CONFIG = d .. "/conf" })):get("forks"))
      local c, err = load(d, { LUASIBLE_CONFIG = d .. "/nope.cfg" })
      assert.is_nil(c)
      assert.equal("env LUASIBLE_CONFIG: no such file: " .. d .. "/nope.cfg", err)
    end)

    it("skips the current folder's files when it is world-writable (as Ansible)", function()
      local d = tree({ ["cwd/luasible.cfg"] = "[defaults]\nforks = 2\n",
        ["home/.luasible.cfg"] = "[defaults]\nforks = 3\n" })
      files.sh("chmod 0777 '" .. d .. "/cwd'")
      assert.equal(3, assert(load(d)):get("forks"))
    end)
  end)

  describe("precedence and values", function()
    it("cli > LUASIBLE_* > ANSIBLE_* > the file > the default, each with where it came from", function()
      local d = tree({ ["cwd/ansible.cfg"] = "[defaults]\nforks = 20\nremote_user = filer\ntimeout = 7\n" })
      local c = assert(load(d, { ANSIBLE_FORKS = "30", LUASIBLE_REMOTE_USER = "envy", ANSIBLE_REMOTE_USER = "no" }))
      assert.equal(30, c:get("forks"))
      assert.equal("env ANSIBLE_FORKS", c:origin("forks"))
      assert.equal("envy", c:get("remote_user"))
      assert.equal("env LUASIBLE_REMOTE_USER", c:origin("remote_user"))
      assert.equal(7, c:get("timeout"))
      assert.equal(d .. "/cwd/ansible.cfg:4", c:origin("timeout"))
      assert.equal("explicit", c:get("gathering"))
      assert.equal("default", c:origin("gathering"))
      c:set_cli("forks", 3)
      assert.equal(3, c:get("forks"))
      assert.equal("cli", c:origin("forks"))
      c:set_cli("forks", nil)
      assert.equal(3, c:get("forks"))
    end)

    it("reads every setting of ansible.cfg's sections as its type; paths from the file's folder", function()
      local d = tree({ ["cwd/ansible.cfg"] = table.concat({
        "[defaults]",
        "inventory = hosts.ini, ~/inv/, /abs/x.yml",
        "forks = 25",
        "remote_user = 'deploy'",
        "host_key_checking = False",
        "private_key_file = ~/.ssh/fleet",
        "roles_path = roles:/usr/share/roles",
        "timeout = 12.5",
        "vault_password_file = .vault_pass",
        "log_path = logs/run.log",
        "gathering = Smart",
        "library = lib",
        "[privilege_escalation]",
        "become = yes",
        "become_user = admin",
        "become_method = sudo",
        "become_ask_pass = on",
        "[ssh_connection]",
        "ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=accept-new",
        "pipelining = True",
      }, "\n") })
      local c = assert(load(d))
      local cwd, home = d .. "/cwd", d .. "/home"
      assert.same({ cwd .. "/hosts.ini", home .. "/inv/", "/abs/x.yml" }, c:get("inventory"))
      assert.equal(25, c:get("forks"))
      assert.equal("deploy", c:get("remote_user"))
      assert.equal(false, c:get("host_key_checking"))
      assert.equal(home .. "/.ssh/fleet", c:get("private_key_file"))
      assert.same({ cwd .. "/roles", "/usr/share/roles" }, c:get("roles_path"))
      assert.equal(12.5, c:get("timeout"))
      assert.equal(cwd .. "/.vault_pass", c:get("vault_password_file"))
      assert.equal(cwd .. "/logs/run.log", c:get("log_path"))
      assert.equal("smart", c:get("gathering"))
      assert.same({ cwd .. "/lib" }, c:get("module_path"))
      assert.equal(true, c:get("become"))
      assert.equal("admin", c:get("become_user"))
      assert.equal(true, c:get("become_ask_pass"))
      assert.equal("-o StrictHostKeyChecking=accept-new", c:get("ssh_args"))
      assert.equal(true, c:get("pipelining"))
      local f = cwd .. "/ansible.cfg:19: ssh_args: "
      assert.same({ f .. "-C ignored (compression is not used)",
        f .. "ControlMaster=auto ignored (luasible keeps one session per host itself)",
        f .. "ControlPersist=60s ignored (luasible keeps one session per host itself)" }, c.warnings)
    end)

    it("an environment path is taken from the current folder", function()
      local d = tree()
      local c = assert(load(d, { ANSIBLE_VAULT_PASSWORD_FILE = "pw.txt", LUASIBLE_INVENTORY = "a.ini,b.ini" }))
      assert.equal(d .. "/cwd/pw.txt", c:get("vault_password_file"))
      assert.same({ d .. "/cwd/a.ini", d .. "/cwd/b.ini" }, c:get("inventory"))
    end)

    it("refuses a value of the wrong type naming file:line or the variable", function()
      local cases = {
        { "[defaults]\nforks = many\n", ":2: forks: must be a whole number, got 'many'" },
        { "[defaults]\nforks = 0\n", ":2: forks: must be at least 1, got '0'" },
        { "[defaults]\nhost_key_checking = perhaps\n", ":2: host_key_checking: must be a boolean" },
        { "[defaults]\ngathering = lazy\n", ":2: gathering: must be one of explicit, implicit, smart, got 'lazy'" },
        { "[privilege_escalation]\nbecome_method = su\n", ":2: become_method: must be one of sudo, got 'su'" },
        { "[ssh_connection]\nssh_args = -o Bogus=1\n", ":2: ssh_args: unsupported ssh option -o Bogus=1" },
      }
      for _, cs in ipairs(cases) do
        local d = tree({ ["cwd/luasible.cfg"] = cs[1] })
        local c, err = load(d)
        assert.is_nil(c)
        assert.equal(d .. "/cwd/luasible.cfg" .. cs[2], err:sub(1, #d + 17 + #cs[2]))
      end
      local d = tree()
      local _, err = load(d, { LUASIBLE_FORKS = "-3" })
      assert.equal("env LUASIBLE_FORKS: forks: must be at least 1, got '-3'", err)
    end)

    it("warns of an unknown key, naming file:line", function()
      local d = tree({ ["cwd/ansible.cfg"] = "[defaults]\nforks = 5\nstdout_callback = yaml\n[colors]\nok = green\n" })
      local c = assert(load(d))
      local f = d .. "/cwd/ansible.cfg"
      assert.same({ f .. ":3: unknown key 'stdout_callback' in '[defaults]': not a setting luasible reads (ignored)",
        f .. ":5: unknown key 'ok' in '[colors]': not a setting luasible reads (ignored)" }, c.warnings)
      assert.equal(5, c:get("forks"))
    end)

    it("config.get answers from the configuration in use; an unknown name raises", function()
      local d = tree({ ["cwd/luasible.cfg"] = "[defaults]\nvault_password_file = /run/pw\n" })
      config.use(assert(load(d)))
      assert.equal("/run/pw", config.get("vault_password_file"))
      assert.has_error(function() config.get("nope") end, "luasible.config: unknown setting 'nope'")
      config.use(nil)
    end)

    it("every setting has a type, an ini key, environment names and a line in docs/CONFIG.md", function()
      local doc = assert(files.read("docs/CONFIG.md"))
      for _, s in ipairs(settings.LIST) do
        assert.truthy(s.type and #s.ini > 0 and #s.env > 0 and s.doc, s.name)
        assert.truthy(doc:find("| `" .. s.name .. "` |", 1, true), s.name .. " is not in docs/CONFIG.md")
      end
    end)
  end)
end)
