--- luasible.template.tests.uri: uri, url, urn (Ansible's): what Python's
-- urlparse makes of the text.
local C = require "luasible.template.filters.common"

return function(reg)
  local urls = nil
  local function split(v)
    if type(v) ~= "string" then return nil end
    urls = urls or require("luasible.template.filters.urls")
    local ok, scheme, netloc = pcall(urls.urlsplit, v)
    if not ok then return nil end
    return scheme, netloc
  end
  local function is_uri(v, schemes)
    local scheme = split(v)
    if scheme == nil then return false end
    if schemes == nil or C.is_none(schemes) or not C.truthy(schemes) then return true end
    if type(schemes) == "string" then return schemes:find(scheme, 1, true) ~= nil end
    return C.contains(C.iter("uri", schemes, "test"), scheme)
  end
  reg.test("uri", "value, schemes=None", is_uri)
  reg.test("url", "value, schemes=None", function(v, schemes)
    if not is_uri(v, schemes) then return false end
    local scheme, netloc = split(v)
    return netloc ~= "" or scheme == "file"
  end)
  reg.test("urn", "value", function(v) return is_uri(v, { "urn" }) end)
end
