--- Small file helpers shared by the specs.
local M = {}

--- The whole content of the file at `path`, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Write `data` to the file at `path` (created or replaced); raises on error.
function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  assert(f:close())
end

--- Write `data` to `path`, making its folder first.
function M.write_p(path, data)
  local dir = path:match("^(.*)/[^/]*$")
  if dir then assert(os.execute("mkdir -p '" .. dir:gsub("'", [['\'']]) .. "'")) end
  M.write(path, data)
end

--- Does `path` exist (a file or folder this process can open)?
function M.exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

--- A new empty folder under /tmp; removed by the describe block's teardown
-- when called at the top of one (teardown is busted's).
function M.tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  if teardown then teardown(function() os.execute("rm -rf " .. d) end) end
  return d
end

--- Run `cmd`: what it prints on stdout, whether it exited 0, its exit code.
function M.run(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

--- What `cmd` prints on stdout, without the final newline.
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return (s:gsub("\n$", ""))
end

--- The base64 of `data`, as base64(1) writes it (an oracle independent of
-- luasible's own encoder).
function M.base64(data)
  local f = os.tmpname()
  M.write(f, data)
  local s = M.sh("base64 -w0 < " .. f)
  os.remove(f)
  return s
end

return M
