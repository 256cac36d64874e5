--- luasible.cli.vault: `luasible vault create|encrypt|decrypt|view|edit|
-- rekey|encrypt_string`, ansible-vault's commands with its arguments and
-- its outputs (the files are Ansible Vault 1.1/1.2, readable by both
-- tools); and the vault options of run/exec/inventory (M.add_options,
-- M.use_options), whose keyring the loaders decrypt with.
-- This file: the arguments, the keyrings an action needs, and main; the
-- actions themselves in cli/vault_actions.lua.
local vault = require "luasible.vault"
local secrets = require "luasible.vault.secrets"
local actions = require "luasible.cli.vault_actions"

local M = {}

local ACTIONS = { "create", "decrypt", "edit", "view", "encrypt", "encrypt_string", "rekey" }

--- The vault options of a command (ansible's add_vault_options).
function M.add_options(c)
  c:option("--vault-id", "The vault identity to use: label@source (source: a password file, a script, "
    .. "or 'prompt'). Repeatable."):count("*"):target("vault_ids")
  c:option("--vault-password-file --vault-pass-file", "A vault password file (an executable one is run). "
    .. "Repeatable."):count("*"):target("vault_password_files")
  c:flag("-J --ask-vault-password --ask-vault-pass", "Ask for the vault password."):target("ask_vault_pass")
end

local function add_common(c)
  M.add_options(c)
  c:flag("-v --verbose", "More output."):count("0-6")
end

function M.add_to_parser(parser)
  local v = parser:command("vault", "Encrypt and decrypt Ansible Vault files (ansible-vault's commands).")
  v:command_target("vault_action")
  local function files(c, what) c:argument("args", what or "Files (- for stdin).", nil):args("*") end
  local function output(c)
    c:option("--output", "Output file name for encrypt or decrypt; - for stdout."):target("output_file")
  end
  local function encrypt_id(c)
    c:option("--encrypt-vault-id", "The vault id to encrypt with (needed when several are given).")
  end
  local c = v:command("create", "Create a new vault encrypted file (with $EDITOR).")
  encrypt_id(c); add_common(c); files(c, "File name.")
  c = v:command("decrypt", "Decrypt vault encrypted files.")
  output(c); add_common(c); files(c)
  c = v:command("edit", "Edit a vault encrypted file (with $EDITOR).")
  encrypt_id(c); add_common(c); files(c, "File names.")
  c = v:command("view", "Show the plaintext of vault encrypted files.")
  add_common(c); files(c, "File names.")
  c = v:command("encrypt", "Encrypt files.")
  add_common(c); output(c); encrypt_id(c); files(c)
  c = v:command("encrypt_string", "Encrypt a string, as a YAML !vault value.")
  add_common(c); output(c); encrypt_id(c)
  c:argument("args", "Strings to encrypt (- or none: stdin).", nil):args("*")
  c:flag("-p --prompt", "Prompt for the string to encrypt."):target("encrypt_string_prompt")
  c:flag("--show-input", "Do not hide the input when prompted for the string."):target("show_string_input")
  c:option("-n --name", "The variable name (repeatable: one per string)."):count("*"):target("encrypt_string_names")
  c:option("--stdin-name", "The variable name for stdin."):target("encrypt_string_stdin_name")
  c = v:command("rekey", "Re-encrypt vault encrypted files with a new password.")
  add_common(c); encrypt_id(c)
  c:mutex(
    c:option("--new-vault-password-file", "The new vault password file for rekey."),
    c:option("--new-vault-id", "The new vault identity (label@source) for rekey."))
  files(c, "File names.")
end

---------------------------------------------------------------------------
-- run / exec / inventory: the keyring the loaders use
---------------------------------------------------------------------------

--- Build the run's keyring from args (no prompt unless --ask-vault-pass or
--- a prompt source, as ansible-playbook) and put it in use. true, or nil, err.
function M.use_options(args)
  if not (args.vault_ids and #args.vault_ids > 0) and not (args.vault_password_files and
      #args.vault_password_files > 0) and not args.ask_vault_pass and not secrets.config.password_file
      and not secrets.config.identity_list then
    return true
  end
  local ring, err = secrets.keyring({ vault_ids = args.vault_ids, password_files = args.vault_password_files,
    ask = args.ask_vault_pass, auto_prompt = false })
  if not ring then return nil, err end
  vault.use(ring)
  return true
end

local fail = actions.fail

-- the keyrings an action needs: ring (to decrypt), ring.encrypt, ring.new
local function keyrings(args, action, opts)
  local base = { vault_ids = args.vault_ids, password_files = args.vault_password_files,
    ask = args.ask_vault_pass, auto_prompt = true, reader = opts.reader }
  local ring = {}
  if action == "decrypt" or action == "view" or action == "rekey" or action == "edit" then
    local r, err = secrets.keyring(base)
    if not r then fail(err) end
    if #r == 0 then fail("A vault password is required to use Ansible's Vault") end
    ring = r
  end
  if action == "encrypt" or action == "encrypt_string" or action == "create" then
    base.new = true
    local r, err = secrets.keyring(base)
    if not r then fail(err) end
    ring = r
    local e, eerr = secrets.for_encrypt(r, args.encrypt_vault_id)
    if not e then fail(eerr) end
    ring.encrypt = e
  end
  if action == "rekey" then
    local ids = {}
    if args.new_vault_id then ids[1] = args.new_vault_id end
    local r, err = secrets.keyring({ vault_ids = ids, password_files = { args.new_vault_password_file },
      ask = args.ask_vault_pass, new = true, auto_prompt = true, reader = opts.reader })
    if not r then fail(err) end
    if #r == 0 then fail("A new vault password is required to use Ansible's Vault rekey") end
    local e, eerr = secrets.for_encrypt(r, args.encrypt_vault_id)
    if not e then
      if args.encrypt_vault_id then fail(eerr) end
      e = r[1]
    end
    ring.new = e
  end
  return ring
end

--- `luasible vault ACTION ...`: the exit status (0, or 1 with one line on
--- stderr). opts.reader: the prompt's line reader (specs).
function M.main(args, opts)
  opts = opts or {}
  local action = args.vault_action
  local function run()
    for _, id in ipairs(args.vault_ids or {}) do
      if id:find(";", 1, true) then
        fail("'" .. id .. "' is not a valid vault id. The character ';' is not allowed in vault ids")
      end
    end
    if args.output_file and #args.args > 1 then fail("At most one input file may be used with the --output option") end
    if action == "encrypt_string" then
      local dash = false
      for _, s in ipairs(args.args) do if s == "-" then dash = true end end
      args.read_stdin = dash or #args.args == 0 or args.encrypt_string_stdin_name ~= nil
      if args.encrypt_string_prompt and args.read_stdin then
        fail("The --prompt option is not supported if also reading input from stdin")
      end
    end
    local ring = keyrings(args, action, opts)
    actions.actions[action](args, ring, opts)
  end
  local ok, err = pcall(run)
  if ok then return 0 end
  if type(err) == "table" and err.vault_error then
    io.stderr:write("luasible: error: ", err.vault_error, "\n")
    return 1
  end
  error(err, 0)
end

M.ACTIONS = ACTIONS
return M
