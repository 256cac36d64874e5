--- luasible.cli.run: `luasible run PLAY.lua`: run a play file.
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"

local M = {}

function M.add_to_parser(parser, common)
  local c = parser:command("run", "Run a play file (Lua returning a play or a list of plays).")
  c:argument("play", "The play file.")
  common(c)
  c:option("-t --tags", "Only run tasks with these tags (comma list).")
  c:option("--skip-tags", "Skip tasks with these tags (comma list).")
end

--- Load a play file: a Lua chunk returning a play or a list of plays.
function M.load_play(file)
  local chunk, err = loadfile(file, "t")
  if not chunk then
    if not fs.read(file) then return nil, "cannot read play file " .. file end
    return nil, err
  end
  local ok, play = pcall(chunk)
  if not ok then return nil, file .. ": " .. tostring(play) end
  if type(play) ~= "table" then return nil, file .. ": must return a play table (or a list of plays)" end
  return play
end

-- "a, b,c" -> { "a", "b", "c" }
local function list(s)
  if not s then return nil end
  local out = {}
  for x in s:gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end

--- The play to run and the runner's options for it; nil, message when the
--- input is bad.
function M.command(args)
  local play, err = M.load_play(args.play)
  if not play then return nil, err end
  local base_dir = path.dirname(args.play)
  return play, { base_dir = base_dir, play_file = args.play, tags = list(args.tags), skip_tags = list(args.skip_tags),
    play_vars_dir = base_dir } -- the play's group_vars/ and host_vars/
end

return M
