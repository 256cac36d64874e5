--- luasible.render.terminal: the live terminal renderer. Runner events become
-- lines prefixed by their (coloured) host; on a terminal, one status line of
-- progress bars per host is redrawn below them; off a terminal, progress
-- becomes a line only when it says something new.
--   require("luasible.render.terminal").new{ out=, tty=, color=, verbose=, width= } -> on_event(ev)
local json = require "luasible.json"
local text = require "luasible.render.text"
local difflib = require "luasible.util.diff"

local M = {}

local PALETTE = { 36, 35, 34, 33, 32, 96, 95, 94, 93, 92 }
local STATUS_COLOR = { ok = 32, changed = 33, failed = 31, unreachable = 91, skipped = 36 }
local DIFF_COLOR = { add = 32, remove = 31, hunk = 36 } -- as Ansible's: green +, red -, cyan @@

--- The terminal renderer. opts: out (file), tty (bool: live redraws),
--- color (bool), verbose (0..), width (columns).
function M.new(opts)
  opts = opts or {}
  local out = opts.out or io.stdout
  local tty, color, verbose = opts.tty, opts.color, opts.verbose or 0
  local width = opts.width or tonumber(os.getenv("COLUMNS")) or 100
  local host_color, ncolors = {}, 0
  local progress, order = {}, {}
  local status_shown = false
  local last_plain = {}
  local last_line = {}
  local items_shown = {} -- host .. "\0" .. task: its loop items were printed one by one

  local function paint(code, s)
    if not color or not code then return s end
    return "\27[" .. code .. "m" .. s .. "\27[0m"
  end
  local function host_label(h)
    if not host_color[h] then
      ncolors = ncolors + 1
      host_color[h] = PALETTE[(ncolors - 1) % #PALETTE + 1]
    end
    return paint(host_color[h], h)
  end
  local function clear_status()
    if status_shown then out:write("\r\27[K"); status_shown = false end
  end
  local function line(s)
    clear_status()
    out:write(s, "\n")
  end
  -- The live status line: one bar per host with progress, fitted to the
  -- terminal width (full, then compact, then the first hosts and "+N").
  local last_draw = -math.huge
  local function draw_status(force, now)
    now = now or 0
    if not force and now - last_draw < 0.05 then return end -- at most 20 redraws a second
    last_draw = now
    local full, compact = {}, {}
    for _, h in ipairs(order) do
      local p = progress[h]
      if p then
        local pct = p.percentage and string.format("%3d%%", math.floor(p.percentage)) or (p.stage or "")
        local c = h .. " " .. pct
        if p.bytes_total and p.bytes_total > 0 then
          pct = pct .. " " .. text.bytes(p.bytes_done) .. "/" .. text.bytes(p.bytes_total)
        end
        full[#full + 1] = { h, " " .. text.bar(p.percentage, 12) .. " " .. pct }
        compact[#compact + 1] = { h, c:sub(#h + 1) }
      end
    end
    if #full == 0 then return clear_status() end
    local room = math.max(20, width - 1)
    local function fit(list)
      local parts, used = {}, 0
      for i, it in ipairs(list) do
        local n = #it[1] + #it[2] + (i > 1 and 2 or 0)
        local more = i < #list and #(" +" .. (#list - i) .. " more") or 0
        if used + n + more > room then
          return parts, #list - i + 1
        end
        parts[#parts + 1] = host_label(it[1]) .. it[2]
        used = used + n
      end
      return parts, 0
    end
    local parts, left = fit(full)
    if left > 0 then parts, left = fit(compact) end
    local s = table.concat(parts, "  ")
    if left > 0 then s = s .. " +" .. left .. " more" end
    out:write("\r\27[K", s)
    status_shown = true
  end
  -- --diff: a changed result's diff, as Ansible shows it (before the status line)
  local function show_diff(r, st)
    if st ~= "changed" or type(r.diff) ~= "table" then return end
    local s = difflib.render(r.diff, color and function(kind, l) return paint(DIFF_COLOR[kind], l) end or nil)
    if s ~= "" then
      clear_status()
      out:write(s)
    end
  end
  local function header(kind, name)
    local s = kind .. " [" .. tostring(name) .. "] "
    line("\n" .. paint("1", s .. string.rep("*", math.max(3, math.min(width, 80) - #s))))
  end

  return function(ev)
    local t = ev.type
    if t == "play_start" then
      header("PLAY", ev.play)
      if ev.hosts and #ev.hosts == 0 then line(paint(33, "skipping: no hosts matched")) end
    elseif t == "task_start" then
      header(ev.handler and "RUNNING HANDLER" or "TASK", ev.task)
    elseif t == "stdout" or t == "stderr" then
      local sep = t == "stderr" and paint(31, " ! ") or " | "
      last_line[ev.host] = ev.data
      line(host_label(ev.host) .. sep .. tostring(ev.data))
      if status_shown == false and tty and next(progress) then draw_status(true) end
    elseif t == "progress" then
      local p = ev.progress or {}
      if tty then
        local prev = progress[ev.host]
        if not prev then order[#order + 1] = ev.host end
        progress[ev.host] = p
        draw_status(not prev or prev.stage ~= p.stage, ev.timestamp)
      else
        -- not a terminal: one line at a stage change and each quarter, but
        -- none that only repeats the output line just printed, names a bare
        -- stage, says a transfer starts or a command ended (its result
        -- follows); a transfer's last line says how much moved
        local quarter = p.percentage and math.floor(p.percentage / 25)
        local key = (p.stage or "") .. ":" .. tostring(quarter)
        local msg = p.message
        if msg == p.stage or msg == last_line[ev.host] then msg = nil end
        local quiet = (p.stage == "transferring" and quarter == 0) or p.stage == "done"
          or (p.message ~= nil and p.message == last_line[ev.host])
          or (not p.percentage and not p.bytes_total and not msg)
        if last_plain[ev.host] ~= key then
          last_plain[ev.host] = key
          if not quiet then
            local s = host_label(ev.host) .. " " .. (p.stage or "progress")
            if p.percentage then s = s .. string.format(" %d%%", math.floor(p.percentage)) end
            if p.bytes_total then
              s = s .. " (" .. text.bytes(p.bytes_done) .. " of " .. text.bytes(p.bytes_total) .. ")"
            end
            if msg and msg ~= "" then s = s .. " " .. text.short(msg, 60) end
            line(s)
          end
        end
      end
    elseif t == "retry" then
      line(paint(33, "retrying: [" .. ev.host .. "] " .. tostring(ev.data)))
    elseif t == "item_result" then
      -- one loop item, as Ansible: ok: [h1] => (item=x) => msg
      items_shown[tostring(ev.host) .. "\0" .. tostring(ev.task)] = true
      local r = ev.result or {}
      local st = ev.status
      local label = ev.item == nil and "(item=hidden)" or "(item=" .. text.item(ev.item, 60) .. ")"
      if ev.label ~= nil and ev.item ~= nil then label = "(item=" .. text.item(ev.label, 60) .. ")" end -- loop_label
      local word = st == "failed" and r.ignored and "failed (ignored)" or st
      show_diff(r, st)
      local s = paint(STATUS_COLOR[st], word .. ":") .. " [" .. host_label(ev.host)
        .. (ev.delegated_to and (" -> " .. ev.delegated_to) or "") .. "]" -- delegate_to, as Ansible shows it
      if (st == "failed" or st == "unreachable") and r.msg then
        s = s .. " " .. label .. " " .. paint(STATUS_COLOR[st], tostring(r.msg))
      else
        s = s .. " => " .. label
        if r.msg ~= nil and (st ~= "skipped" or verbose > 0) then s = s .. " => " .. tostring(r.msg) end
      end
      line(s)
      if tty and next(progress) then draw_status(true) end
    elseif t == "host_task_result" then
      if progress[ev.host] then
        progress[ev.host] = nil
        for i, h in ipairs(order) do if h == ev.host then table.remove(order, i) break end end
      end
      last_plain[ev.host] = nil
      last_line[ev.host] = nil
      local r = ev.result or {}
      local st = ev.status
      local word = st
      if st == "failed" and r.ignored then word = "failed (ignored)" end
      local key = tostring(ev.host) .. "\0" .. tostring(ev.task)
      local shown = items_shown[key]
      items_shown[key] = nil
      -- a loop whose items were printed: only a failure gets a line of its own
      if shown and st ~= "failed" and st ~= "unreachable" and verbose < 2 then
        if tty and next(progress) then draw_status(true) end
        out:flush()
        return
      end
      show_diff(r, st)
      local s = paint(STATUS_COLOR[st], word .. ":") .. " [" .. host_label(ev.host)
        .. (ev.delegated_to and (" -> " .. ev.delegated_to) or "") .. "]"
      if r.item ~= nil then s = s .. " (item=" .. text.item(r.item, 40) .. ")" end
      local msg = r.msg
      if (st == "failed" or st == "unreachable") and msg then
        s = s .. " " .. paint(STATUS_COLOR[st], tostring(msg))
        if r.stderr and r.stderr ~= "" and verbose > 0 then s = s .. "\n  stderr: " .. r.stderr end
      elseif msg and msg ~= "" and st ~= "skipped" then
        s = s .. " => " .. tostring(msg)
      elseif st == "skipped" and verbose > 0 and msg then
        s = s .. " " .. msg
      end
      if r.results and not shown then
        for _, it in ipairs(r.results) do
          if it.failed and it.msg then s = s .. "\n  item " .. text.item(it.item, 40) .. ": " .. tostring(it.msg) end
        end
      end
      if verbose > 1 then s = s .. "\n  " .. json.encode(r) end
      line(s)
      -- a module's warnings (find's skipped paths, setup's bad fact files), as Ansible prints them
      if type(r.warnings) == "table" then
        for _, w in ipairs(r.warnings) do
          line(paint(35, "[WARNING]: " .. tostring(w):gsub("%s+$", "")))
        end
      end
      if tty and next(progress) then draw_status(true) end
    elseif t == "recap" then
      clear_status()
      header("PLAY RECAP", ev.elapsed and text.duration(ev.elapsed) or "")
      local hosts = {}
      for h in pairs(ev.recap or {}) do hosts[#hosts + 1] = h end
      table.sort(hosts)
      local w = 0
      local rescued -- the rescued column when a block rescued a host (play/blocks.lua)
      for _, h in ipairs(hosts) do w = math.max(w, #h); rescued = rescued or ev.recap[h].rescued end
      for _, h in ipairs(hosts) do
        local r = ev.recap[h]
        local function f(k, code)
          local v = r[k] or 0
          return paint(v > 0 and code or nil, string.format("%s=%-4d", k, v))
        end
        local cols = { f("ok", 32), f("changed", 33), f("unreachable", 91), f("failed", 31), f("skipped", 36) }
        if rescued then cols[#cols + 1] = f("rescued", 35) end
        cols[#cols + 1] = f("ignored", 35)
        line(host_label(h) .. string.rep(" ", w - #h) .. " : " .. table.concat(cols, " "))
      end
    elseif t == "warning" then -- (play/rolling.lua: run_once under strategy free, ...)
      line(paint(35, "[WARNING]: " .. (ev.host and ("[" .. ev.host .. "] ") or "") .. tostring(ev.data)))
    elseif t == "no_hosts_left" then
      line("\n" .. paint("1", "NO MORE HOSTS LEFT " .. string.rep("*", math.min(width, 80) - 19)))
    elseif t == "interrupted" then
      clear_status()
      line(paint(31, tostring(ev.data or ("interrupted (" .. tostring(ev.signal) .. ")"))))
    elseif t == "error" then
      line(paint(31, "ERROR: " .. tostring(ev.data or ev.error)))
    end
    out:flush()
  end
end

return M
