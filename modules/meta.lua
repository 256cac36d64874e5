-- meta: the play's own actions (Ansible's ansible.builtin.meta), done by
-- the play layer (play/strategy.lua), never run on a host:
-- flush_handlers runs the handlers notified so far, there; noop does nothing.
-- Ansible's other actions (end_play, end_host, clear_facts, ...) are not
-- supported yet: refused when the play is checked.
return {
  free_form = "free_form",
  params = { free_form = { type = "string", required = true, choices = { "flush_handlers", "noop" } } },
  check_mode = true,
  play_action = true,
  run = function() return { changed = false } end,
}
