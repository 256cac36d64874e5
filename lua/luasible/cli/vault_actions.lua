--- luasible.cli.vault_actions: the actions of `luasible vault` (create,
-- encrypt, decrypt, view, edit, rekey, encrypt_string), each given the
-- parsed args and the keyrings cli/vault.lua built; and the file and
-- editor work they share.
-- Files are written whole or not at all: a private temporary file beside
-- the target, renamed onto it. An error a user can cause: fail(msg), an
-- error {vault_error = msg} that cli/vault.lua's main prints.
local vault = require "luasible.vault"
local secrets = require "luasible.vault.secrets"
local fs = require "luasible.util.fs"
local shell = require "luasible.util.shell"
local core = require "luasible.core"

---------------------------------------------------------------------------
-- files
---------------------------------------------------------------------------

local function fail(msg) error({ vault_error = msg }, 0) end

local function read_data(file)
  if file == "-" then return io.stdin:read("a") or "" end
  local text, err = fs.read(file)
  if not text then fail("Unable to read source file (" .. file .. "): " .. tostring(err)) end
  return text
end

-- A private name in the folder of `file` (created 0600, empty): the
-- temporary file a write goes through.
local function private_beside(file)
  local dir = file:match("^(.*)/[^/]*$") or "."
  local base = file:match("([^/]*)$")
  for _ = 1, 10 do
    local tmp = ("%s/.%s.luasible-%s.tmp"):format(dir, base, core.crypto.hex(core.crypto.random(6)))
    local ok, err, name = core.create_private(tmp)
    if ok then return tmp end
    if name ~= "EEXIST" then fail("Problem creating temporary vault file: " .. tostring(err)) end
  end
  fail("Problem creating temporary vault file beside " .. file)
end

-- Write data to file (or stdout for "-"): whole or not at all. mode: the
-- file's mode after (0600 unless given, as ansible-vault writes them).
local function write_data(data, file, mode)
  if file == "-" then
    io.stdout:write(data)
    io.stdout:flush()
    return
  end
  local tmp = private_beside(file)
  local f, err = io.open(tmp, "r+b")
  local ok = f and f:write(data) and f:flush()
  if f then f:close() end
  if not ok then
    os.remove(tmp)
    fail("Unable to write to temporary vault file: " .. tostring(err or "write failed"))
  end
  if mode and mode ~= 384 then core.chmod(tmp, mode) end
  local rok, rerr = os.rename(tmp, file)
  if not rok then
    os.remove(tmp)
    fail("Unable to write " .. file .. ": " .. tostring(rerr))
  end
end

-- The plaintext of vault file `file` (its envelope and the keyring entry
-- that opened it too).
local function open_file(file, ring)
  local text = read_data(file)
  local plain, entry, env = vault.decrypt(text, ring, file ~= "-" and file or nil)
  if not plain then fail(entry .. " for " .. file) end
  return plain, entry, env
end

local function realpath(file)
  if file == "-" then return file end
  return core.realpath(file) or file
end

---------------------------------------------------------------------------
-- the editor
---------------------------------------------------------------------------

-- Overwrite and remove a temporary file of plaintext (Ansible shreds it).
local function shred(file)
  local st = fs.stat(file)
  if st and st.type == "file" then
    local f = io.open(file, "r+b")
    if f then
      f:write(string.rep("\0", st.size))
      f:close()
    end
  end
  os.remove(file)
end

