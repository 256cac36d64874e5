--- lookup('fileglob', GLOB...): the files (not folders) whose names match
-- a shell glob in the glob's folder, as Python's glob.glob lists them
-- (folder order, names starting with "." only when the glob does); the
-- folder is found as the file lookup finds files, a bare glob is tried
-- in DIR/files then DIR of each search dir and the first that matches wins.
local lookup = require "luasible.lookup"
local core = require "luasible.core"
local fnmatch = require "luasible.util.fnmatch"
local path = require "luasible.util.path"

local function glob(dir, pattern)
  local names = core.readdir(dir)
  local out = {}
  if not names then return out end
  local hidden = pattern:sub(1, 1) == "."
  for _, name in ipairs(names) do
    if (hidden or name:sub(1, 1) ~= ".") and fnmatch.match(pattern, name) then
      local full = path.join(dir, name)
      local st = core.stat(full)
      if st and st.type == "file" then out[#out + 1] = full end
    end
  end
  return out
end

return {
  run = function(terms, _, env)
    local out = {}
    for _, term in ipairs(terms) do
      term = tostring(term)
      local file = path.py_basename(term)
      local dirs = {}
      if file ~= term then
        dirs[1] = lookup.find_file(env, "files", path.py_dirname(term))
      else
        for _, d in ipairs(env.search_dirs or { env.base_dir or "." }) do
          dirs[#dirs + 1] = path.join(d, "files")
          dirs[#dirs + 1] = d
        end
      end
      for _, d in ipairs(dirs) do
        local found = glob(d, file)
        if #found > 0 then
          for _, f in ipairs(found) do out[#out + 1] = f end
          break
        end
      end
    end
    return out
  end,
}
