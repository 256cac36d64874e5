--- spec/helpers/rpmrepo.lua: a local rpm repository on a test host for the
-- dnf/yum specs: packages built with rpmbuild (noarch, a file under
-- /usr/share/NAME), indexed by createrepo_c, and a .repo file for it.
--   local rpmrepo = require "spec.helpers.rpmrepo"
--   rpmrepo.package(host, "lsb-hello", "1.0", { requires = "lsb-dep", dir = "/srv/rpmrepo" })
--   rpmrepo.index(host, dir)           -- createrepo_c
--   rpmrepo.repo_file(host, "spec", "file:///srv/rpmrepo", { enabled = 1, gpgcheck = 0 })
local M = {}

local function must(h, cmd)
  local out, ok, code, err = h:exec(cmd)
  assert(ok, cmd .. ": " .. tostring(code) .. " " .. tostring(out) .. tostring(err))
  return out
end
M.must = must

M.DIR = "/srv/rpmrepo"

function M.package(h, name, version, o)
  o = o or {}
  local dir = o.dir or M.DIR
  local spec = "/srv/rpmbuild/SPECS/" .. name .. "-" .. version .. ".spec"
  local text = table.concat({
    "Name: " .. name, "Version: " .. version, "Release: 1", "Summary: a spec package", "License: MIT",
    "BuildArch: noarch", "AutoReqProv: no", o.requires and ("Requires: " .. o.requires) or "",
    "%description", "a spec package", "%install", "mkdir -p %{buildroot}/usr/share/" .. name,
    "echo " .. version .. " > %{buildroot}/usr/share/" .. name .. "/version", "%files",
    "/usr/share/" .. name .. "/version", "" }, "\n")
  must(h, "mkdir -p /srv/rpmbuild/SPECS " .. dir)
  h:write(spec, text)
  must(h, "rpmbuild --define '_topdir /srv/rpmbuild' -bb " .. spec .. " >/dev/null 2>&1"
    .. " && cp /srv/rpmbuild/RPMS/noarch/"
    .. name .. "-" .. version .. "-1.noarch.rpm " .. dir .. "/")
end

function M.index(h, dir) must(h, "createrepo_c --update -q " .. (dir or M.DIR)) end

function M.repo_file(h, id, url, o)
  o = o or {}
  must(h, "mkdir -p /etc/yum.repos.d")
  h:write("/etc/yum.repos.d/" .. id .. ".repo", "[" .. id .. "]\nname=" .. id .. "\nbaseurl=" .. url
    .. "\nenabled=" .. (o.enabled or 1) .. "\ngpgcheck=" .. (o.gpgcheck or 0) .. "\n")
end

return M
