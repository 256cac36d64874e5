--- luasible.module.mode: file modes as chmod(1) reads them.
local M = {}

local PERM = { r = 4, w = 2, x = 1 }
local SHIFT = { u = 6, g = 3, o = 0 }
local SPECIAL = { u = 2048, g = 1024, o = 512 } -- setuid, setgid, sticky: the bit each "who" clears with =

--- Is `spec` a numeric mode ("0640", "640", "4755")?
function M.is_numeric(spec)
  return tostring(spec):match("^0?[0-7][0-7][0-7][0-7]?$") ~= nil
end

--- Is `spec` a mode: numeric, or symbolic ("u+x,go-w", "u=rw,go=", "+X")?
function M.is_mode(spec)
  return M.is_numeric(spec) or tostring(spec):match("^[ugoa]*[-+=][rwxXst]*[,ugoa%-+=rwxXst]*$") ~= nil
end

--- The numeric mode a mode spec gives a file whose mode is now `base`:
--- "0640" / "640" as they are, symbolic modes ("u+x,go-w", "u=rw,go=")
--- applied to base as chmod does (no "who": all but the umask 022 bits).
--- Returns a number, or nil, err.
function M.bits(spec, base, is_dir)
  spec = tostring(spec)
  if M.is_numeric(spec) then return tonumber(spec, 8) end
  local mode = base or 420 -- 0644
  for clause in spec:gmatch("[^,]+") do
    local who, ops = clause:match("^([ugoa]*)(.*)$")
    if ops == "" or not ops:match("^[-+=][-+=rwxXst]*$") then return nil, "bad mode '" .. spec .. "'" end
    local whos = {}
    if who == "" or who:find("a", 1, true) then whos = { "u", "g", "o" }
    else for c in who:gmatch(".") do whos[#whos + 1] = c end end
    local mask = who == "" and (4095 & ~18) or 4095 -- no "who": the umask (022) bits stay
    for op, perms in ops:gmatch("([-+=])([rwxXst]*)") do
      local bits, clear = 0, 0
      for _, w in ipairs(whos) do
        clear = clear | (7 << SHIFT[w]) | SPECIAL[w]
        for c in perms:gmatch(".") do
          if PERM[c] then bits = bits | (PERM[c] << SHIFT[w])
          elseif c == "X" then
            if is_dir or mode & 73 ~= 0 then bits = bits | (1 << SHIFT[w]) end
          elseif c == "s" then bits = bits | (w ~= "o" and SPECIAL[w] or 0)
          elseif c == "t" then bits = bits | (w == "o" and SPECIAL[w] or 0) end
        end
      end
      bits = bits & mask
      if op == "+" then mode = mode | bits
      elseif op == "-" then mode = mode & ~bits
      else mode = (mode & ~(clear & mask)) | bits end
    end
  end
  return mode
end

return M
