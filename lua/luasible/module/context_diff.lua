--- luasible.module.context_diff: the diff helpers of a module's ctx
-- (docs/TASKS.md, "Writing a module" and "Diffs"): ctx.diff is true when
-- the task shows what it changes (-D, diff: true; false for no_log); these
-- build the result's `diff` in Ansible's shape. Installed on the ctx's
-- methods by module/context.lua.
local difflib = require "luasible.util.diff"
local mode = require "luasible.module.mode"
local shell = require "luasible.util.shell"

local M = {}

--- Put the diff helpers on Ctx (module/context.lua's method table).
function M.install(Ctx)

  Ctx.MAX_DIFF_SIZE = difflib.MAX_SIZE -- 104448 bytes, Ansible's max_diff_size: a bigger text is not diffed

  --- A result's diff entry, in Ansible's shape, or nil when the task is not
  --- in diff mode (ctx.diff false). before/after: the old and new text
  --- (strings; "" for a file not there yet), or mappings (a file's
  --- attributes: { path =, mode = "0644", state = ... }, shown as JSON), or
  --- false for a text not read because it is larger than MAX_DIFF_SIZE (the
  --- entry says so, as Ansible's dst_larger/src_larger). A text over that
  --- size, or with a NUL byte, is not diffed either (src_larger, src_binary
  --- ...). header / after_header: the names shown (`before: HEADER`); a nil
  --- header shows `before`. Put it (or a list of them) in the result's `diff`.
  function Ctx:diff_result(before, after, header, after_header)
    if not self.diff then return nil end
    local d = self.object()
    local function put(v, side, tag)
      if v == false or (type(v) == "string" and #v > difflib.MAX_SIZE) then d[tag .. "_larger"] = difflib.MAX_SIZE
      elseif type(v) == "string" and v:find("\0", 1, true) then d[tag .. "_binary"] = 1
      else d[side] = v or "" end
    end
    put(before, "before", "dst")
    put(after, "after", "src")
    if d.before ~= nil and d.after ~= nil then
      d.before_header, d.after_header = header, after_header or header
    end
    return d
  end

  --- The text of a host's file for a diff: "" when `st` (its ctx:stat) is
  --- nil (not there), false when it is larger than MAX_DIFF_SIZE (not read).
  function Ctx:diff_read(p, st)
    if not st then return "" end
    if (tonumber(st.size) or 0) > difflib.MAX_SIZE then return false end
    return self:run({ "cat", "--", p }).stdout
  end

  --- The attributes part of a diff, as Ansible's modules show it: before and
  --- after mappings of what changes of mode ("0644"), owner and group
  --- (numeric ids); `path` added when given. st: the ctx:stat of the file;
  --- want: { mode=, owner=, group= }.
  function Ctx:diff_attrs(p, st, want, is_dir)
    local before, after = self.object({ path = p }), self.object({ path = p })
    if not st then return before, after end
    if want.mode then
      local have = tonumber(st.mode, 8)
      local bits = have and mode.bits(want.mode, have, is_dir)
      if bits and bits ~= have then
        before.mode, after.mode = string.format("0%03o", have), string.format("0%03o", bits)
      end
    end
    local function id(kind, v, cur)
      if v == nil then return nil end
      if tostring(v):match("^%d+$") then return tonumber(v) end
      local out, rc = self:sh(kind == "owner" and ("id -u -- " .. shell.quote(v))
        or ("getent group " .. shell.quote(v) .. " | cut -d: -f3"))
      return rc == 0 and tonumber(out) or cur
    end
    local uid, gid = id("owner", want.owner, st.uid), id("group", want.group, st.gid)
    if uid and uid ~= tonumber(st.uid) then before.owner, after.owner = tonumber(st.uid), uid end
    if gid and gid ~= tonumber(st.gid) then before.group, after.group = tonumber(st.gid), gid end
    return before, after
  end
end

return M
