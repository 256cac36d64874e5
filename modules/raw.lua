-- raw: a command line sent as it is, for hosts without Python or a module
-- layer, as Ansible's raw: no quoting, no /bin/sh -c of luasible's around
-- it — the remote user's login shell ($SHELL, else /bin/sh) reads the text,
-- or `executable -c TEXT`. Its output is registered as it came (no
-- stripping, as Ansible's). Always changed; skipped under --check (as
-- Ansible's). One round trip.
-- (luasible's SSH channel itself starts with a one-line POSIX printf of the
-- process group for its kill: a login shell that is no POSIX shell at all is
-- not reached; see docs/modules/raw.md.)
return {
  free_form = "cmd",
  params = {
    cmd = { type = "string", required = true },
    executable = { type = "string" },
    timeout = { type = "number" },
  },
  run = function(ctx, args)
    local argv
    if args.executable then argv = { args.executable, "-c", args.cmd }
    else
      -- the login shell of the user, read from the environment sshd gives it
      argv = { "/bin/sh", "-c", 'exec "${SHELL:-/bin/sh}" -c "$1"', "raw", args.cmd }
    end
    local res = ctx:run(argv, { timeout = args.timeout, stream = true })
    return { changed = true, failed = not res.ok, rc = res.rc, stdout = res.stdout or "", stderr = res.stderr or "",
      msg = (res.timed_out and "timed out") or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil }
  end,
}
