--- luasible.module.home: `~` in a module's path arguments, as Ansible's
-- modules expand it (os.path.expanduser where the path is used): on the
-- host, as the task's user (its become user), for the paths there:
-- `file: path=~/.ssh` is the remote user's ~/.ssh, never a folder named
-- `~`; with this machine's $HOME for the paths of the controller, which a
-- module names in `controller_paths` ({ src = "remote_src" }: on the
-- controller unless remote_src is true; `true`: always; "skip": neither,
-- the module knows). `~name` is that user's home (a name of letters,
-- digits, `.`, `_`, `-`); an unknown user's is left as written, as
-- expanduser leaves it.
local M = {}

local function split(v)
  local name, rest = v:match("^~([%w._-]*)(.*)$")
  if not name or (rest ~= "" and rest:sub(1, 1) ~= "/") then return nil end
  return name, rest
end

-- the home of `name` ("" for the task's user) on the host, asked once per
-- connection and user
local function remote_home(ctx, name)
  local conn = ctx.conn
  local b = ctx.become
  local key = ((b and b.become) and (b.user or "root") or "") .. "\0" .. name
  conn._luasible_homes = conn._luasible_homes or {}
  local known = conn._luasible_homes[key]
  if known ~= nil then return known or nil end
  local res = ctx:run("printf '%s' ~" .. name, { allow_error = true })
  local home = res and res.rc == 0 and res.stdout or nil
  if home and (home == "" or home:sub(1, 1) == "~") then home = nil end -- no such user
  conn._luasible_homes[key] = home or false
  return home
end

--- Expand `~` in args (the validated arguments of module `mod`) in place.
function M.expand(ctx, mod, args)
  local where = mod.controller_paths or {}
  for k, spec in pairs(mod.params or {}) do
    local v = args[k]
    if type(spec) == "table" and spec.type == "path" and type(v) == "string" and v:sub(1, 1) == "~" then
      local name, rest = split(v)
      local w = where[k]
      local here = w == true or (w == "remote_src" and not args.remote_src)
      if name and w ~= "skip" then
        local home
        if here then home = name == "" and os.getenv("HOME") or nil
        else home = remote_home(ctx, name) end
        if home then args[k] = home:gsub("/$", "") .. rest end
      end
    end
  end
end

return M
