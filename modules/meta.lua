-- meta: the play's own actions (Ansible's ansible.builtin.meta), done by
-- the play layer (play/rolling.lua), never run on a host and counted
-- nowhere: flush_handlers runs the handlers notified so far, there;
-- end_host ends the play for a host, end_batch the batch, end_play the
-- play (its later batches too); clear_facts forgets the gathered facts of
-- the play's hosts; clear_host_errors takes the play's failed and
-- unreachable hosts back for the later plays; noop does nothing. `when`
-- is taken (on the first host of the batch, per host for end_host and
-- flush_handlers, as in Ansible). reset_connection closes the hosts'
-- connections (a persistent one's holder stopped): the next task logs in
-- again. refresh_inventory, role_complete are refused when the play is
-- checked (not yet).
return {
  free_form = "free_form",
  params = { free_form = { type = "string", required = true, choices = { "flush_handlers", "noop", "end_play",
    "end_host", "end_batch", "clear_facts", "clear_host_errors", "refresh_inventory", "reset_connection",
    "role_complete" } } },
  check_mode = true,
  play_action = true,
  not_yet = { refresh_inventory = true, role_complete = true },
  run = function() return { changed = false } end,
}
