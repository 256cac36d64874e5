--- luasible.module.kv: arguments written as one string: ad-hoc `k=v`
-- pairs and free-form words, and a command string as argv (util/shell's
-- splitting, with the text in error messages).
local shell = require "luasible.util.shell"
local quote = require("luasible.util.schema").quote

local M = {}

-- what util/shell returned, its error naming the text `s`
local function named(s, out, err)
  if not out then return nil, err .. " in: " .. quote(s, 200) end
  return out
end

--- Split a string into shell-like words (quotes and backslashes honoured).
--- Returns a list of {text=, quoted=}, or nil, err. `quoted` is false or the
--- index of the word's first quoted piece (1: the word starts with a quote).
function M.words(s, opts) return named(s, shell.split(s, opts)) end

--- Split a command string into an argv table, or nil, err.
function M.argv(s) return named(s, shell.words(s)) end

--- Parse ad-hoc args: `k=v k2="v 2" free words`. Free words (no k=) are
--- joined into `_raw` (the module's free_form argument). A `{{ }}` in a
--- value is kept whole: `msg={{ a | join(' ') }}` is one pair. Quotes and
--- backslashes as Python's shlex.split. Returns table or nil, err.
function M.parse_kv(s)
  local w, err = M.words(s, { templates = true })
  if not w then return nil, err end
  local out, free = {}, {}
  for _, x in ipairs(w) do
    local k, v = x.text:match("^([%a_][%w_]*)=(.*)$")
    if k and x.quoted ~= 1 then out[k] = v else free[#free + 1] = x.text end
  end
  if #free > 0 then out._raw = table.concat(free, " ") end
  return out
end

--- The words of s as written (quotes, backslashes and `{{ }}` / `{% %}`
--- spans kept: Ansible's split_args), split at unquoted blanks: for taking
--- `creates=...` out of a command's text while the rest stays as it was.
function M.raw_words(s)
  local out, i, n, start = {}, 1, #s, nil
  local q, depth = nil, 0
  while i <= n do
    local c = s:sub(i, i)
    if not start and not c:match("%s") then start = i end
    if q then
      if c == "\\" and q == '"' then i = i + 1
      elseif c == q then q = nil end
    elseif depth > 0 then
      local close = s:sub(i, i + 1)
      if close == "}}" or close == "%}" or close == "#}" then depth, i = depth - 1, i + 1 end
    elseif s:sub(i, i + 1):match("^{[{%%#]$") then depth, i = depth + 1, i + 1
    elseif c == "\\" then i = i + 1
    elseif c == "'" or c == '"' then q = c
    elseif c:match("%s") and start then
      out[#out + 1] = s:sub(start, i - 1)
      start = nil
    end
    i = i + 1
  end
  if start then out[#out + 1] = s:sub(start) end
  return out
end

--- The modules whose free-form text is a command, and the options Ansible
--- takes out of that text (its parse_kv check_raw): `make creates=/x chdir=/src`.
M.COMMANDS = { command = true, shell = true, streaming_shell = true, raw = true, script = true }
M.COMMAND_OPTIONS = { chdir = true, creates = true, removes = true, executable = true, stdin = true,
  stdin_add_newline = true, strip_empty_ends = true, warn = true }

--- A command's text with its options (unquoted, M.COMMAND_OPTIONS) taken
--- out: { opt = value, ... }, the rest as written (or nil when nothing is
--- left); nil when it has none; or nil, nil, err.
function M.command_options(s)
  local rest, opts = {}, nil
  for _, w in ipairs(M.raw_words(s)) do
    local opt = w:match("^([%a_]+)=")
    if opt and M.COMMAND_OPTIONS[opt] then
      local v, err = M.parse_kv(w)
      if not v then return nil, nil, err end
      opts = opts or {}
      opts[opt] = v[opt]
    else
      rest[#rest + 1] = w
    end
  end
  if not opts then return nil end
  return opts, #rest > 0 and table.concat(rest, " ") or nil
end

return M
