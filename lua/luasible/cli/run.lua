--- luasible.cli.run: `luasible run PLAY.lua`: run a play file.
local path = require "luasible.util.path"

local M = {}

function M.add_to_parser(parser, common)
  local c = parser:command("run", "Run a play file (Lua returning a play or a list of plays) or an "
    .. "Ansible playbook (.yml / .yaml).")
  c:argument("play", "The play file or playbook.")
  common(c)
  c:option("-t --tags", "Only run tasks with these tags (comma list).")
  c:option("--skip-tags", "Skip tasks with these tags (comma list).")
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
  -- a Lua chunk returning a play or a list of plays; locate: its tasks' lines, for messages;
  -- a YAML playbook: its plays in the same model, each play's file and lines in sources
  local playmod = require("luasible.play")
  local play, err, locate, sources
  if require("luasible.play.playbook").is_playbook(args.play) then
    play, err, sources = playmod.load_playbook(args.play, { extra_vars = args.extra })
  else
    play, err, locate = playmod.load(args.play)
  end
  if not play then return nil, err end
  local base_dir = path.dirname(args.play)
  return play, { base_dir = base_dir, play_file = args.play, locate = locate, sources = sources,
    tags = list(args.tags), skip_tags = list(args.skip_tags),
    play_vars_dir = base_dir } -- the play's group_vars/ and host_vars/
end

return M
