-- An end-to-end deployment: files, a template, a build step that streams its
-- output with progress, a service-like background process started and checked.
--
--   lua5.4 examples/loopback.lua                                  # web1..web3 over SSH (a throwaway sshd)
--   bin/luasible run examples/deploy.lua -i examples/local.ini     # the same on the local connection
--   bin/luasible run examples/deploy.lua -i examples/local.ini --tags stop   # stop the demo app again
--   bin/luasible run examples/deploy.lua -i examples/inventory.ini # your own sshd on 127.0.0.1:22
return {
  name = "deploy demo app",
  hosts = "web",
  gather_facts = true,
  vars = {
    app_name = "demo",
    app_root = "{{ demo_root | default('/tmp/luasible-demo') }}",
    app_dir = "{{ app_root }}/{{ inventory_hostname }}",
    app_port = 8000,
    app_debug = false,
    app_features = { "greeting", "metrics" },
  },
  tasks = {
    { name = "create the app folder", file = { path = "{{ app_dir }}", state = "directory", mode = "0755" } },
    { name = "install the service script",
      copy = { src = "app.sh", dest = "{{ app_dir }}/app.sh", mode = "0755" }, notify = "restart app" },
    { name = "render the config",
      template = { src = "app.conf.tmpl", dest = "{{ app_dir }}/app.conf", mode = "0644" }, notify = "restart app" },
    { name = "write the release note", copy = {
      content = "{{ app_name }} deployed on {{ ansible_hostname }} ({{ ansible_distribution }})\n",
      dest = "{{ app_dir }}/RELEASE" } },
    { name = "build (streams output and progress)", streaming_shell = {
      cmd = "for i in 1 2 3 4 5; do echo \"compiling unit $i/5 ($((i*20))%)\"; sleep 0.2; done; echo build ok",
      chdir = "{{ app_dir }}" }, register = "build", tags = "build" },
    { name = "check the build",
      debug = { msg = "build printed {{ build.lines }} lines in {{ build.duration | round(2) }}s" },
      tags = "build", when = "build is not skipped" },
    { name = "is the app running?", shell = "kill -0 $(cat {{ app_dir | quote }}/app.pid 2>/dev/null) 2>/dev/null",
      register = "running", failed_when = false, changed_when = false, check_mode = false },
    { name = "start the app", when = "running.rc != 0", shell = {
      cmd = "nohup setsid ./app.sh ./app.conf >/dev/null 2>&1 & echo $! > app.pid", chdir = "{{ app_dir }}" } },
    -- with --check a stopped app is not started: nothing to wait for or check
    { name = "wait for the heartbeat", wait_for = { path = "{{ app_dir }}/heartbeat", timeout = 10 },
      when = "not (ansible_check_mode and running.rc != 0)" },
    { name = "health check (a user module from library/)", app_health = { dir = "{{ app_dir }}" },
      retries = 5, delay = 1, ["until"] = "result is succeeded",
      when = "not (ansible_check_mode and running.rc != 0)" },
    { name = "stop the app (only with --tags stop)", tags = { "never", "stop" }, shell =
      "f={{ app_dir | quote }}/app.pid; if [ -f \"$f\" ]; then "
      .. "kill -TERM -$(cat \"$f\") 2>/dev/null || kill $(cat \"$f\") 2>/dev/null; rm -f \"$f\"; echo stopped; fi",
      changed_when = "'stopped' in result.stdout", check_mode = false },
  },
  handlers = {
    { name = "restart app", shell = { cmd = "test -f app.pid && { kill -TERM -$(cat app.pid) || kill $(cat app.pid); } "
      .. "2>/dev/null; "
      .. "nohup setsid ./app.sh ./app.conf >/dev/null 2>&1 & echo $! > app.pid", chdir = "{{ app_dir }}" } },
  },
}
