--- luasible.template.filters.urls: urlsplit (Python's urllib.parse.urlsplit,
-- as Ansible's filter gives it), urlencode (Jinja's), urldecode
-- (unquote_plus).
local C = require "luasible.template.filters.common"

local M = {}

--- urllib.parse.urlsplit -> scheme, netloc, path, query, fragment
function M.urlsplit(url)
  url = url:gsub("^[%z\1- ]+", ""):gsub("[\t\r\n]", "")
  local scheme = ""
  local i = url:find(":", 1, true)
  if i and i > 1 and url:sub(1, i - 1):match("^%a[%w+.-]*$") then
    scheme, url = url:sub(1, i - 1):lower(), url:sub(i + 1)
  end
  local netloc = ""
  if url:sub(1, 2) == "//" then
    local e = url:find("[/?#]", 3) or #url + 1
    netloc, url = url:sub(3, e - 1), url:sub(e)
    if (netloc:find("[", 1, true) and not netloc:find("]", 1, true))
        or (netloc:find("]", 1, true) and not netloc:find("[", 1, true)) then
      C.fail("filter 'urlsplit': Invalid IPv6 URL")
    end
  end
  local fragment, query = "", ""
  local h = url:find("#", 1, true)
  if h then url, fragment = url:sub(1, h - 1), url:sub(h + 1) end
  local q = url:find("?", 1, true)
  if q then url, query = url:sub(1, q - 1), url:sub(q + 1) end
  return scheme, netloc, url, query, fragment
end

-- username, password, hostname, port of a netloc (Python's properties)
local function netloc_parts(netloc)
  local userinfo, hostinfo = netloc:match("^(.*)@([^@]*)$")
  if not userinfo then hostinfo = netloc end
  local username, password = C.none, C.none
  if userinfo then
    local u, p = userinfo:match("^([^:]*):(.*)$")
    if u then username, password = u, p else username = userinfo end
  end
  local hostname, port
  local bracket = hostinfo:match("^%[([^%]]*)%]")
  if bracket then
    hostname = bracket
    port = hostinfo:match("^%[[^%]]*%]:(.*)$")
  else
    local hn, pt = hostinfo:match("^([^:]*):(.*)$")
    if hn then hostname, port = hn, pt else hostname = hostinfo end
  end
  hostname = hostname ~= "" and hostname:lower() or C.none
  if hostname ~= C.none and hostname:find("%", 1, true) == nil then hostname = hostname end
  local portv = C.none
  if port and port ~= "" then
    if not port:match("^%d+$") then
      C.fail("filter 'urlsplit': Port could not be cast to integer value as " .. C.repr(port))
    end
    portv = tonumber(port)
    if portv > 65535 then C.fail("filter 'urlsplit': Port out of range 0-65535") end
  end
  return username, password, hostname, portv
end

local function quote(s, safe)
  return (s:gsub("[^%w_.~" .. safe .. "-]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function unquote_plus(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function declare(reg)
  local FIELDS = { "fragment", "hostname", "netloc", "password", "path", "port", "query", "scheme", "username" }
  reg.filter("urlsplit", "value, query=''", function(v, query)
    local url = C.text("urlsplit", v, "a URL (a string)")
    local scheme, netloc, p, q, fragment = M.urlsplit(url)
    local username, password, hostname, port = netloc_parts(netloc)
    local r = { fragment = fragment, hostname = hostname, netloc = netloc, password = password, path = p,
      port = port, query = q, scheme = scheme, username = username }
    if query ~= nil and query ~= "" and not C.is_none(query) then
      if r[query] == nil then C.error("urlsplit", "unknown URL component: %s", C.str(query)) end
      return r[query]
    end
    local m = C.mapping()
    for _, k in ipairs(FIELDS) do C.put(m, k, r[k]) end
    return m
  end)

  reg.filter("urlencode", "value", function(v)
    if type(v) == "string" then return quote(v, "/") end
    if type(v) ~= "table" or C.is_none(v) then return quote(C.str(v), "/") end
    local pairs_ = {}
    if C.is_mapping(v) then
      for _, k in ipairs(C.keys(v)) do pairs_[#pairs_ + 1] = { k, v[k] } end
    else
      for _, p in ipairs(v) do
        if not C.is_list(p) or #p ~= 2 then C.expects("urlencode", "a string, a mapping or a list of pairs", v) end
        pairs_[#pairs_ + 1] = p
      end
    end
    local out = {}
    for i, p in ipairs(pairs_) do
      out[i] = quote(C.str(p[1]), ""):gsub("%%20", "+") .. "=" .. quote(C.str(p[2]), ""):gsub("%%20", "+")
    end
    return table.concat(out, "&")
  end)

  reg.filter("urldecode", "value", function(v) return unquote_plus(C.str(v)) end)
end

-- the module is called with the registry (as the others); M.urlsplit is
-- also the uri tests' parser
return setmetatable(M, { __call = function(_, reg) return declare(reg) end })
