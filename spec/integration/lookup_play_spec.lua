--- Lookups in a real play (local connection): a task's arguments call
-- lookup()/query() through the engine, pipe runs on the controller, and a
-- password the password lookup makes never shows in an event.
local play = require "luasible.play"
local cjson = require "cjson"
local files = require "spec.helpers.files"

local D = files.tmpdir()
local LOCAL = { all = { hosts = { h1 = { ansible_connection = "local" } } } }

local function run(tasks, vars)
  local evs = {}
  local recap = assert(play.play({ name = "p", hosts = "all", vars = vars, tasks = tasks },
    { inventory = LOCAL, on_event = function(ev) evs[#evs + 1] = ev end }))
  return evs, recap
end

local function text_of(evs)
  local out = {}
  for i, ev in ipairs(evs) do out[i] = cjson.encode(ev) end
  return table.concat(out, "\n")
end

describe("lookups in a play", function()
  it("a task's arguments take lookup and query values", function()
    files.write(D .. "/greeting", "hello from a file\n")
    local evs, recap = run({
      { name = "file", debug = { msg = "{{ lookup('file', '" .. D .. "/greeting') }}" } },
      { name = "pipe", debug = { msg = "{{ lookup('pipe', 'echo piped') }}" } },
      { name = "seq", debug = { msg = "{{ query('sequence', 'start=1 end=3 format=web%02d') | join(' ') }}" } },
      { name = "env", debug = { msg = "{{ lookup('env', 'HOME') }}" } },
    })
    assert.equal(0, recap.h1.failed)
    local all = text_of(evs)
    assert.matches("hello from a file", all, 1, true)
    assert.matches("piped", all, 1, true)
    assert.matches("web01 web02 web03", all, 1, true)
    assert.matches(os.getenv("HOME"), all, 1, true)
  end)

  it("an unknown lookup fails the task with a message naming it", function()
    local evs, recap = run({ { name = "bad", debug = { msg = "{{ lookup('nosuchlookup', 'x') }}" } } })
    assert.equal(1, recap.h1.failed)
    assert.matches("lookup plugin (nosuchlookup) not found", text_of(evs), 1, true)
  end)

  it("a generated password never shows in an event", function()
    local pwfile = D .. "/creds/app"
    local evs, recap = run({
      { name = "make", debug = { msg = "pw={{ lookup('password', '" .. pwfile .. " length=24') }}" } },
    })
    assert.equal(0, recap.h1.failed)
    local pw = assert(files.read(pwfile)):gsub("\n$", "")
    assert.equal(24, #pw)
    local all = text_of(evs)
    assert.is_nil(all:find(pw, 1, true), "the password is in an event")
    assert.matches("pw=********", all, 1, true)
  end)
end)
