--- spec/helpers/aptrepo.lua: a real signed apt repository on a test host,
-- served over HTTP by spec/helpers/webhost.lua, for the apt_key and
-- apt_repository specs (nothing leaves the test hosts).
--   local repo = require("spec.helpers.aptrepo").start(srv)   -- srv: a test host
--   repo.key_url, repo.url (the deb URL), repo.suite ("stable"), repo.fpr (the key's fingerprint)
--   repo:package("lsb-hello", "1.0")   -- a .deb built with dpkg-deb, the index and InRelease remade
--   aptrepo.plain(host)                 -- the host's own sources gone (only what a spec adds)
--   aptrepo.start(h, { local_url = true })   -- URLs on 127.0.0.1 (the host's own), the same on twins
--   repo:mirror(other)                  -- the same repository (key, index) served on another host
-- The key is made on the server host by gpg (ed25519, no passphrase); the
-- index by apt-ftparchive (packages and release), InRelease by gpg --clearsign.
local webhost = require "spec.helpers.webhost"

local M = {}
local Repo = {}
Repo.__index = Repo

local function must(h, cmd)
  local out, ok, code, err = h:exec(cmd)
  assert(ok, cmd .. ": " .. tostring(code) .. " " .. tostring(out) .. tostring(err))
  return out
end
M.must = must

--- The host as a plain Debian host whose apt reaches only what a spec adds:
--- its sources, this machine's container settings and old lists gone.
function M.plain(h)
  must(h, "rm -rf /etc/apt/sources.list.d/* /etc/apt/apt.conf.d/99artifact-registry /etc/apt/apt.conf.d/docker-*"
    .. " /etc/apt/apt.conf.d/99farm-* && : > /etc/apt/sources.list && rm -f /var/lib/apt/lists/*_*"
    .. " && mkdir -p /etc/apt/keyrings")
end

function M.start(h, o)
  o = o or {}
  local web = webhost.start(h, { port = o.port or 8080 })
  local base = o.local_url and ("http://127.0.0.1:" .. web.port) or web.url
  local r = setmetatable({ host = h, web = web, suite = "stable", dir = "/srv/www/repo",
    url = base .. "/files/repo", key_url = base .. "/files/repo/key.asc", port = web.port }, Repo)
  must(h, "export GNUPGHOME=/srv/gnupg; mkdir -p -m 700 $GNUPGHOME " .. r.dir .. "/pool && "
    .. "gpg --batch -q --passphrase '' --quick-gen-key 'luasible spec repo <repo@spec.test>' ed25519 sign never && "
    .. "gpg --batch --armor --export > " .. r.dir .. "/key.asc && gpg --batch --export > " .. r.dir .. "/key.gpg")
  r.fpr = must(h, "GNUPGHOME=/srv/gnupg gpg --batch --with-colons --list-keys | awk -F: '$1==\"fpr\"{print $10; exit}'")
    :gsub("%s+", "")
  r.id = r.fpr:sub(-16)
  return r
end

--- A package NAME VERSION (Architecture: all) into the pool, then the index remade and signed.
function Repo:package(name, version)
  local root = "/srv/build/" .. name .. "-" .. version
  must(self.host, "mkdir -p " .. root .. "/DEBIAN " .. root .. "/usr/share/" .. name .. " && printf '"
    .. "Package: " .. name .. "\\nVersion: " .. version .. "\\nArchitecture: all\\nMaintainer: spec <s@s>\\n"
    .. "Description: a spec package\\n' > " .. root .. "/DEBIAN/control && echo " .. version .. " > " .. root
    .. "/usr/share/" .. name .. "/version && dpkg-deb -b -Zgzip " .. root .. " " .. self.dir .. "/pool/" .. name
    .. "_" .. version .. "_all.deb >/dev/null")
  local d = "dists/" .. self.suite
  must(self.host, "cd " .. self.dir .. " && a=$(dpkg --print-architecture) && mkdir -p " .. d .. "/main/binary-$a && "
    .. "apt-ftparchive packages pool > " .. d .. "/main/binary-$a/Packages && "
    .. "apt-ftparchive -o APT::FTPArchive::Release::Suite=" .. self.suite
    .. " -o APT::FTPArchive::Release::Codename=" .. self.suite
    .. " -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=$a release "
    .. d .. " > /srv/Release && mv /srv/Release " .. d .. "/Release && rm -f " .. d .. "/InRelease && "
    .. "GNUPGHOME=/srv/gnupg gpg --batch -q --clearsign -o " .. d .. "/InRelease " .. d .. "/Release")
end

--- The same repository served on host `other` too (its files copied
--- there, a server of its own on the same port): for twin hosts.
function Repo:mirror(other)
  assert(os.execute("mkdir -p " .. other.root .. "/srv && cp -a " .. self.host.root .. "/srv/www "
    .. self.host.root .. "/srv/gnupg " .. other.root .. "/srv/"))
  return webhost.start(other, { port = self.port })
end

return M
