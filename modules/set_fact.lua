-- set_fact: set variables of the host for the rest of the run (Ansible's
-- ansible.builtin.set_fact): every argument is a variable (a name of
-- letters, digits and _); the values as rendered. The play layer puts the
-- result's ansible_facts among the host's variables (sets_facts), at the
-- precedence of registered results, above play and task vars.
return {
  any_params = true,
  sets_facts = true,
  params = { cacheable = { type = "boolean", default = false } },
  check_mode = true,
  check_args = function(_, all)
    local n = 0
    for k in pairs(all) do
      if k ~= "cacheable" then
        if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
          return nil, tostring(k) .. " is not a valid variable name"
        end
        n = n + 1
      end
    end
    if n == 0 then return nil, "no variable to set (give name: value)" end
    return true
  end,
  run = function(_, args)
    local facts = {}
    for k, v in pairs(args) do if k ~= "cacheable" then facts[k] = v end end
    return { changed = false, ansible_facts = facts }
  end,
}
