-- fail: fail the task with a message (Ansible's ansible.builtin.fail).
return {
  free_form = "msg",
  params = { msg = { type = "raw", default = "Failed as requested from task" } },
  check_mode = true,
  run = function(ctx, args)
    local msg = args.msg
    return { failed = true, changed = false, msg = type(msg) == "table" and ctx.tostring(msg) or tostring(msg) }
  end,
}
