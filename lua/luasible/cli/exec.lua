--- luasible.cli.exec: `luasible exec PATTERN -m MODULE -a ARGS`: one module,
-- ad hoc, on the hosts that match.
local M = {}

function M.add_to_parser(parser, common)
  local c = parser:command("exec", "Run one module on the hosts matching PATTERN.")
  c:argument("pattern", "Host pattern, e.g. all, web, 'web:!web3'.")
  common(c)
  c:option("-m --module", "Module name.", "shell")
  c:option("-a --args", "Module arguments: 'k=v k2=\"v 2\"' or a free-form command.", "")
end

--- Arguments of an ad-hoc module call: k=v pairs, or the whole string as the
--- module's free-form argument when it does not read as the module's params.
function M.adhoc_args(mod, s)
  local modules = require "luasible.module"
  local kv_mod = require "luasible.module.kv"
  if s == "" then return {} end
  local kv, err = modules.parse_kv(s)
  if not kv then return nil, err end
  if mod.free_form and kv_mod.COMMANDS[mod.name] then -- `touch x creates=x`: as in a playbook
    local opts, cmd, oerr = kv_mod.command_options(s)
    if oerr then return nil, oerr end
    if opts then
      opts[mod.free_form] = cmd
      return opts
    end
  end
  if mod.free_form then
    for k in pairs(kv) do
      if k == "_raw" or not mod.params[k] then return { [mod.free_form] = s } end
    end
  elseif kv._raw then
    return nil, "module " .. (mod.name or "?") .. " takes key=value arguments, got "
      .. require("luasible.util.schema").quote(kv._raw)
  end
  return kv
end

--- The play to run and the runner's options for it; nil, message when the
--- input is bad.
function M.command(args)
  local modules = require "luasible.module"
  local mod, err = modules.load(args.module, modules.search_path(args.module_path))
  if not mod then return nil, err end
  local margs, aerr = M.adhoc_args(mod, args.args)
  if not margs then return nil, aerr end
  local play = { name = "ad-hoc: " .. args.module .. " on " .. args.pattern, hosts = args.pattern,
    tasks = { { name = args.module, module = args.module, args = margs } } }
  -- ad hoc there is no play folder: only the inventory's group_vars/, host_vars/
  return play, { base_dir = ".", play_vars_dir = false }
end

return M