-- Run $EDITOR on `initial` in a private file (mode 0600, in a private
-- folder, with the file's extension), removed after; the text saved.
local function edit_text(initial, like)
  local tmpdir = os.getenv("TMPDIR") or "/tmp"
  local dir
  for _ = 1, 10 do
    local d = ("%s/luasible-vault-%s"):format(tmpdir, core.crypto.hex(core.crypto.random(8)))
    if core.mkdir(d, 448) then dir = d break end -- 0700
  end
  if not dir then fail("cannot make a private temporary folder in " .. tmpdir) end
  local ext = (like or ""):match("[^/](%.[^./]*)$") or ""
  local file = dir .. "/vault" .. ext
  local ok, err = core.create_private(file)
  local text
  if ok then
    local f = io.open(file, "r+b")
    ok = f and f:write(initial or "") and f:close()
    if ok then
      local argv = {}
      local words = shell.split(os.getenv("EDITOR") or "vi") or { { text = "vi" } }
      for _, w in ipairs(words) do argv[#argv + 1] = w.text end
      argv[#argv + 1] = file
      local ran, how, code = os.execute(shell.join(argv))
      if not ran and how == "exit" and code == 127 then
        err = "Unable to execute the command \"" .. shell.join(argv) .. "\""
      else
        text = fs.read(file)
      end
    end
  end
  shred(file)
  os.remove(dir)
  if not text then fail(err or "could not edit the temporary file") end
  return text
end

---------------------------------------------------------------------------
-- the actions
---------------------------------------------------------------------------

local function stderr_tty(msg)
  if fs.isatty(1) then io.stderr:write(msg, "\n") end
end

local A = {}

function A.create(args, ring)
  if #args.args ~= 1 then fail("ansible-vault create can take only one filename argument") end
  local file = args.args[1]
  local entry = assert(ring.encrypt)
  local dir = file:match("^(.*)/[^/]*$")
  if dir and dir ~= "" and not fs.stat(dir) then
    io.stderr:write("luasible: warning: ", dir, " does not exist, creating...\n")
    local ok, err = fs.mkdir_p(dir)
    if not ok then fail(err) end
  end
  local st = fs.stat(file)
  if st and st.type == "file" then fail(file .. " exists, please use 'edit' instead") end
  local text = edit_text(nil, file)
  write_data(assert(vault.encrypt(text, entry.secret, entry.id)), file)
end

function A.edit(args, ring)
  for _, f in ipairs(args.args) do
    local file = realpath(f)
    local plain, entry, env = open_file(file, ring)
    local st = fs.stat(file)
    local text = edit_text(plain, file)
    if text ~= plain or env.cipher ~= "AES256" then
      write_data(assert(vault.encrypt(text, entry.secret, env.id)), file, st and st.mode)
    end
  end
end

-- On a terminal through $PAGER (else less, with LESS=-FRSX unless set), as
-- ansible-vault view; otherwise to stdout.
local function page(text)
  if fs.isatty(1) then
    local pager = os.getenv("PAGER")
    local cmd = pager and pager ~= "" and pager or ("LESS=" .. shell.quote(os.getenv("LESS") or "-FRSX") .. " less")
    local p = io.popen(cmd, "w")
    if p then
      p:write(text)
      if p:close() then return end
    end
  end
  io.stdout:write(text)
  io.stdout:flush()
end

function A.view(args, ring)
  for _, f in ipairs(args.args) do page((open_file(f, ring))) end
end

function A.decrypt(args, ring)
  local list = #args.args > 0 and args.args or { "-" }
  if #args.args == 0 and fs.isatty(0) then io.stderr:write("Reading ciphertext input from stdin\n") end
  for _, f in ipairs(list) do
    local plain = open_file(realpath(f), ring)
    write_data(plain, args.output_file or realpath(f))
  end
  stderr_tty("Decryption successful")
end

function A.encrypt(args, ring)
  local list = #args.args > 0 and args.args or { "-" }
  if #args.args == 0 and fs.isatty(0) then io.stderr:write("Reading plaintext input from stdin\n") end
  local entry = ring.encrypt
  for _, f in ipairs(list) do
    local text, err = vault.encrypt(read_data(realpath(f)), entry.secret, entry.id)
    if not text then fail(err) end
    write_data(text, args.output_file or realpath(f))
  end
  stderr_tty("Encryption successful")
end

function A.rekey(args, ring)
  local new = ring.new
  for _, f in ipairs(args.args) do
    local file = realpath(f)
    local plain = open_file(file, ring)
    local st = fs.stat(file)
    write_data(assert(vault.encrypt(plain, new.secret, new.id)), file, st and st.mode)
  end
  io.stderr:write("Rekey successful\n")
end

-- the YAML of one encrypted string: [name: ]!vault | and the lines indented by 10
local function yaml_string(text, name)
  local lines = { (name and (name .. ": ") or "") .. "!vault |" }
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = string.rep(" ", 10) .. line end
  return table.concat(lines, "\n")
end

function A.encrypt_string(args, ring, opts)
  local entry = ring.encrypt
  local plain = {}
  local strs = {}
  for _, s in ipairs(args.args) do if s ~= "-" then strs[#strs + 1] = s end end
  local from_stdin = args.read_stdin
  if args.encrypt_string_prompt then
    local reader = opts.reader or secrets.read_hidden
    local name = opts.reader and reader("Variable name (enter for no name): ") or nil
    if not opts.reader then
      io.stderr:write("Variable name (enter for no name): ")
      name = io.stdin:read("l")
    end
    if name == "" then name = nil end
    local s
    if args.show_string_input then
      io.stderr:write("String to encrypt:")
      s = io.stdin:read("l")
    else
      s = reader("String to encrypt (hidden): ")
    end
    if s == nil or s == "" then fail("The plaintext provided from the prompt was empty, not encrypting") end
    plain[#plain + 1] = { s, "the interactive prompt", name }
  end
  if from_stdin then
    if fs.isatty(1) then
      io.stderr:write("Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does "
        .. "not already have a newline)\n")
    end
    local s = io.stdin:read("a") or ""
    if s == "" then fail("stdin was empty, not encrypting") end
    plain[#plain + 1] = { s, "stdin", args.encrypt_string_stdin_name }
  end
  local names = args.encrypt_string_names or {}
  if #names > 0 and #strs > #names then
    io.stderr:write("The number of --name options do not match the number of args.\n",
      'The last named variable will be "', names[#names], '". The rest will not have names.\n')
  end
  for i, s in ipairs(strs) do
    if s == "" then fail("The plaintext provided from the command line args was empty, not encrypting") end
    plain[#plain + 1] = { s, "the command line args", names[i] }
  end
  local outs = {}
  for i, p in ipairs(plain) do
    local text, err = vault.encrypt(p[1], entry.secret, entry.id)
    if not text then fail(err) end
    if #plain > 1 then
      if p[3] then
        io.stderr:write(('# The encrypted version of variable ("%s", the string #%d from %s).\n'):format(p[3], i, p[2]))
      else
        io.stderr:write(("# The encrypted version of the string #%d from %s.)\n"):format(i, p[2]))
      end
    end
    outs[#outs + 1] = yaml_string(text, p[3])
  end
  write_data(table.concat(outs, "\n"), args.output_file or "-")
  stderr_tty("Encryption successful")
end

return { actions = A, fail = fail }
