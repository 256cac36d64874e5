--- luasible.vault.secrets: where vault passwords come from, as Ansible's
-- CLI takes them (ansible/cli/__init__.py setup_vault_secrets and the
-- secret classes of ansible/parsing/vault):
--
--   --vault-id label@source   source: a file, an executable file (a script,
--                              run; its stdout is the password), "prompt"
--   --vault-id source         the same with the label "default"
--   --vault-password-file F   default@F (after every --vault-id)
--   --ask-vault-pass          default@prompt (last)
--
-- A file's content is stripped of surrounding whitespace; a script's stdout
-- of surrounding newlines; a prompt's answer of surrounding whitespace. A
-- script whose name ends in "-client" (before its extension) is a client
-- script: it is run with --vault-id LABEL, and its exit status 2 means it
-- has no secret for that label. The password is never put on a command
-- line (a script is given only the label). Returns keyrings for
-- luasible.vault: { {id =, secret =, source =}, ... } in that order.
local fs = require "luasible.util.fs"
local shell = require "luasible.util.shell"

local M = {}

local DEFAULT = "default"

--- Where the config file's vault_password_file setting comes in: the
--- config loader (not yet written) sets M.config.password_file, read as a
--- --vault-password-file given after the others, as Ansible's
--- DEFAULT_VAULT_PASSWORD_FILE; M.config.identity_list, a list of
--- label@source, comes before --vault-id, as DEFAULT_VAULT_IDENTITY_LIST.
M.config = { password_file = nil, identity_list = nil }

--- label@source -> label (nil when there is no "@"), source
function M.split_id(slug)
  local label, source = slug:match("^(.-)@(.*)$")
  if not label then return nil, slug end
  return label, source
end

