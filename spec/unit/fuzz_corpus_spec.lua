-- The corpus of the Lua fuzz targets (fuzz/corpus/<target>/: hand-made
-- inputs, the spec fixtures, and every input a fuzzer found a problem with,
-- kept as regress-*) replayed through their entries (fuzz/targets.lua) in
-- every `make test`, clang or not: no input may give an internal error
-- (fuzz/oracle.lua) or take more than a second. The C targets' corpus is
-- replayed by `make test-c` (fuzz/replay.c).
local targets = require "fuzz.targets"
local oracle = require "fuzz.oracle"

local function list(dir)
  local p = assert(io.popen("ls -A '" .. dir .. "' 2>/dev/null"))
  local out = {}
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  table.sort(out)
  return out
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("fuzz corpus", function()
  for _, target in ipairs({ "inventory_ini", "inventory_yaml", "template", "kv", "inventory_dynamic" }) do
    it(target .. ": every input runs to an answer for a person, each within a second", function()
      local files = list("fuzz/corpus/" .. target)
      assert.is_true(#files >= 4, "a seed corpus in fuzz/corpus/" .. target)
      for _, name in ipairs(files) do
        local data = read("fuzz/corpus/" .. target .. "/" .. name)
        local t0 = os.clock()
        local ok, err = pcall(targets[target], data)
        local took = os.clock() - t0
        if not ok then
          local why = oracle.internal(err, data)
          assert.is_nil(why, name .. ": " .. tostring(why) .. ": "
            .. tostring(type(err) == "table" and err.finding or err))
        end
        assert.is_true(took < 1, name .. " took " .. took .. " s")
      end
    end)
  end

  it("the oracle tells an internal error from a message for a person", function()
    assert.is_nil(oracle.internal("fuzz.ini:3: bad group name 'x y'"))
    assert.is_nil(oracle.internal("site.lua:3: attempt to index a nil value (global 'x')")) -- the user's code
    assert.truthy(oracle.internal({ template_error = "x" }))
    assert.truthy(oracle.internal(nil))
    assert.truthy(oracle.internal("internal error: ./lua/luasible/template/ops.lua:20: attempt to divide by zero"))
    assert.truthy(oracle.internal("attempt to get length of a number value"))
    assert.truthy(oracle.internal("bad argument #1 to 'find' (string expected, got nil)"))
    assert.truthy(oracle.internal("one\ntwo"))
    assert.truthy(oracle.internal("x\nstack traceback:\n\t[C]: in ?"))
    -- what the message quotes of the input does not count
    assert.is_nil(oracle.internal("got 'stack traceback'", "stack traceback"))
    assert.is_nil(oracle.internal("expected key=value, got 'E\\not enough memory'", "E\not enough memory"))
    assert.is_nil(oracle.internal("bad glob 'luasible/x.lua:3:'", "luasible/x.lua:3:"))
    assert.is_nil(oracle.internal("unterminated quote in: 'for' limit must be a'", "for' limit must be a"))
  end)
end)
