-- include_vars: variables from YAML/JSON files of this machine (Ansible's
-- ansible.builtin.include_vars): `file` (free form: `include_vars: x.yml`)
-- or `dir` (every file in it, sorted, `depth` levels down (0: all),
-- `files_matching` a regular expression on the name, `ignore_files` names
-- or globs, `extensions`), optionally under `name`. A relative path is
-- looked for in the role's vars/ (a role's task), the play folder's vars/,
-- the play folder. The play layer puts the result's ansible_facts among the
-- host's variables (`sets_include_vars`): above task vars, below set_fact
-- and registered results, as Ansible's include_vars.
local M = {
  controller_paths = { file = true, dir = true }, -- (files of this machine)
  free_form = "file",
  sets_include_vars = true,
  params = {
    file = { type = "path", aliases = { "_raw_params" } },
    dir = { type = "path" },
    name = { type = "string" },
    depth = { type = "integer", default = 0 },
    files_matching = { type = "string" },
    ignore_files = { type = "list", default = {} },
    extensions = { type = "list", default = { "yaml", "yml", "json" } },
    ignore_unknown_extensions = { type = "boolean", default = false },
    hash_behaviour = { type = "string", choices = { "replace", "merge" } },
  },
  mutually_exclusive = { { "file", "dir" } },
  required_one_of = { { "file", "dir" } },
  check_mode = true,
}

-- Is a file name one of the globs (shell patterns: *, ?) of ignore_files?
local function ignored(name, globs)
  for _, g in ipairs(globs) do
    local pat = "^" .. tostring(g):gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
    if name:match(pat) then return true end
  end
  return false
end

-- One file's variables (a mapping), or nil, err.
local function read_vars(ctx, file)
  local text, err = ctx.read_file(file)
  if not text then return nil, "cannot read " .. file .. ": " .. tostring(err) end
  local v, yerr = ctx.load_yaml(text, file)
  if yerr then return nil, yerr end
  if v == nil then return {} end
  if type(v) ~= "table" or (#v > 0) then return nil, file .. " must hold a mapping of variables" end
  return v
end

function M.run(ctx, args)
  local facts, files = ctx.object(), {}
  local function merge(v)
    for k, x in pairs(v) do
      if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
        return nil, "'" .. tostring(k) .. "' is not a valid variable name"
      end
      if args.hash_behaviour == "merge" and type(facts[k]) == "table" and type(x) == "table" then
        for kk, xx in pairs(x) do facts[k][kk] = xx end
      else facts[k] = x end
    end
    return true
  end
  if args.file then
    local file = ctx:find_local(args.file, "vars")
    local v, err = read_vars(ctx, file)
    if not v then return { failed = true, msg = err } end
    local ok, merr = merge(v)
    if not ok then return { failed = true, msg = file .. ": " .. merr } end
    files[1] = file
  else
    local dir = ctx:find_local(args.dir, "vars")
    local st = ctx.local_stat(dir)
    if not st or st.type ~= "directory" then return { failed = true, msg = dir .. " directory does not exist" } end
    local list, err = ctx.walk_local(dir)
    if not list then return { failed = true, msg = "cannot list " .. dir .. ": " .. tostring(err) } end
    local exts = {}
    for _, e in ipairs(args.extensions) do exts[tostring(e):gsub("^%.", "")] = true end
    for _, e in ipairs(list) do
      local depth = select(2, e.path:gsub("/", "")) + 1
      local base = ctx.path.basename(e.path)
      local ext = base:match("%.([^.]+)$")
      if e.type == "file" and (args.depth == 0 or depth <= args.depth) and not ignored(base, args.ignore_files) then
        local wanted = true
        if args.files_matching then
          local r, rerr = ctx.regex.compile(args.files_matching)
          if not r then return { failed = true, msg = "files_matching: " .. rerr } end
          wanted = r:search(base) ~= nil
        end
        if wanted and not (ext and exts[ext]) then
          if not args.ignore_unknown_extensions then
            return { failed = true, msg = ctx.path.join(dir, e.path) .. " does not have a valid extension: "
              .. table.concat(args.extensions, ", ") }
          end
          wanted = false
        end
        if wanted then
          local file = ctx.path.join(dir, e.path)
          local v, rerr = read_vars(ctx, file)
          if not v then return { failed = true, msg = rerr } end
          local ok, merr = merge(v)
          if not ok then return { failed = true, msg = file .. ": " .. merr } end
          files[#files + 1] = file
        end
      end
    end
  end
  if args.name then facts = ctx.object({ [args.name] = facts }) end
  return { changed = false, ansible_facts = facts, ansible_included_var_files = files }
end

return M