local function strip(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function strip_nl(s) return (s:gsub("^[\r\n]+", ""):gsub("[\r\n]+$", "")) end

--- Is the file's name that of a client script (name-client or name-client.ext)?
function M.is_client(file)
  local base = file:match("([^/]*)$")
  local stem = base:match("^(.+)%.[^.]*$") or base
  return stem:sub(-7) == "-client"
end

-- Run a password script: its stdout, or nil, err. stdin and stderr are the
-- terminal's, so a script can ask for the password itself.
local function run_script(file, label)
  local cmd = shell.quote(file:sub(1, 1) == "/" and file or "./" .. file) -- never looked up in PATH
  local client = M.is_client(file)
  if client and label then cmd = cmd .. " --vault-id " .. shell.quote(label) end
  local p, perr = io.popen(cmd, "r")
  if not p then
    return nil, ("Problem running vault password script %s (%s). If this is not a script, remove the"
      .. " executable bit from the file."):format(file, tostring(perr))
  end
  local out = p:read("a") or ""
  local _, how, code = p:close()
  if how == "exit" and code == 2 and client then
    return nil, ("Vault password client script %s did not find a secret for vault-id=%s"):format(file, tostring(label))
  end
  if how ~= "exit" or code ~= 0 then
    return nil, ("Vault password script %s returned non-zero (%s)"):format(file,
      how == "exit" and tostring(code) or ("signal " .. tostring(code)))
  end
  out = strip_nl(out)
  if out == "" then return nil, "Invalid vault password was provided from script (" .. file .. ")" end
  return out
end

--- The password of a file source: the file's content, or the output of the
--- file run when it is executable. Returns it, or nil, err.
function M.from_file(file, label)
  local st, serr = fs.stat(file)
  if not st then
    if tostring(serr):match("^ENOENT") then return nil, "The vault password file " .. file .. " was not found" end
    return nil, "Could not read vault password file " .. file .. ": " .. tostring(serr)
  end
  if st.type == "file" and st.mode & 73 ~= 0 then return run_script(file, label) end -- 0111
  local text, err = fs.read(file)
  if not text then return nil, "Could not read vault password file " .. file .. ": " .. tostring(err) end
  local pw = strip_nl(strip(text))
  if pw == "" then return nil, "Invalid vault password was provided from file (" .. file .. ")" end
  return pw
end

-- One line read from the terminal with echo off (/dev/tty, as getpass), or
-- from stdin when there is no terminal. nil at end of input.
local function read_hidden(prompt)
  local tty = io.open("/dev/tty", "r+")
  if tty then
    tty:write(prompt)
    tty:flush()
    local quiet = os.execute("stty -echo </dev/tty 2>/dev/null")
    local ok, line = pcall(tty.read, tty, "l")
    if quiet then os.execute("stty echo </dev/tty 2>/dev/null") end
    tty:write("\n")
    tty:close()
    if not ok then return nil end
    return line
  end
  io.stderr:write(prompt)
  io.stderr:flush()
  return io.stdin:read("l")
end
M.read_hidden = read_hidden

--- Ask for a password (twice, the same, when confirm). Returns it or nil, err.
function M.prompt(prompts, label, reader)
  reader = reader or read_hidden
  local first
  for i, fmt in ipairs(prompts) do
    local line = reader((fmt:gsub("%%%(vault_id%)s", (label:gsub("%%", "%%%%")))))
    if line == nil then return nil, "EOFError (ctrl-d) on prompt for (" .. label .. ")" end
    if line == "" then return nil, "Invalid vault password was provided" end
    line = strip(line)
    if i == 1 then first = line
    elseif line ~= first then return nil, "Passwords do not match" end
  end
  return first
end

--- The keyring of a set of options (Ansible's setup_vault_secrets):
--- opts.vault_ids (list of label@source), opts.password_files (list),
--- opts.ask (--ask-vault-pass), opts.new (asking for a new password: the
--- prompt asks twice), opts.auto_prompt (ask when nothing else is given: the
--- vault command's way), opts.reader (the prompt's line reader),
--- opts.warn(msg). Returns the keyring, or nil, err (a source that failed
--- when no other gave a secret).
function M.keyring(opts)
  local warn = opts.warn or function(msg) io.stderr:write("[WARNING]: ", msg, "\n") end
  local slugs = {}
  for _, s in ipairs(M.config.identity_list or {}) do slugs[#slugs + 1] = s end
  for _, s in ipairs(opts.vault_ids or {}) do slugs[#slugs + 1] = s end
  local files = {}
  for _, f in ipairs(opts.password_files or {}) do files[#files + 1] = f end
  if M.config.password_file then files[#files + 1] = M.config.password_file end
  for _, f in ipairs(files) do slugs[#slugs + 1] = DEFAULT .. "@" .. f end
  if opts.ask or (#slugs == 0 and opts.auto_prompt) then slugs[#slugs + 1] = DEFAULT .. "@prompt_ask_vault_pass" end
  local formats = opts.new and {
    prompt = { "New vault password (%(vault_id)s): ", "Confirm new vault password (%(vault_id)s): " },
    prompt_ask_vault_pass = { "New Vault password: ", "Confirm New Vault password: " },
  } or { prompt = { "Vault password (%(vault_id)s): " }, prompt_ask_vault_pass = { "Vault password: " } }
  local ring, last_err = {}, nil
  for _, slug in ipairs(slugs) do
    local label, source = M.split_id(slug)
    if source:find(";", 1, true) or (label and label:find(";", 1, true)) then
      return nil, "'" .. slug .. "' is not a valid vault id. The character ';' is not allowed in vault ids"
    end
    if source == "prompt" or source == "prompt_ask_vault_pass" then
      local id = (label and label ~= "") and label or DEFAULT
      local pw, err = M.prompt(formats[source], id, opts.reader)
      if not pw then return nil, "Error in vault password prompt (" .. id .. "): " .. err end
      ring[#ring + 1] = { id = id, secret = pw, source = "prompt" }
    else
      local pw, err = M.from_file(source, label)
      if pw then
        ring[#ring + 1] = { id = (label and label ~= "") and label or DEFAULT, secret = pw, source = source }
      else
        warn("Error getting vault password file (" .. tostring(label) .. "): " .. err)
        last_err = err
      end
    end
  end
  if #ring == 0 and last_err then return nil, last_err end
  return ring
end

--- The entry of ring to encrypt with: the one labelled encrypt_id, else the
--- only one. Returns it, or nil, err.
function M.for_encrypt(ring, encrypt_id)
  if encrypt_id then
    for _, e in ipairs(ring) do if e.id == encrypt_id then return e end end
    local ids = {}
    for _, e in ipairs(ring) do ids[#ids + 1] = "'" .. e.id .. "'" end
    return nil, ("Did not find a match for --encrypt-vault-id=%s in the known vault-ids [%s]"):format(
      encrypt_id, table.concat(ids, ", "))
  end
  if #ring > 1 then
    local ids = {}
    for _, e in ipairs(ring) do ids[#ids + 1] = e.id end
    return nil, ("The vault-ids %s are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id")
      :format(table.concat(ids, ","))
  end
  if #ring == 0 then return nil, "A vault password is required to use Ansible's Vault" end
  return ring[1]
end

return M
