-- assert: check that conditions hold (Ansible's ansible.builtin.assert):
-- `that` an expression or a list of them, as `when:` takes; the first one
-- false fails the task with fail_msg (msg), else success_msg; quiet leaves
-- the success message out.
return {
  params = {
    that = { type = "raw", required = true },
    fail_msg = { type = "raw", aliases = { "msg" } },
    success_msg = { type = "raw" },
    quiet = { type = "boolean", default = false },
  },
  check_mode = true,
  check_args = function(known)
    local that = known.that
    if type(that) == "table" then
      for i, c in ipairs(that) do
        if type(c) ~= "string" and type(c) ~= "boolean" then
          return nil, "that[" .. i .. "] must be an expression (a string)"
        end
      end
    elseif type(that) ~= "string" and type(that) ~= "boolean" then
      return nil, "that must be an expression (a string) or a list of them"
    end
    return true
  end,
  run = function(ctx, args)
    local that = type(args.that) == "table" and args.that or { args.that }
    local function text(v) return type(v) == "table" and ctx.tostring(v) or tostring(v) end
    for _, cond in ipairs(that) do
      local ok, err = cond, nil
      if type(cond) == "string" then ok, err = ctx:test(cond) end
      if err then
        return { failed = true, changed = false, assertion = cond,
          msg = "The conditional check '" .. tostring(cond) .. "' failed. The error was: " .. err }
      end
      if not ok then
        return { failed = true, changed = false, assertion = cond, evaluated_to = false,
          msg = args.fail_msg ~= nil and text(args.fail_msg) or "Assertion failed" }
      end
    end
    local res = { changed = false }
    if not args.quiet then
      res.msg = args.success_msg ~= nil and text(args.success_msg) or "All assertions passed"
    end
    return res
  end,
}
