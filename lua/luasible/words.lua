-- luasible.words: splitting a line into shell-like words, the one splitter
-- behind the INI inventory's host lines and modules.words (ad-hoc args, argv).

local M = {}

--- Split `s` into words on white space; single and double quotes group (and
--- are removed), a backslash takes the next character literally.
--- With opts.comments, a word starting with # or ; ends the line (a comment).
--- Returns a list of {text=, quoted=}, where `quoted` is false, or the index
--- of the word's first quoted piece (1: the word starts with a quote); or
--- nil, "unterminated quote".
function M.split(s, opts)
  local comments = opts and opts.comments
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif comments and (c == "#" or c == ";") then
      break
    else
      local buf, quoted = {}, false
      while i <= n do
        c = s:sub(i, i)
        if c:match("%s") then break end
        if c == '"' or c == "'" then
          local j = s:find(c, i + 1, true)
          if not j then return nil, "unterminated quote" end
          buf[#buf + 1] = s:sub(i + 1, j - 1)
          quoted = quoted or #buf
          i = j + 1
        elseif c == "\\" and i < n then
          buf[#buf + 1] = s:sub(i + 1, i + 1)
          i = i + 2
        else
          buf[#buf + 1] = c
          i = i + 1
        end
      end
      out[#out + 1] = { text = table.concat(buf), quoted = quoted }
    end
  end
  return out
end

return M
