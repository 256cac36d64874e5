-- mount: a file system in fstab and mounted (or not), as Ansible's
-- ansible.posix.mount on Linux: state mounted / present / unmounted / absent
-- / absent_from_fstab / remounted / ephemeral; fstab lines edited the way
-- Ansible edits them (fields escaped, `src path fstype opts dump passno`).
-- One round trip reads fstab, whether the path is a mount point (and
-- /proc/self/mountinfo's line for it) and the tools; a second one writes
-- fstab (atomically, the text on stdin) and mounts, unmounts or remounts,
-- putting the old fstab back when mounting fails.

local function escape(v) return (v:gsub("\\", "\\134"):gsub(" ", "\\040"):gsub("&", "\\046")) end

local function fields_of(line)
  local f = {}
  for w in line:gmatch("%S+") do f[#f + 1] = w end
  return f
end

local function lines_of(text)
  local t = {}
  for l in text:gmatch("[^\n]*\n") do t[#t + 1] = l end
  local tail = text:match("([^\n]+)$")
  if tail then t[#t + 1] = tail end
  return t
end

local function skip(line) return not line:find("%S") or line:match("^%s*#") end

-- fstab with the entry set: the new text and whether it changed (Ansible's set_mount)
local function set_entry(text, a)
  local out, exists, changed = {}, false, false
  local e = { src = escape(a.src or ""), name = escape(a.name), fstype = escape(a.fstype or ""), opts = escape(a.opts),
    dump = escape(a.dump), passno = escape(a.passno) }
  for _, line in ipairs(lines_of(text)) do
    if line:sub(-1) ~= "\n" then line = line .. "\n" end
    local f = fields_of(line)
    if skip(line) or #f < 4 or #f > 6 then out[#out + 1] = line
    else
      -- a missing dump/passno is Python's 0, never equal to the text '0': it is rewritten
      local ld = { src = f[1], name = f[2], fstype = f[3], opts = f[4], dump = f[5] or false, passno = f[6] or false }
      if ld.name ~= e.name or (a.src and ld.name == "none" and ld.fstype == "swap" and ld.src ~= a.src) then
        out[#out + 1] = line
      else
        exists = true
        for _, k in ipairs({ "src", "fstype", "opts", "dump", "passno" }) do
          if ld[k] ~= e[k] then ld[k] = e[k]; changed = true end
        end
        local rewritten = table.concat({ ld.src, ld.name, ld.fstype, ld.opts, ld.dump, ld.passno }, " ") .. "\n"
        out[#out + 1] = changed and rewritten or line
      end
    end
  end
  if not exists then
    out[#out + 1] = table.concat({ e.src, e.name, e.fstype, e.opts, e.dump, e.passno }, " ") .. "\n"
    changed = true
  end
  return table.concat(out), changed
end

-- fstab without the entry (Ansible's unset_mount: only 6-field lines count)
local function unset_entry(text, a)
  local out, changed = {}, false
  local name = escape(a.name)
  for _, line in ipairs(lines_of(text)) do
    local f = fields_of(line)
    if skip(line) or #f ~= 6 or f[2] ~= name or (a.src and f[2] == "none" and f[3] == "swap" and f[1] ~= a.src) then
      out[#out + 1] = line
    else
      changed = true
    end
  end
  return table.concat(out), changed
end

local STATES = { "absent", "absent_from_fstab", "mounted", "present", "unmounted", "remounted", "ephemeral" }

return {
  params = {
    path = { type = "path", required = true, aliases = { "name" } },
    src = { type = "path" },
    fstype = { type = "string" },
    opts = { type = "string" },
    dump = { type = "string", default = "0" },
    passno = { type = "string", default = "0" },
    fstab = { type = "string" },
    boot = { type = "boolean", default = true },
    backup = { type = "boolean", default = false },
    state = { type = "string", required = true, choices = STATES },
  },
  check_args = function(args, all)
    local st = all.state
    if (st == "mounted" or st == "present" or st == "ephemeral") and not (all.src and all.fstype) then
      return nil, "state=" .. tostring(st) .. " needs arguments 'src' and 'fstype'"
    end
    if args.path and args.path:find("\n") then return nil, "argument 'path' must be one line" end
    for _, k in ipairs({ "src", "fstype", "opts", "dump", "passno", "fstab" }) do
      if args[k] and args[k]:find("\n") then return nil, "argument '" .. k .. "' must be one line" end
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local a = { name = args.path, opts = args.opts or "defaults", dump = args.dump, passno = args.passno,
      fstab = args.fstab or "/etc/fstab", boot = "yes", src = args.src, fstype = args.fstype, backup_file = "" }
    local warnings = {}
    local opts = {}
    for o in a.opts:gmatch("[^,]+") do opts[#opts + 1] = o end
    local has = {}
    for _, o in ipairs(opts) do has[o] = true end
    if has.noauto then warnings[#warnings + 1] = "Ignore the 'boot' due to 'opts' contains 'noauto'."
    elseif not args.boot then
      a.boot = "no"
      if has.defaults then warnings[#warnings + 1] = "Ignore the 'boot' due to 'opts' contains 'defaults'."
      else opts[#opts + 1] = "noauto"; a.opts = table.concat(opts, ",") end
    end
    a.warnings = warnings
    local p, fq = q(a.name), q(a.fstab)
    local out = ctx:run(table.concat({
      "for t in mount umount; do command -v $t >/dev/null 2>&1 || echo MISSING:$t; done",
      "p=" .. p,
      "if [ -e \"$p\" ]; then echo EXISTS; if [ \"$(stat -c %d -- \"$p\")\" != \"$(stat -c %d -- \"$p/..\")\" ] ||"
        .. " [ \"$(stat -c %i -- \"$p\")\" = \"$(stat -c %i -- \"$p/..\")\" ]; then echo ISMOUNT; fi; fi",
      "awk -v p=\"$p\" '$5 == p { for (i = 7; i <= NF; i++) if ($i == \"-\") { print \"MI:\" $(i+2); break } }'"
        .. " /proc/self/mountinfo 2>/dev/null",
      "[ -f " .. fq .. " ] && { echo FSTAB; cat -- " .. fq .. "; }",
      "exit 0",
    }, "\n") .. "\n").stdout or ""
    local head, fstab = out:match("^(.-)FSTAB\n(.*)$")
    head = head or out
    local has_fstab = fstab ~= nil
    fstab = fstab or ""
    local exists, ismount = head:find("EXISTS\n", 1, true) ~= nil, head:find("ISMOUNT\n", 1, true) ~= nil
    local mi_src = head:match("MI:([^\n]*)")
    local function missing(t) return head:find("MISSING:" .. t, 1, true) ~= nil end
    local mounted = ismount or mi_src ~= nil
    local function mounted_with_src() return ismount or (mi_src ~= nil and (a.src == nil or mi_src == a.src)) end

    local state = args.state
    local new, changed = fstab, false
    local cmds, need = {}, {}
    local T = (a.fstab ~= "/etc/fstab") and (" -T " .. fq) or ""
    local function remount()
      local o = (state == "remounted" and a.opts ~= "defaults") and ("remount," .. a.opts) or "remount"
      need.mount = true
      if state == "remounted" and a.opts ~= "defaults" then
        return "mount -o " .. q(o) .. T .. " " .. p
      end
      return "{ mount -o remount" .. T .. " " .. p .. " 2>/dev/null || { umount " .. p .. " && mount" .. T .. " "
        .. p .. "; }; }"
    end
    local write_fstab = false
    if state == "absent_from_fstab" or state == "absent" then
      new, changed = unset_entry(fstab, a)
      write_fstab = changed
      if changed and state == "absent" then
        if mounted then cmds[#cmds + 1] = "umount " .. p; need.umount = true end
        if exists then cmds[#cmds + 1] = "{ [ ! -e " .. p .. " ] || rmdir -- " .. p .. "; }" end
      end
    elseif state == "unmounted" then
      if mounted then changed = true; cmds[1] = "umount " .. p; need.umount = true end
    elseif state == "present" then
      new, changed = set_entry(fstab, a)
      write_fstab = changed
    elseif state == "mounted" or state == "ephemeral" then
      if not exists then cmds[#cmds + 1] = "mkdir -p -- " .. p end
      if state == "mounted" then new, changed = set_entry(fstab, a); write_fstab = changed end
      if mounted_with_src() then
        if changed then cmds[#cmds + 1] = remount() end
        if state == "ephemeral" then
          if mi_src ~= a.src and not ismount then
            return { failed = true, msg = "Ephemeral mount point is already mounted with a different source than"
              .. " the specified one." }
          end
          changed = true
          cmds[#cmds + 1] = remount()
        end
      else
        changed = true
        need.mount = true
        if state == "ephemeral" then
          cmds[#cmds + 1] = "mount -t " .. q(a.fstype) .. (a.opts ~= "defaults" and (" -o " .. q(a.opts)) or "")
            .. " " .. q(a.src) .. " " .. p
        else
          cmds[#cmds + 1] = "mount" .. T .. " " .. p
        end
      end
    elseif state == "remounted" then
      changed = true
      cmds[1] = remount()
    end
    for _, t in ipairs({ "mount", "umount" }) do
      if need[t] and missing(t) then
        return { failed = true, msg = t .. " not found on the host (util-linux's mount)" }
      end
    end
    local result = { changed = changed, name = a.name, opts = a.opts, dump = a.dump, passno = a.passno, fstab = a.fstab,
      boot = a.boot, warnings = warnings, backup_file = "", src = a.src, fstype = a.fstype }
    if write_fstab then result.diff = ctx:diff_result(fstab, new, a.fstab) end
    if not changed then return result end
    if ctx.check_mode then
      result.msg = "would " .. table.concat(write_fstab and { "write " .. a.fstab, table.unpack(cmds) } or cmds, "; ")
      return result
    end
    local s = { "f=" .. fq }
    if write_fstab then
      s[#s + 1] = "mkdir -p -- \"$(dirname -- \"$f\")\" && old=$(mktemp) &&"
        .. " { [ ! -f \"$f\" ] || cp -p -- \"$f\" \"$old\"; } &&"
        .. " t=$(mktemp \"$(dirname -- \"$f\")/.fstab.XXXXXX\") && cat > \"$t\" &&"
        .. " { if [ -e \"$f\" ]; then chmod --reference=\"$f\" \"$t\"; else chmod 0644 \"$t\"; fi; } &&"
        .. " mv -f -- \"$t\" \"$f\""
        .. " || { rm -f \"$t\"; exit 90; }"
      if args.backup and has_fstab then
        s[#s + 1] = "b=\"$f.$(date +%Y-%m-%d@%H:%M:%S~)\"; cp -p -- \"$old\" \"$b\" && echo \"B:$b\""
      end
    end
    if #cmds > 0 then
      s[#s + 1] = "if ! { " .. table.concat(cmds, " && ") .. "; } 2>&1; then"
      if write_fstab then
        -- the fstab as it was (none: an empty one stays, as Ansible creates it)
        s[#s + 1] = "  cat \"$old\" > \"$f\""
      end
      s[#s + 1] = "  rm -f \"${old:-}\"; exit 91; fi"
    end
    s[#s + 1] = "rm -f \"${old:-}\""
    local r = ctx:run(table.concat(s, "\n"), { stdin = write_fstab and new or "" })
    if not r.ok then
      local msg = ctx.chomp((r.stdout or ""):gsub("B:[^\n]*\n?", "") .. (r.stderr or ""))
      if r.rc == 90 then return { failed = true, msg = "cannot write " .. a.fstab .. ": " .. msg } end
      local verb = (state == "unmounted" or state == "absent") and "unmounting" or
        (state == "remounted" and "remounting" or "mounting")
      return { failed = true, changed = false, msg = "Error " .. verb .. " " .. a.name .. ": " .. msg }
    end
    result.backup_file = (r.stdout or ""):match("B:([^\n]+)") or ""
    return result
  end,
}
