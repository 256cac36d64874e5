-- debconf: an answer in the debconf database of a Debian host, as Ansible's
-- ansible.builtin.debconf: the package's answers read with debconf-show,
-- the question's value compared (booleans without case), and when it
-- differs set with debconf-set-selections (`-u`: marked unseen), the line on
-- stdin (a password never on a command line). One round trip reads; a second
-- one sets, when needed.

local VTYPES = { "boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title" }

local function trim(s) return (s:match("^%s*(.-)%s*$")) end

return {
  params = {
    name = { type = "string", required = true, aliases = { "pkg" } },
    question = { type = "string", aliases = { "selection", "setting" } },
    vtype = { type = "string", choices = VTYPES },
    value = { type = "string", aliases = { "answer" } },
    unseen = { type = "boolean", default = false },
  },
  check_args = function(args, all)
    local given, missing = {}, {}
    for _, k in ipairs { "question", "vtype", "value" } do
      if all[k] ~= nil then given[#given + 1] = k else missing[#missing + 1] = k end
    end
    if #given > 0 and #missing > 0 then
      return nil, "arguments 'question', 'vtype' and 'value' go together: " .. table.concat(given, ", ")
        .. " given without " .. table.concat(missing, ", ")
    end
    for _, k in ipairs { "name", "question", "value" } do
      if type(args[k]) == "string" and args[k]:find("\n") then return nil, "argument '" .. k .. "' must be one line" end
    end
    if args.name and args.name:find("^%-") then return nil, "argument 'name' must be a package name" end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local r = ctx:run("command -v debconf-show >/dev/null 2>&1 || { echo 'debconf-show: not found' >&2; exit 127; }\n"
      .. "LC_ALL=C exec debconf-show " .. q(args.name))
    if not r.ok then return { failed = true, msg = ctx.chomp(r.stderr or "") } end
    local prev = ctx.object({})
    for _, line in ipairs(ctx.lines(r.stdout or "")) do
      local k, v = line:match("^([^:]*):(.*)$")
      if k then prev[trim((trim(k):gsub("^%*+", "")))] = trim(v) end
    end
    local question, value = args.question, args.value
    local changed = false
    if question ~= nil then
      if prev[question] == nil then changed = true
      else
        local existing = prev[question]
        if args.vtype == "boolean" then value, existing = value:lower(), existing:lower() end
        changed = value ~= existing
      end
    end
    if not changed then return { changed = false, msg = "", current = prev } end
    local msg = ""
    if not ctx.check_mode then
      local v = value
      if args.vtype == "boolean" then
        if v == "True" then v = "true" elseif v == "False" then v = "false" end
      end
      local s = ctx:run("command -v debconf-set-selections >/dev/null 2>&1 ||"
        .. " { echo 'debconf-set-selections: not found' >&2; exit 127; }\n"
        .. "exec debconf-set-selections" .. (args.unseen and " -u" or ""),
        { stdin = table.concat({ args.name, question, args.vtype, v }, " ") })
      if not s.ok then return { failed = true, changed = false, msg = ctx.chomp(s.stderr or "") } end
      msg = ctx.chomp(s.stdout or "")
    end
    -- a password is never shown (results go to events and logs): Ansible's no_log mark
    local shown = args.vtype == "password" and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" or value
    local previous = ctx.object({ [question] = prev[question] or "" })
    local result = { changed = true, msg = msg, current = { [question] = shown }, previous = previous }
    result.diff = ctx:diff_result(previous, { [question] = shown })
    return result
  end,
}
