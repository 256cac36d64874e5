--- The podman connection kind (ansible_connection: podman): the docker kind
-- through the podman CLI (`podman exec -i`); variables ansible_host,
-- ansible_user, ansible_podman_extra_args, ansible_podman_executable.
return require("luasible.connection.docker").kind("podman")
