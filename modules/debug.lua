-- debug: print a message or a variable. Secrets (passwords, by their names:
-- *password*, *passphrase*, *secret*, *token*) are masked, shown as ********.
local function mask(ctx, v, depth)
  if type(v) ~= "table" or (depth or 0) > 8 then return v end
  local out = setmetatable({}, getmetatable(v)) -- an empty mapping stays one ({} not [])
  for k, x in pairs(v) do
    out[k] = ctx.is_secret_name(k) and "********" or mask(ctx, x, (depth or 0) + 1)
  end
  return out
end

return {
  free_form = "msg",
  params = {
    msg = { type = "raw" },
    var = { type = "string" },
    verbosity = { type = "integer", default = 0 },
  },
  mutually_exclusive = { { "msg", "var" } },
  check_mode = true,
  run = function(ctx, args)
    if args.var then
      -- a secret by its name (the last part of a.b.c) is shown masked, never left out
      local leaf = args.var:match("([%a_][%w_]*)%s*$")
      if ctx.is_secret_name(args.var) or ctx.is_secret_name(leaf) then
        return { changed = false, [args.var] = "********", msg = args.var .. " = ********" }
      end
      local v, err = ctx:eval(args.var)
      if err then
        return { changed = false, [args.var] = "VARIABLE IS NOT DEFINED: " .. err,
          msg = args.var .. ": VARIABLE IS NOT DEFINED (" .. err .. ")" }
      end
      -- tables as JSON with their keys sorted: the same output every run
      return { changed = false, [args.var] = mask(ctx, v), msg = args.var .. " = " .. ctx.tostring(mask(ctx, v)) }
    end
    local msg = args.msg
    if msg == nil then msg = "Hello world!" end
    return { changed = false, msg = type(msg) == "table" and ctx.tostring(mask(ctx, msg)) or tostring(msg) }
  end,
}
