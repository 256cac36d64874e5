--- luasible.util.diff: line diffs as Ansible shows them (--diff).
-- Written here because Debian ships no Lua diff library (no lua-diff, no
-- lua-difflib package), and because what --diff prints must be the text
-- ansible-playbook prints: Python's difflib.unified_diff over
-- str.splitlines(True), with 3 lines of context. So the matcher is
-- difflib's SequenceMatcher (Ratcliff/Obershelp: the longest matching block
-- first, then the same on each side, with its "autojunk" rule: in a second
-- text of 200 lines or more, a line found more than 1% + 1 times is not used
-- to start a match), not Myers: the hunks are byte for byte those of
-- difflib, and they apply with patch(1) as `diff -u`'s do (where a change
-- can be shown two ways, `diff -u` may choose the other one).
--   M.split(text)                 the lines of text as Python's str.splitlines(True)
--   M.unified(a, b, from, to, n)  difflib.unified_diff's text (a, b lists of lines)
--   M.entry(d)                    one diff entry {before, after, before_header, after_header,
--                                 dst_larger, ...} as Ansible's callback shows it (_get_diff)
--   M.render(diff, paint)         a result's `diff` (an entry or a list of them), coloured by paint
--   M.MAX_SIZE                    104448: Ansible's max_diff_size; a bigger text is not diffed
local json = require "luasible.json"

local M = {}

M.MAX_SIZE = 104448 -- bytes (Ansible's MAX_FILE_SIZE_FOR_DIFF default, setting max_diff_size)
M.CONTEXT = 3

local find, sub, byte = string.find, string.sub, string.byte

-- Line ends of str.splitlines: \n, \r\n, \r, \v, \f, \x1c-\x1e, and (UTF-8) U+0085, U+2028, U+2029.
local ENDS = "[\n\r\v\f\28\29\30\194\226]"

--- The lines of `text`, each with its line end, as Python's
--- str.splitlines(True) gives them.
function M.split(text)
  local out, n, pos, len = {}, 0, 1, #text
  if not find(text, "[\r\v\f\28\29\30\194\226]") then -- only \n ends lines: the quick way
    local used = 0
    for l in string.gmatch(text, "[^\n]*\n") do n = n + 1; out[n] = l; used = used + #l end
    if used < len then out[n + 1] = sub(text, used + 1) end
    return out
  end
  local start = 1
  while pos <= len do
    local i = find(text, ENDS, pos)
    if not i then break end
    local c = byte(text, i)
    local stop
    if c == 13 then stop = (byte(text, i + 1) == 10) and i + 1 or i
    elseif c == 194 then stop = byte(text, i + 1) == 0x85 and i + 1 or nil
    elseif c == 226 then
      local c2, c3 = byte(text, i + 1, i + 2)
      stop = (c2 == 0x80 and (c3 == 0xA8 or c3 == 0xA9)) and i + 2 or nil
    else stop = i end
    if stop then
      n = n + 1
      out[n] = sub(text, start, stop)
      start = stop + 1
      pos = stop + 1
    else
      pos = i + 1
    end
  end
  if start <= len then out[n + 1] = sub(text, start) end
  return out
end

---------------------------------------------------------------------------
-- difflib's SequenceMatcher over two lists of lines (0-based positions, as
-- difflib's, over Lua's 1-based lists)
---------------------------------------------------------------------------

-- b2j: line -> the positions of b where it is, popular lines left out
local function chain_b(b)
  local b2j = {}
  for j = 1, #b do
    local e = b[j]
    local list = b2j[e]
    if list then list[#list + 1] = j - 1 else b2j[e] = { j - 1 } end
  end
  local n = #b
  if n >= 200 then
    local ntest = n // 100 + 1
    for e, list in pairs(b2j) do
      if #list > ntest then b2j[e] = nil end
    end
  end
  return b2j
end

-- The longest block a[alo:ahi] == b[blo:bhi]: the earliest in a, then in b;
-- extended over equal lines either side (there is no junk but the
-- popular lines, which do extend a match, as in difflib).
-- difflib's j2len dictionaries (row i's run lengths, by j) are two pairs
-- of arrays here, stamped with their row: no table made per line of a.
local function longest(a, b, b2j, alo, ahi, blo, bhi, w)
  local besti, bestj, bestsize = alo, blo, 0
  local plen, prow, clen, crow = w[1], w[2], w[3], w[4]
  for i = alo, ahi - 1 do
    local list = b2j[a[i + 1]]
    if list then
      for x = 1, #list do
        local j = list[x]
        if j >= blo then
          if j >= bhi then break end
          -- row i - 1 of this call (an entry left by an earlier call is
          -- outside blo.. or before alo, or was written again by this one)
          local k = (i > alo and j > blo and prow[j - 1] == i - 1 and plen[j - 1] or 0) + 1
          clen[j], crow[j] = k, i
          if k > bestsize then besti, bestj, bestsize = i - k + 1, j - k + 1, k end
        end
      end
    end
    plen, prow, clen, crow = clen, crow, plen, prow
  end
  while besti > alo and bestj > blo and a[besti] == b[bestj] do
    besti, bestj, bestsize = besti - 1, bestj - 1, bestsize + 1
  end
  while besti + bestsize < ahi and bestj + bestsize < bhi and a[besti + bestsize + 1] == b[bestj + bestsize + 1] do
    bestsize = bestsize + 1
  end
  return besti, bestj, bestsize
