--- luasible.util.shell: POSIX shell quoting and shell-like word splitting,
-- the one copy behind command lines, ad-hoc arguments and INI host lines.
local M = {}

--- POSIX shell single-quoting: safe for any byte string without NUL.
--- A word of only safe characters stays bare; "=" is not safe (`A=b` as a
--- command word is an assignment), nor is the empty string.
function M.quote(s)
  s = tostring(s)
  if s:find("^[%w%-%./_:,+@%%]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- argv table -> one shell command line, every word quoted.
function M.join(argv)
  local out = {}
  for i = 1, #argv do out[i] = M.quote(argv[i]) end
  return table.concat(out, " ")
end

--- Split `s` into words on white space, as Python's shlex.split does:
--- single and double quotes group (and are removed); outside quotes a
--- backslash takes the next character literally (`\'` is a quote); inside
--- double quotes a backslash escapes only `"` and `\` (elsewhere it stays);
--- inside single quotes it is an ordinary character.
--- With opts.comments, a # outside quotes ends the line (a comment), even
--- inside a word (`a#b` is `a`), as shlex.split(s, comments=True).
--- With opts.templates, a `{{ }}`, `{% %}` or `{# #}` is kept whole, spaces
--- and quotes included (`msg={{ a | join(', ') }}` is one word), as
--- Ansible's k=v splitter does.
--- Returns a list of {text=, quoted=}, where `quoted` is false, or the index
--- of the word's first quoted piece (1: the word starts with a quote); or
--- nil, "unterminated quote".
function M.split(s, opts)
  local comments = opts and opts.comments
  local templates = opts and opts.templates
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif comments and c == "#" then
      break
    else
      -- np: the pieces so far, an ordinary character counted as one (quoted's index)
      local buf, quoted, np = {}, false, 0
      while i <= n do
        c = s:sub(i, i)
        if c:match("%s") then break end
        if comments and c == "#" then n = i - 1 break end
        local tag = templates and c == "{" and s:match("^{([{%%#])", i)
        if tag then
          local close = ({ ["{"] = "}}", ["%"] = "%}", ["#"] = "#}" })[tag]
          local _, e = s:find(close, i + 2, true)
          e = e or n
          buf[#buf + 1] = s:sub(i, e)
          np = np + 1
          i = e + 1
        elseif c == "'" then
          local j = s:find(c, i + 1, true)
          if not j then return nil, "unterminated quote" end
          buf[#buf + 1] = s:sub(i + 1, j - 1)
          np = np + 1
          quoted = quoted or np
          i = j + 1
        elseif c == '"' then
          local part, j = {}, i + 1
          while true do
            local d = s:sub(j, j)
            if d == "" then return nil, "unterminated quote" end
            if d == '"' then break end
            local nx = s:sub(j + 1, j + 1)
            if d == "\\" and (nx == '"' or nx == "\\") then
              part[#part + 1] = nx
              j = j + 2
            else
              part[#part + 1] = d
              j = j + 1
            end
          end
          buf[#buf + 1] = table.concat(part)
          np = np + 1
          quoted = quoted or np
          i = j + 1
        elseif c == "\\" and i < n then
          buf[#buf + 1] = s:sub(i + 1, i + 1)
          np = np + 1
          i = i + 2
        else
          -- c and the ordinary characters after it (none of them a space,
          -- a quote, a backslash, { or #) in one piece
          local _, e = s:find("^[^%s'\"\\{#]*", i + 1)
          if e > n then e = n end
          buf[#buf + 1] = s:sub(i, e)
          np = np + e - i + 1
          i = e + 1
        end
      end
      out[#out + 1] = { text = table.concat(buf), quoted = quoted }
    end
  end
  return out
end

--- The words of `s` as plain strings (shlex.split), or nil, err.
function M.words(s, opts)
  local w, err = M.split(s, opts)
  if not w then return nil, err end
  for i = 1, #w do w[i] = w[i].text end
  return w
end

return M
