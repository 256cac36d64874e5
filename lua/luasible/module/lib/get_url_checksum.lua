--- luasible.module.lib.get_url_checksum: get_url's `checksum` read: algo:hex,
-- or algo:URL of a checksum file the host fetches (its request:
-- module/lib/http_request.lua), the line naming the URL's file kept.
local http = require "luasible.module.lib.http_request"

local M = {}

--- The checksum's algorithm and hex digest (lower case), or nil, err.
function M.read(ctx, args, req)
  local algo, sum = args.checksum:match("^([^:]+):(.+)$")
  if not algo then return nil, "checksum: the checksum parameter has to be in format <algorithm>:<checksum>" end
  algo = algo:lower()
  if sum:match("^%a+://") then -- a checksum file: fetched by the host, the line naming the URL's file kept
    local creq = {}
    for k, v in pairs(req) do creq[k] = v end
    creq.url, creq.method = sum, "GET"
    local stdin, err = http.fetch_stdin(creq)
    if not stdin then return nil, err end
    local res = ctx:run(table.concat({ "set -u", "cfgall=$(mktemp) && cat >\"$cfgall\" || exit 1",
      "BODY=$(mktemp); HDR=$(mktemp)", "(", http.fetch_sh(ctx.quote), ")", 'cat "$BODY" | sed "s/^/@line /"',
      'rm -f "$BODY" "$HDR" "$cfgall"' }, "\n"), { stdin = stdin })
    local m = http.markers(res.stdout)
    if m.notool then return nil, "get_url: the host has none of curl, wget, python3 (needed to download)" end
    local code = tonumber((m.status or ""):match("^(-?%d+)"))
    if code ~= 200 then
      return nil, "get_url: cannot fetch the checksum file " .. sum .. " (status " .. tostring(code) .. ")"
    end
    local lines = {}
    for l in (res.stdout or ""):gmatch("@line ([^\n]*)") do lines[#lines + 1] = l end
    local file = (args.url:gsub("[?#].*$", ""):match("([^/]*)$"))
    if file == "" then file = "index.html" end
    local found
    if #lines == 1 and lines[1]:match("^%S+$") then found = lines[1] end
    for _, l in ipairs(lines) do
      if found then break end
      local s, f = l:match("^(%S+) (.*)$")
      if f and (f:gsub("^[ *]", ""):gsub("^[./]+", "")) == file then found = s end
    end
    if not found then return nil, "Unable to find a checksum for file '" .. file .. "' in '" .. sum .. "'" end
    sum = found
  end
  sum = sum:gsub("[%W_]+", ""):lower()
  if not sum:match("^%x+$") then return nil, "checksum: the checksum format is invalid" end
  return algo, sum
end

return M
