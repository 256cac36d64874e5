--- An inventory plugin written in Lua (docs/TASKS.md, "Inventory plugins"):
-- hosts from a JSON export of cloud instances (examples/cloud/instances.json,
-- the shape of `cloudctl instances list --output json`), or from a command
-- that prints one (`command:`, run through luasible's process support, with
-- a timeout). Configured by a YAML source:
--
--   plugin: cloud_json
--   file: ../instances.json       # relative to the YAML file's folder
--   # command: [cloudctl, instances, list, --output, json]
--   only_running: true
--   hostnames: name               # name | id | private_ip
--
-- It returns the shape of an inventory script's --list: every host in the
-- group `cloud` and in region_<region>, with its facts as host variables
-- (ansible_host = the private address). Put `constructed` after it for
-- more groups (examples/cloud/inventory/20-groups.yml).
return {
  options = {
    file = { type = "path" },
    command = { type = "list" },
    only_running = { type = "boolean", default = true },
    hostnames = { type = "string", default = "name", choices = { "name", "id", "private_ip" } },
  },

  load = function(opts, ctx)
    local text, err
    if opts.command then
      text, err = ctx.run(opts.command, { timeout = 30 })
    elseif opts.file then
      text, err = ctx.read(opts.file)
    else
      return nil, "give file: or command:"
    end
    if not text then return nil, err end
    local data, derr = ctx.decode(text, opts.file or opts.command[1])
    if not data then return nil, derr end
    if type(data) ~= "table" or type(data.instances) ~= "table" then
      return nil, "expected an object with an `instances` list"
    end
    local out = { cloud = { hosts = {}, vars = { cloud_account = data.account } }, _meta = { hostvars = {} } }
    for i, vm in ipairs(data.instances) do
      if type(vm) ~= "table" or type(vm.id) ~= "string" then
        return nil, "instance " .. i .. ": expected an object with an id"
      end
      if vm.state == "running" or not opts.only_running then
        local name = vm[opts.hostnames == "name" and "name" or opts.hostnames] or vm.id
        table.insert(out.cloud.hosts, name)
        local region = "region_" .. tostring(vm.region):gsub("%-", "_")
        out[region] = out[region] or { hosts = {} }
        table.insert(out[region].hosts, name)
        local hv = {
          ansible_host = vm.private_ip, cloud_id = vm.id, cloud_state = vm.state, cloud_region = vm.region,
          cloud_zone = vm.zone, cloud_type = vm.type, cloud_vcpus = vm.vcpus, cloud_memory_mib = vm.memory_mib,
          cloud_public_ip = vm.public_ip, cloud_image = vm.image, cloud_tags = vm.tags or {},
        }
        -- JSON's null (a marker value, not nil): the variable is left out
        for k, v in pairs(hv) do if ctx.is_null(v) then hv[k] = nil end end
        out._meta.hostvars[name] = hv
      end
    end
    return out
  end,
}
