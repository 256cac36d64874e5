--- spec/helpers/pkgservers.lua: package sources ON a test host for the npm
-- and gem modules' specs (nothing from outside):
--   local reg = require("spec.helpers.pkgservers").npm_registry(host, {
--     { name = "left-lsb", version = "1.0.0" }, ... })   -- packages packed with `npm pack`
--   reg.url                  -- http://ADDRESS:4873 (registry= for npm); opts.address
--                               ("127.0.0.1") for the same URL on twin hosts
--   reg:add{ name =, version =, dependencies = { x = "^1.0.0" } }
--   reg:requests()           -- "GET /left-lsb" lines seen (and cleared)
--   pkgservers.gem_build(host, name, version) -> the .gem's path on the host (`gem build`)
--   pkgservers.gem_repo(host, gems)  -> a `gem generate_index` folder served over HTTP (url)
-- The registry is spec/helpers/npm_registry.js run by the host's node; the
-- gem repository is spec/helpers/httpd.py (webhost.lua).
local files = require "spec.helpers.files"
local cjson = require "cjson"
local webhost = require "spec.helpers.webhost"
local M = {}

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/helpers")

local Reg = {}
Reg.__index = Reg

--- pack one package on the host and put it in the registry's folder
function Reg:add(p)
  local h, src = self.host, "/srv/npmsrc/" .. p.name .. "-" .. p.version
  local pj = cjson.encode({ name = p.name, version = p.version, main = "index.js",
    dependencies = p.dependencies, description = "spec package" }):gsub("\\/", "/")
  h:exec("mkdir -p " .. src .. " " .. self.root .. "/" .. p.name)
  h:write(src .. "/package.json", pj)
  h:write(src .. "/index.js", "module.exports = " .. cjson.encode(p.version) .. ";\n")
  h:write(src .. "/README.md", p.name .. "\n")
  local out, ok = h:exec("cd " .. src .. " && npm pack --silent 2>&1 && mv " .. p.name .. "-" .. p.version .. ".tgz "
    .. self.root .. "/" .. p.name .. "/" .. p.version .. ".tgz")
  assert(ok, "npm pack " .. p.name .. ": " .. tostring(out))
  h:write(self.root .. "/" .. p.name .. "/" .. p.version .. ".json", pj)
end

Reg.requests = webhost.requests -- "METHOD /path" lines (and clear the list)

--- npm quiet and offline-friendly on `hosts` (audit, fund, update notifier off: they would ask the registry)
function M.npmrc(host)
  host:write("/root/.npmrc", "audit=false\nfund=false\nupdate-notifier=false\nloglevel=warn\n")
end

function M.npm_registry(host, pkgs, o)
  o = o or {}
  local port, root = o.port or 4873, "/srv/npmreg"
  host:exec("mkdir -p " .. root)
  host:write("/srv/npm_registry.js", assert(files.read(HERE .. "/npm_registry.js")))
  M.npmrc(host)
  local address = o.address or host.address -- "127.0.0.1": the same URL on twin hosts
  local r = setmetatable({ host = host, root = root, port = port,
    url = "http://" .. address .. ":" .. port }, Reg)
  for _, p in ipairs(pkgs or {}) do r:add(p) end
  host:exec("setsid node /srv/npm_registry.js " .. port .. " " .. root .. " " .. address
    .. " </dev/null >/srv/npm_registry.log 2>&1 &")
  for _ = 1, 100 do
    local _, ok = host:exec("node -e \"require('net').connect(" .. port
      .. ", '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))\"")
    if ok then return r end
    os.execute("sleep 0.05")
  end
  error("pkgservers: the npm registry did not listen on " .. host.name .. ": "
    .. tostring(host:read("/srv/npm_registry.log")))
end

--- a gem built on the host with `gem build`: its path there
function M.gem_build(host, name, version)
  local src = "/srv/gemsrc/" .. name .. "-" .. version
  host:exec("mkdir -p " .. src .. "/lib")
  host:write(src .. "/lib/" .. name .. ".rb", "module " .. name:gsub("^%l", string.upper):gsub("[-_](%l)", string.upper)
    .. "\n  VERSION = " .. string.format("%q", version) .. "\nend\n")
  host:write(src .. "/" .. name .. ".gemspec", string.format([[
Gem::Specification.new do |s|
  s.name = %q
  s.version = %q
  s.summary = "spec gem"
  s.authors = ["luasible specs"]
  s.files = ["lib/%s.rb"]
  s.license = "MIT"
end
]], name, version, name))
  local out, ok = host:exec("cd " .. src .. " && gem build --norc " .. name .. ".gemspec 2>&1")
  assert(ok, "gem build " .. name .. ": " .. tostring(out))
  return src .. "/" .. name .. "-" .. version .. ".gem"
end

--- a gem repository (`gem generate_index`) served by httpd.py on the host:
--- gems = { { "name", "1.0" }, ... }; returns { url = "http://ADDRESS:8808/" }
function M.gem_repo(host, gems, o)
  o = o or {}
  local dir = "/srv/gemrepo"
  host:exec("mkdir -p " .. dir .. "/gems")
  for _, g in ipairs(gems) do
    host:exec("cp " .. M.gem_build(host, g[1], g[2]) .. " " .. dir .. "/gems/")
  end
  local out, ok = host:exec("gem generate_index --norc -d " .. dir .. " 2>&1")
  assert(ok, "gem generate_index: " .. tostring(out))
  local web = webhost.start(host, { port = o.port or 8808, root = dir })
  web.url = "http://" .. (o.address or host.address) .. ":" .. web.port .. "/files/"
  return web
end

return M
