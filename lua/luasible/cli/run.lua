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
  c:flag("--syntax-check", "Check the plays (everything checked before a run) and run nothing.")
  c:flag("--list-tasks", "List the tasks each play would run (after --tags/--skip-tags); run nothing.")
  c:flag("--list-hosts", "List the hosts each play would run on (after --limit); run nothing.")
  c:flag("--list-tags", "List the tags of each play's tasks (after --tags/--skip-tags); run nothing.")
  c:option("--start-at-task", "Start at the first task of this name (a glob as Ansible's: fnmatch).")
  c:flag("--force-handlers", "Run the handlers a host notified even when it failed (a play's force_handlers wins).")
  c:flag("--step", "Ask before each task (on the terminal): (y)es, (n)o, (c)ontinue without asking.")
  -- ansible-playbook's: luasible keeps no facts between runs (no fact cache), so there is nothing to clear
  c:flag("--flush-cache", "Clear the fact cache: accepted, and nothing to do (luasible keeps no facts between runs).")
end

-- a sorted list of unique tags, as Ansible prints them
local function tag_text(lists)
  local set, out = {}, {}
  for _, l in ipairs(lists) do
    for _, t in ipairs(l or {}) do
      t = tostring(t)
      if not set[t] then set[t] = true; out[#out + 1] = t end
    end
  end
  table.sort(out)
  return "[" .. table.concat(out, ", ") .. "]"
end

--- --syntax-check / --list-tasks / --list-hosts: the prepared plays
--- (luasible.play.check) printed as ansible-playbook prints them; returns
--- the exit status.
function M.list(args, prepared)
  local out = { "", "playbook: " .. args.play }
  if args.syntax_check and not (args.list_tasks or args.list_hosts or args.list_tags) then
    io.stdout:write(table.concat(out, "\n"), "\n")
    return 0
  end
  for i, p in ipairs(prepared) do
    local pattern = p.raw.hosts
    if type(pattern) == "table" then pattern = table.concat(pattern, ",") end
    out[#out + 1] = ""
    local ptags = p.raw.tags
    if type(ptags) ~= "table" then ptags = { ptags } end
    out[#out + 1] = string.format("  play #%d (%s): %s\tTAGS: %s", i, tostring(pattern), p.name, tag_text({ ptags }))
    if args.list_hosts then
      out[#out + 1] = string.format("    pattern: %s", tostring(pattern))
      out[#out + 1] = string.format("    hosts (%d):", #p.hosts)
      for _, h in ipairs(p.hosts) do out[#out + 1] = "      " .. h end
    end
    local all = {}
    if args.list_tasks then out[#out + 1] = "    tasks:" end
    for _, section in ipairs({ p.pre_tasks, p.tasks, p.post_tasks }) do
      for _, t in ipairs(section) do
        if not t.facts then
          all[#all + 1] = t.tags
          if args.list_tasks then out[#out + 1] = string.format("      %s\tTAGS: %s", t.name, tag_text({ t.tags })) end
        end
      end
    end
    if args.list_tags then out[#out + 1] = "      TASK TAGS: " .. tag_text(all) end
  end
  io.stdout:write(table.concat(out, "\n"), "\n")
  return 0
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
    play, err, sources = playmod.load_playbook(args.play, { extra_vars = args.extra,
      roles_path = args.config_opts and args.config_opts.roles_path,
      no_prompt = (args.syntax_check or args.list_tasks or args.list_hosts or args.list_tags) and true or nil })
  else
    play, err, locate = playmod.load(args.play)
  end
  if not play then return nil, err end
  local base_dir = path.dirname(args.play)
  return play, { list = (args.syntax_check or args.list_tasks or args.list_hosts or args.list_tags) and true or nil,
    start_at_task = args.start_at_task, step = args.step or nil,
    base_dir = base_dir, play_file = args.play, locate = locate, sources = sources,
    roles_path = args.config_opts and args.config_opts.roles_path, -- (a Lua play's roles: play/lua_roles.lua)
    tags = list(args.tags), skip_tags = list(args.skip_tags),
    play_vars_dir = base_dir } -- the play's group_vars/ and host_vars/
end

return M
