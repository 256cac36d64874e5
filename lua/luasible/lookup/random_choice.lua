--- lookup('random_choice', A, B, ...): one of the terms, at random (none:
-- an empty list), as Ansible's random_choice lookup. From the system's
-- random source (core.crypto.random), not math.random: plays that run at
-- the same instant choose independently.
local function random_index(n)
  local ok, core = pcall(require, "luasible.core")
  if ok and core.crypto then
    local b = core.crypto.random(4)
    local x = (b:byte(1) << 24) | (b:byte(2) << 16) | (b:byte(3) << 8) | b:byte(4)
    return x % n + 1
  end
  return math.random(n)
end

return {
  run = function(terms)
    if #terms == 0 then return {} end
    return { terms[random_index(#terms)] }
  end,
}
