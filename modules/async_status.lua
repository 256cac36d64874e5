-- async_status: the state of an async job (a task run with `async:` and
-- `poll: 0`) on the host, as Ansible's: started, finished (0 while it
-- runs, 1 once it ended), ansible_job_id, results_file; once finished the
-- command's rc, stdout, stderr (failed when rc is not 0). mode=cleanup
-- removes the job's folder (erased). Used with until/retries:
--   until: job.finished
return {
  params = {
    jid = { type = "string", required = true },
    mode = { type = "string", default = "status", choices = { "status", "cleanup" } },
  },
  check_mode = true,
  run = function(ctx, args)
    return ctx:async_job(args.jid, args.mode)
  end,
}
