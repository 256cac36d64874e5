--- luasible.play.vars_prompt: a YAML play's `vars_prompt:` answered when
-- the playbook is read, before anything runs (play/playbook.lua): a
-- variable given with -e is not asked for (as Ansible); else the person at
-- the terminal is asked (util/prompt.lua: echo off for `private`, the
-- default; twice with `confirm`), and with no terminal the `default` is
-- taken or the play is refused: one line naming the variable and its
-- file:line. An answer to a private prompt is a secret (never in an event,
-- a log, a message). The answers are play vars, under vars_files.
local S = require "luasible.util.schema"
local yaml = require "luasible.yaml"
local prompt = require "luasible.util.prompt"

local M = {}

local KEYS = { name = true, prompt = true, private = true, default = true, confirm = true, encrypt = true,
  salt_size = true, salt = true, unsafe = true }
local KEY_LIST = "name, prompt, private, default, confirm, encrypt, salt, salt_size, unsafe"

-- `encrypt:` the answer as a crypt(3) hash (the password_hash filter's
-- hashing: sha512_crypt, sha256_crypt, md5_crypt; salt, salt_size), as
-- Ansible's vars_prompt without passlib; nil, err for what it refuses
local function hashed(value, e)
  local template = require "luasible.template"
  local function given(x) if x == nil or yaml.is_null(x) then return template.none end return x end
  local scope = { v = tostring(value), algo = e.encrypt, salt = given(e.salt), n = given(e.salt_size) }
  return template.eval("v | password_hash(algo, salt, n)", scope)
end

--- Put the answers of p.vars_prompt into vars. rd: play/playbook_read
--- (raise, where), r the file's reader, label the play's, opts: extra_vars,
--- no_prompt (--syntax-check, --list-*: nobody is asked).
function M.read(rd, r, p, vars, label, opts)
  local list = p.vars_prompt
  if list == nil or yaml.is_null(list) then return end
  local raise, where = rd.raise, rd.where
  if not rd.is_seq(list) then
    raise(where(r, p, "vars_prompt") .. label .. ": vars_prompt must be a list of prompts, got " .. S.show(list))
  end
  local extra = opts.extra_vars or {}
  for i, e in ipairs(list) do
    local at = where(r, list, i) .. label .. ", vars_prompt " .. i
    if not rd.is_map(e) then raise(at .. ": a prompt must be a mapping with name:, got " .. S.show(e)) end
    for _, k in ipairs(rd.keys_of(e)) do
      if not KEYS[k] then raise(where(r, e, k) .. label .. ", vars_prompt " .. i .. ": unknown key "
        .. S.quote(tostring(k)) .. " (" .. KEY_LIST .. ")") end
    end
    local name = e.name
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
      raise(at .. ": name must be a variable name, got " .. S.show(name))
    end
    local private = rd.keyword_value("become", e.private)
    if private == nil or yaml.is_null(private) then private = true end
    local confirm = rd.keyword_value("become", e.confirm) == true
    local default = e.default
    if yaml.is_null(default) then default = nil end
    if e.encrypt ~= nil and type(e.encrypt) ~= "string" then
      raise(where(r, e, "encrypt") .. label .. ", vars_prompt " .. i .. ": encrypt must be a hash name"
        .. " (sha512_crypt, sha256_crypt, md5_crypt), got " .. S.show(e.encrypt))
    end
    if e.encrypt == nil and (e.salt ~= nil or e.salt_size ~= nil) then
      raise(where(r, e, e.salt ~= nil and "salt" or "salt_size") .. label .. ", vars_prompt " .. i
        .. ": salt and salt_size go with encrypt:")
    end
    if extra[name] == nil then
      local text = type(e.prompt) == "string" and e.prompt or name
      local value
      if prompt.interactive() and not opts.no_prompt then
        for _ = 1, 3 do
          local shown = text .. (default ~= nil and (" [" .. tostring(default) .. "]") or "") .. ": "
          local a, err = prompt.ask(shown, { echo = not private })
          if not a then raise(at .. " (" .. name .. "): no answer: " .. err) end
          if confirm then
            local b = prompt.ask("confirm " .. shown, { echo = not private })
            if b ~= a then
              io.stderr:write("***** VALUES ENTERED DO NOT MATCH ****\n")
              a = nil
            end
          end
          if a ~= nil then value = a break end
        end
        if value == nil then raise(at .. " (" .. name .. "): the values entered did not match") end
        if value == "" and default ~= nil then value = default end
      elseif default ~= nil then
        value = default
      elseif not opts.no_prompt then
        raise(at .. ": the variable " .. S.quote(name) .. " needs an answer: no terminal to ask on (stdin is not"
          .. " a terminal) and no -e " .. name .. "=... nor default")
      end
      if value ~= nil then
        if private then require("luasible.vault").reveal(tostring(value), true) end
        if e.encrypt ~= nil then
          local h, herr = hashed(value, e)
          if h == nil then raise(where(r, e, "encrypt") .. label .. ", vars_prompt " .. i .. ": " .. tostring(herr)) end
          value = h
        end
        vars[name] = value
        -- unsafe: the answer is data, never a template ("{{" in a password)
        yaml.set_unsafe(vars, name, rd.keyword_value("become", e.unsafe) == true and "value" or nil)
      end
    end
  end
end

return M
