-- play/locate.lua: the line of each part of a play in its file's text, for
-- messages, through comments, strings, functions and code it cannot follow.
local locate = require "luasible.play.locate"

describe("play/locate", function()
  it("maps every field and list entry of the table the file returns", function()
    local l = locate.new(table.concat({
      "-- a comment with { braces } and return { x }",     -- 1
      "local function helper() return { 1, 2 } end",       -- 2
      "--[[ a long comment",                               -- 3
      "  return { nope = 1 } ]]",                          -- 4
      "return {",                                          -- 5
      "  name = 'p', hosts = \"all\",",                    -- 6
      "  tasks = {",                                       -- 7
      "    { name = 'a', debug = '{ not a table }' },",    -- 8
      "    {",                                             -- 9
      "      debug = [[a long",                            -- 10
      "string, with } and ,]],",                           -- 11
      "      when = function(v) local a, b = 1, 2 if a then return b end end,", -- 12
      "      [\"until\"] = 'true', loop = helper(),",      -- 13
      "      retries = 0x10,",                             -- 14
      "    },",                                            -- 15
      "  },",                                              -- 16
      "}",                                                 -- 17
    }, "\n"))
    assert.same({ 6, true }, { l.at({ "name" }) })
    assert.same({ 6, true }, { l.at({ "hosts" }) })
    assert.same({ 8, true }, { l.at({ "tasks", 1 }) })
    assert.same({ 8, true }, { l.at({ "tasks", 1, "debug" }) })
    assert.same({ 9, true }, { l.at({ "tasks", 2 }) })
    assert.same({ 12, true }, { l.at({ "tasks", 2, "when" }) })
    assert.same({ 13, true }, { l.at({ "tasks", 2, "until" }) })
    assert.same({ 13, true }, { l.at({ "tasks", 2, "loop" }) })
    assert.same({ 14, true }, { l.at({ "tasks", 2, "retries" }) })
    -- not there: the deepest part that is, and false
    assert.same({ 9, false }, { l.at({ "tasks", 2, "nope" }) })
    assert.same({ 13, false }, { l.at({ "tasks", 2, "loop", 1 }) })
    assert.same({ nil, false }, { l.at({ "handlers", 1 }) })
  end)

  it("finds the tasks a file builds by code by their names, in order", function()
    local l = locate.new("local t = { name = 'x' }\nlocal tasks = {\n  { name = 'x' },\n  t,\n}\n"
      .. "return { hosts = 'all', tasks = tasks }\n")
    assert.same({ 6, false }, { l.at({ "tasks", 1, "debug" }) })
    assert.equal(1, l("x"))
    assert.equal(3, l("x"))
    assert.equal(1, l("x")) -- from the start again
    assert.is_nil(l("nope"))
  end)

  it("maps a list of plays, each by its index", function()
    local l = locate.new("return {\n  { hosts = 'a' },\n  { hosts = 'b',\n    tasks = {} },\n}\n")
    assert.same({ 2, true }, { l.at({ 1, "hosts" }) })
    assert.same({ 4, true }, { l.at({ 2, "tasks" }) })
  end)

  it("gives no map, and no error, for text that is not Lua", function()
    for _, text in ipairs({ "", "return", "return {", "return { a = ", "'unterminated", "[[", "--[[", "\0\255{{" }) do
      local l = locate.new(text)
      assert.is_nil((l.at({ "tasks", 1 })), text)
    end
  end)
end)
