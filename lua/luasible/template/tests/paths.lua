--- luasible.template.tests.paths: Ansible's file tests, on the controller:
-- directory/is_dir, file/is_file, link/is_link, exists, link_exists,
-- abs/is_abs, same_file/is_same_file, mount/is_mount. A path that is not a
-- string is an error naming the test.
local C = require "luasible.template.filters.common"

local function path_of(name, v)
  if type(v) ~= "string" then
    C.fail(string.format("test '%s' expects a path (a string), got %s", name, C.describe(v)))
  end
  return v
end

return function(reg)
  local uv = require "luv"
  local function both(names, fn)
    for _, n in ipairs(names) do reg.test(n, "value", function(v) return fn(path_of(n, v)) end) end
  end
  local function kind(p, follow)
    local st = (follow and uv.fs_stat or uv.fs_lstat)(p)
    return st and st.type
  end
  both({ "directory", "is_dir" }, function(p) return kind(p, true) == "directory" end)
  both({ "file", "is_file" }, function(p) return kind(p, true) == "file" end)
  both({ "link", "is_link" }, function(p) return kind(p, false) == "link" end)
  both({ "exists" }, function(p) return uv.fs_stat(p) ~= nil end)
  both({ "link_exists" }, function(p) return uv.fs_lstat(p) ~= nil end)
  both({ "abs", "is_abs" }, function(p) return p:sub(1, 1) == "/" end)
  both({ "mount", "is_mount" }, function(p)
    local st, parent = uv.fs_lstat(p), uv.fs_lstat(p .. "/..")
    if not st or not parent or st.type == "link" then return false end
    return st.dev ~= parent.dev or st.ino == parent.ino
  end)
  for _, n in ipairs({ "same_file", "is_same_file" }) do
    reg.test(n, "value, other", function(a, b)
      local x, y = uv.fs_stat(path_of(n, a)), uv.fs_stat(path_of(n, b))
      return x ~= nil and y ~= nil and x.dev == y.dev and x.ino == y.ino
    end)
  end
end
