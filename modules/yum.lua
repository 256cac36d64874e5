-- yum: Ansible's other name for the dnf module (Ansible's yum runs dnf
-- where yum is dnf 4): the same arguments, results and behaviour, from the
-- same file (modules/dnf.lua).
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
return dofile(dir .. "/dnf.lua")
