local inventory = require "luasible.inventory"
local yaml = require "luasible.yaml"

-- a fresh folder per test (f.dir()), mk(rel, text) to write a file in it,
-- inv.ini holding `ini`
local function folder(ini)
  local write = require("spec.helpers.files").write
  local f = {}
  function f.mk(rel, text)
    os.execute("mkdir -p '" .. (f.dir .. "/" .. rel):match("^(.*)/[^/]*$") .. "'")
    write(f.dir .. "/" .. rel, text)
  end
  before_each(function()
    f.dir = os.tmpname()
    os.remove(f.dir)
    os.execute("mkdir -p '" .. f.dir .. "'")
    write(f.dir .. "/inv.ini", ini)
  end)
  after_each(function() os.execute("rm -rf '" .. f.dir .. "'") end)
  return f
end

describe("inventory vars folders", function()
  describe("group_vars/ and host_vars/ next to the inventory", function()
    local write = require("spec.helpers.files").write
    local f = folder("[all:vars]\nfrom=inv_all\nlvl=inv_all\nallfile=1\n"
        .. "[parent:children]\nchild\n[parent:vars]\nlvl=inv_parent\npv=inv_parent\n"
        .. "[child]\nc1 hv=hostline\nc2\n[child:vars]\ncv=inv_child\n[other]\no1\n")
    local mk = f.mk

    it("loads files and folders with Ansible's precedence", function()
      mk("group_vars/all.yml", "from: gv_all\nlvl: gv_all\nshared: [1, 2]\n")
      mk("group_vars/parent.yaml", "lvl: gv_parent\npv: gv_parent\n")
      mk("group_vars/child/10-a.yml", "cv: first\nonly_a: a\n")
      mk("group_vars/child/20-b.json", '{"cv": "second", "nested": {"k": [1, null, 2]}, "n": null}')
      mk("group_vars/child/README.txt", "not: loaded\n")
      mk("group_vars/child/.hidden.yml", "cv: hidden\n")
      mk("group_vars/child/30-c.yml~", "cv: backup\n")
      mk("host_vars/c1", "hv: host_vars\nlvl: hv_c1\n")
      mk("host_vars/nosuchhost.yml", "x: 1\n")
      local inv = assert(inventory.load(f.dir .. "/inv.ini"))
      local c1, c2, o1 = inv:host_vars("c1"), inv:host_vars("c2"), inv:host_vars("o1")
      -- group_vars/all beats the inventory file's all vars and applies to every host
      assert.equal("gv_all", o1.from)
      assert.same({ 1, 2 }, o1.shared)
      assert.equal(1, o1.allfile)
      assert.equal("gv_all", o1.lvl)
      -- a child group beats its parent; group_vars/ beats the inventory file
      assert.equal("gv_parent", c2.lvl)
      assert.equal("gv_parent", c2.pv)
      -- a folder's files in sorted order, later ones win; other names ignored
      assert.equal("second", c2.cv)
      assert.equal("a", c2.only_a)
      -- a null is kept, in a list too, as in Ansible
      assert.same({ k = { 1, require("luasible.yaml").null, 2 } }, c2.nested)
      assert.equal(require("luasible.yaml").null, c2.n)
      assert.is_nil(c2["not"])
      -- host_vars beat the host line and every group
      assert.equal("host_vars", c1.hv)
      assert.equal("hv_c1", c1.lvl)
    end)

    it("refuses a malformed file with file and line", function()
      mk("group_vars/child.yml", "a: 1\nb: [1,\nc: 2\n")
      local inv, err = inventory.load(f.dir .. "/inv.ini")
      assert.is_nil(inv)
      local at = "^" .. f.dir:gsub("%p", "%%%0") .. "/group_vars/child%.yml:%d+: did not find expected"
      assert.truthy(err:find(at), err)
    end)

    it("refuses what is not a mapping, keeps keys that are no identifiers (as Ansible)", function()
      mk("host_vars/c1.yml", "- a\n- b\n")
      local _, err = inventory.load(f.dir .. "/inv.ini")
      assert.equal(f.dir .. "/host_vars/c1.yml: must be a mapping of variable names to values, got a list", err)
      mk("host_vars/c1.yml", "ok: 1\nbad-name: 2\napp.port: 80\n")
      local v = assert(inventory.load(f.dir .. "/inv.ini")):host_vars("c1")
      assert.equal(2, v["bad-name"])
      assert.equal(80, v["app.port"])
      mk("host_vars/c1.yml", '{"a": 1')
      _, err = inventory.load(f.dir .. "/inv.ini")
      assert.truthy(err:find("^" .. f.dir:gsub("%p", "%%%0") .. "/host_vars/c1%.yml:%d+: "), err)
    end)

    it("refuses ansible-vault files and values when no vault secret was given", function()
      mk("group_vars/all/vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n")
      local _, err = inventory.load(f.dir .. "/inv.ini")
      assert.equal(f.dir .. "/group_vars/all/vault.yml: Attempting to decrypt but no vault secrets found"
        .. " (give --vault-password-file, --vault-id or --ask-vault-pass)", err)
      os.remove(f.dir .. "/group_vars/all/vault.yml")
      mk("group_vars/all/vars.yml", "plain: 1\ndb_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n")
      _, err = inventory.load(f.dir .. "/inv.ini")
      assert.truthy(err:find(f.dir .. "/group_vars/all/vars.yml:2: vault-encrypted value: Attempting to decrypt"
        .. " but no vault secrets found", 1, true), err)
    end)

    it("keeps an empty mapping a mapping ({} in to_json), in vars files, JSON files and YAML inventories", function()
      local json = require "luasible.json"
      mk("group_vars/all.yml", "empty: {}\nlist: []\nnested: {a: {}}\nalias: &e {}\nsame: *e\n")
      mk("host_vars/c1.json", '{"j": {}, "jl": []}')
      write(f.dir .. "/inv.yml", "all:\n  vars: { y: {} }\n  hosts:\n    c1:\n")
      for _, src in ipairs({ "inv.ini", "inv.yml" }) do
        local v = assert(inventory.load(f.dir .. "/" .. src)):host_vars("c1")
        assert.equal('{"a":{}}', json.encode(v.nested))
        assert.equal("{}", json.encode(v.empty))
        assert.equal("[]", json.encode(v.list))
        assert.equal("{}", json.encode(v.same))
        assert.equal("{}", json.encode(v.j))
        assert.equal("[]", json.encode(v.jl))
      end
      assert.equal("{}", json.encode(assert(inventory.load(f.dir .. "/inv.yml")):host_vars("c1").y))
      assert.equal('{"h":{},"l":[]}', json.encode(require("luasible.yaml").decode('{"h": {}, "l": []}')))
      assert.same({ 3, true }, { require("luasible.yaml").decode("a: !!int '3'\nb: !!bool 'true'\n").a,
        require("luasible.yaml").decode("b: !!bool 'true'\n").b })
    end)

    it("reads the vars folders of an inventory in a relative folder whose name starts with '-'", function()
      mk("-inv/hosts.ini", "[web]\nh1\n")
      mk("-inv/group_vars/web/main.yml", "x: from_dash\n")
      local lua = os.getenv("PWD") .. "/lua/"
      local p = io.popen("cd '" .. f.dir .. "' && lua5.4 -e 'package.path = \"" .. lua .. "?.lua;" .. lua
        .. "?/init.lua;\" .. package.path package.cpath = \"" .. os.getenv("PWD") .. "/?.so;\" .. package.cpath'"
        .. " -e 'local inv = assert(require(\"luasible.inventory\").load("
        .. "\"-inv/hosts.ini\")) print(inv:host_vars(\"h1\").x)' 2>&1")
      local out = p:read("a")
      p:close()
      assert.equal("from_dash\n", out)
    end)

    it("reads nested files of a vars folder and follows a symlinked folder or file", function()
      mk("shared/web/10-base.yml", "x: base\nbase: 1\n")
      mk("shared/web/sub/20-more.yml", "x: more\nmore: 2\n")
      mk("shared/web/sub/.hidden/30.yml", "x: hidden\n")
      mk("shared/c1.yml", "hv: linked\n")
      mk("group_vars/.keep", "")
      mk("host_vars/.keep", "")
      assert(os.execute("ln -s ../shared/web '" .. f.dir .. "/group_vars/child'"))
      assert(os.execute("ln -s ../shared/c1.yml '" .. f.dir .. "/host_vars/c1.yml'"))
      local inv = assert(inventory.load(f.dir .. "/inv.ini"))
      local c1 = inv:host_vars("c1")
      assert.equal("more", c1.x) -- sub/20-more.yml sorts after 10-base.yml
      assert.equal(1, c1.base)
      assert.equal(2, c1.more)
      assert.equal("linked", c1.hv)
    end)

    it("names the first wrong key of a vars file in the file's order, whatever the table order", function()
      mk("host_vars/c1.yml", "zz: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  61\n"
        .. "aa: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  62\n")
      local _, err = inventory.load(f.dir .. "/inv.ini")
      assert.truthy(err:find(f.dir .. "/host_vars/c1.yml:1: vault-encrypted value", 1, true), err)
    end)

    it("works for YAML inventories too, and without any folder", function()
      write(f.dir .. "/inv.yml", "all:\n  children:\n    web:\n      hosts:\n        w1:\n")
      assert.is_nil(inventory.load(f.dir .. "/inv.yml"):host_vars("w1").x)
      mk("group_vars/web.yml", "x: 42\n")
      assert.equal(42, inventory.load(f.dir .. "/inv.yml"):host_vars("w1").x)
    end)
  end)

  describe("as Ansible's host_group_vars reads them", function()
    local f = folder("[web]\nh1\n[db]\nh2\n[app:children]\nweb\ndb\n")
    local mk = f.mk

    it("reads the first of NAME, NAME.yml, NAME.yaml, NAME.json only", function()
      mk("group_vars/web", "src: noext\n")
      mk("group_vars/web.yml", "src: yml\nonly_yml: 1\n")
      mk("group_vars/db.yml", "src: db_yml\n")
      mk("group_vars/db.yaml", "src: db_yaml\nonly_yaml: 1\n")
      local inv = assert(inventory.load(f.dir .. "/inv.ini"))
      local h1, h2 = inv:host_vars("h1"), inv:host_vars("h2")
      assert.equal("noext", h1.src)
      assert.is_nil(h1.only_yml)
      assert.equal("db_yml", h2.src)
      assert.is_nil(h2.only_yaml)
    end)

    it("walks a folder: sorted per level, sub-folders without a dot, files without or with a YAML ending", function()
      mk("group_vars/app/10.yml", "order: 10\n")
      mk("group_vars/app/a-b.yml", "order: a-b\n")
      mk("group_vars/app/a/c.yml", "order: a/c\nfrom_a: 1\n")
      mk("group_vars/app/conf.d/x.yml", "order: conf.d\nfrom_confd: 1\n")
      mk("group_vars/app/notes.txt", "order: txt\n")
      mk("group_vars/app/empty.yml", "")
      local v = assert(inventory.load(f.dir .. "/inv.ini")):host_vars("h1")
      assert.equal("a-b", v.order) -- "a" (a folder) sorts before "a-b.yml"
      assert.equal(1, v.from_a)
      assert.is_nil(v.from_confd)
    end)

    it("reads only the files of the inventory's groups and hosts (a broken one of another name is not read)", function()
      mk("group_vars/nosuchgroup.yml", "a: [1,\nbroken\n")
      mk("host_vars/nosuchhost", "{{{")
      mk("group_vars/web.yml", "x: 1\n")
      assert.equal(1, assert(inventory.load(f.dir .. "/inv.ini")):host_vars("h1").x)
      -- without an inventory (a play's folder read on its own) every name is read
      assert.is_nil(inventory.vars_dir(f.dir))
    end)

    it("keeps nulls and any keys, and YAML 1.1 scalars as PyYAML reads them", function()
      mk("group_vars/web.yml", "n:\nports: 8086:8086\nnine: 09\nexp: 1e3\nb60: 22:22\nyes_: yes\napp.port: 80\n")
      local v = assert(inventory.load(f.dir .. "/inv.ini")):host_vars("h1")
      assert.equal(yaml.null, v.n)
      assert.equal("8086:8086", v.ports)
      assert.equal("09", v.nine)
      assert.equal("1e3", v.exp)
      assert.equal(1342, v.b60)
      assert.equal(true, v.yes_)
      assert.equal(80, v["app.port"])
    end)
  end)
end)
