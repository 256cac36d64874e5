-- systemd_service: Ansible's newer name of the systemd module
-- (ansible.builtin.systemd_service): the same arguments, results and
-- behaviour, from the same file (modules/systemd.lua).
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
return dofile(dir .. "/systemd.lua")
