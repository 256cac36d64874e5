--- luasible.module.executable: a package module's `executable:` (gem, npm):
-- the command line it names (or the module's default program) as quoted
-- shell words and the shell line that tells when its program is not on the
-- host. A module reaches it as ctx.executable (module/context.lua).
--
--   local exe, failed = ctx.executable(args.executable or "gem", "@nogem")
--   if not exe then return failed end
--   lines = { exe.probe, ... exe.line .. " list" ... }
--   local missing = exe:missing(out, "gem", "install ruby/rubygems")
--   if missing then return missing end
local kv = require "luasible.module.kv"
local shell = require "luasible.util.shell"

local M = {}

local Exe = {}
Exe.__index = Exe

--- The executable `text` (a command line): an object with `name` (its first
-- word as given), `words` (each word quoted), `line` (the quoted words
-- joined) and `probe` (a shell line printing `marker` and ending the script
-- with 0 when the first word is not a command on the host); or nil and the
-- module's failed result when `text` is no command line.
function M.locate(text, marker)
  local argv, err = kv.argv(text)
  if not argv or #argv == 0 then return nil, { failed = true, msg = "executable: " .. tostring(err or "empty") } end
  local words = {}
  for i, w in ipairs(argv) do words[i] = shell.quote(w) end
  return setmetatable({ name = argv[1], words = words, line = table.concat(words, " "), marker = marker,
    probe = "command -v " .. words[1] .. ' >/dev/null 2>&1 || { echo "' .. marker .. '"; exit 0; }' }, Exe)
end

--- The failed result when `out` (the probe's script's stdout) says the
-- program is missing: "MODULE: 'NAME' is not on the host (HOW, or give
-- executable)"; nil when it is there.
function Exe:missing(out, module, how)
  if not out:find(self.marker, 1, true) then return nil end
  return { failed = true,
    msg = module .. ": '" .. self.name .. "' is not on the host (" .. how .. ", or give executable)" }
end

return M