end

-- difflib's get_matching_blocks: { {i, j, k}, ... } then the {la, lb, 0} sentinel
local function matching_blocks(a, b)
  local b2j = chain_b(b)
  local la, lb = #a, #b
  local queue, blocks = { { 0, la, 0, lb } }, {}
  local work = { {}, {}, {}, {} } -- longest's arrays, reused (their row stamps tell old entries apart)
  while #queue > 0 do
    local q = table.remove(queue)
    local alo, ahi, blo, bhi = q[1], q[2], q[3], q[4]
    local i, j, k = longest(a, b, b2j, alo, ahi, blo, bhi, work)
    if k > 0 then
      blocks[#blocks + 1] = { i, j, k }
      if alo < i and blo < j then queue[#queue + 1] = { alo, i, blo, j } end
      if i + k < ahi and j + k < bhi then queue[#queue + 1] = { i + k, ahi, j + k, bhi } end
    end
  end
  table.sort(blocks, function(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[3] < y[3]
  end)
  local out, i1, j1, k1 = {}, 0, 0, 0
  for _, blk in ipairs(blocks) do
    local i2, j2, k2 = blk[1], blk[2], blk[3]
    if i1 + k1 == i2 and j1 + k1 == j2 then k1 = k1 + k2
    else
      if k1 > 0 then out[#out + 1] = { i1, j1, k1 } end
      i1, j1, k1 = i2, j2, k2
    end
  end
  if k1 > 0 then out[#out + 1] = { i1, j1, k1 } end
  out[#out + 1] = { la, lb, 0 }
  return out
end

--- difflib's get_opcodes: { {tag, i1, i2, j1, j2}, ... } (0-based, end exclusive).
function M.opcodes(a, b)
  local i, j, codes = 0, 0, {}
  for _, blk in ipairs(matching_blocks(a, b)) do
    local ai, bj, size = blk[1], blk[2], blk[3]
    local tag
    if i < ai and j < bj then tag = "replace" elseif i < ai then tag = "delete" elseif j < bj then tag = "insert" end
    if tag then codes[#codes + 1] = { tag, i, ai, j, bj } end
    i, j = ai + size, bj + size
    if size > 0 then codes[#codes + 1] = { "equal", ai, i, bj, j } end
  end
  return codes
end

-- difflib's get_grouped_opcodes: the changes in groups with n lines of context
local function grouped(codes, n)
  if #codes == 0 then codes = { { "equal", 0, 1, 0, 1 } } end
  local c = codes[1]
  if c[1] == "equal" then codes[1] = { "equal", math.max(c[2], c[3] - n), c[3], math.max(c[4], c[5] - n), c[5] } end
  c = codes[#codes]
  if c[1] == "equal" then
    codes[#codes] = { "equal", c[2], math.min(c[3], c[2] + n), c[4], math.min(c[5], c[4] + n) }
  end
  local groups, group = {}, {}
  for _, code in ipairs(codes) do
    local tag, i1, i2, j1, j2 = code[1], code[2], code[3], code[4], code[5]
    if tag == "equal" and i2 - i1 > n + n then
      group[#group + 1] = { tag, i1, math.min(i2, i1 + n), j1, math.min(j2, j1 + n) }
      groups[#groups + 1] = group
      group = {}
      i1, j1 = math.max(i1, i2 - n), math.max(j1, j2 - n)
    end
    group[#group + 1] = { tag, i1, i2, j1, j2 }
  end
  if #group > 0 and not (#group == 1 and group[1][1] == "equal") then groups[#groups + 1] = group end
  return groups
end

-- "start,length" of a hunk's range, as difflib's _format_range_unified
local function range(start, stop)
  local beginning, length = start + 1, stop - start
  if length == 1 then return tostring(beginning) end
  if length == 0 then beginning = beginning - 1 end
  return beginning .. "," .. length
end

--- difflib.unified_diff(a, b, fromfile, tofile, n=n) joined: a and b lists
--- of lines with their line ends; "" when they are the same. `out`
--- (optional) is a list the lines are added to, instead (then it is returned).
function M.unified(a, b, fromfile, tofile, n, out)
  n = n or M.CONTEXT
  local lines = out or {}
  local started = false
  for _, group in ipairs(grouped(M.opcodes(a, b), n)) do
    if not started then
      started = true
      lines[#lines + 1] = "--- " .. (fromfile or "") .. "\n"
      lines[#lines + 1] = "+++ " .. (tofile or "") .. "\n"
    end
    local first, last = group[1], group[#group]
    lines[#lines + 1] = "@@ -" .. range(first[2], last[3]) .. " +" .. range(first[4], last[5]) .. " @@\n"
    for _, code in ipairs(group) do
      local tag, i1, i2, j1, j2 = code[1], code[2], code[3], code[4], code[5]
      if tag == "equal" then
        for x = i1 + 1, i2 do lines[#lines + 1] = " " .. a[x] end
      else
        if tag ~= "insert" then for x = i1 + 1, i2 do lines[#lines + 1] = "-" .. a[x] end end
        if tag ~= "delete" then for x = j1 + 1, j2 do lines[#lines + 1] = "+" .. b[x] end end
      end
    end
  end
  if out then return out end
  return table.concat(lines)
end

---------------------------------------------------------------------------
-- A result's diff as Ansible's callback shows it
---------------------------------------------------------------------------

-- a side of an entry as text: a mapping as Python's json.dumps(indent=4, sort_keys) and a newline
local function side(v)
  if v == nil or json.is_null(v) then return "" end
  if type(v) == "table" then return json.pretty(v) .. "\n" end
  return tostring(v)
end

local function no_newline(lines)
  local last = lines[#lines]
  if last and sub(last, -1) ~= "\n" then lines[#lines] = last .. "\n\\ No newline at end of file\n" end
  return lines
end

--- One diff entry as Ansible's callback (_get_diff) writes it: the lines
--- of a unified diff of before and after ("before: HEADER" / "after:
--- HEADER"), a blank line after them, or the notes of a diff not made.
--- `paint(kind, line)` (optional; kind "add", "remove", "hunk") colours a line.
function M.entry(d, paint, out)
  out = out or {}
  if type(d) ~= "table" then return out end
  if d.dst_binary then out[#out + 1] = "diff skipped: destination file appears to be binary\n" end
  if d.src_binary then out[#out + 1] = "diff skipped: source file appears to be binary\n" end
  if d.dst_larger then
    out[#out + 1] = string.format("diff skipped: destination file size is greater than %d\n", d.dst_larger)
  end
  if d.src_larger then
    out[#out + 1] = string.format("diff skipped: source file size is greater than %d\n", d.src_larger)
  end
  if d.before ~= nil and d.after ~= nil then
    local bh = d.before_header ~= nil and ("before: " .. tostring(d.before_header)) or "before"
    local ah = d.after_header ~= nil and ("after: " .. tostring(d.after_header)) or "after"
    local lines = M.unified(no_newline(M.split(side(d.before))), no_newline(M.split(side(d.after))), bh, ah)
    if lines ~= "" then
      if paint then
        for l in lines:gmatch("[^\n]*\n") do
          local c, kind = sub(l, 1, 1), nil
          if sub(l, 1, 2) == "@@" then kind = "hunk"
          elseif c == "+" then kind = "add"
          elseif c == "-" then kind = "remove" end
          out[#out + 1] = kind and (paint(kind, sub(l, 1, -2)) .. "\n") or l
        end
      else
        out[#out + 1] = lines
      end
      out[#out + 1] = "\n"
    end
  end
  if type(d.prepared) == "string" then out[#out + 1] = d.prepared end
  return out
end

--- A result's `diff` (one entry or a list of them) as the text Ansible
--- shows; "" when there is nothing to show.
function M.render(diff, paint)
  if type(diff) ~= "table" then return "" end
  local list = diff
  if diff.before ~= nil or diff.after ~= nil or diff.prepared ~= nil or next(diff) == nil
    or diff.dst_larger or diff.src_larger or diff.dst_binary or diff.src_binary then list = { diff } end
  local out = {}
  for _, d in ipairs(list) do M.entry(d, paint, out) end
  return table.concat(out)
end

return M
