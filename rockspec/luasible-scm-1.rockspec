-- luarocks --lua-version 5.4 make --tree DIR rockspec/luasible-scm-1.rockspec
-- (Debian's luarocks defaults to Lua 5.1; it works offline with this local rockspec)
rockspec_format = "3.0"
package = "luasible"
version = "scm-1"
source = { url = "git+file:///dev/null" } -- built from the working tree with `luarocks make`
description = {
  summary = "Agentless automation for Lua 5.4 with live, streaming output",
  detailed = [[
Run commands on this machine and on many hosts over SSH from Lua, and see every
output line, progress and error as it happens. A C core on libuv and libssh2,
task modules, an Ansible-compatible inventory, a runner and a CLI in Lua.
]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = {
  LIBUV = { header = "uv.h", library = "uv" },
  LIBSSH2 = { header = "libssh2.h", library = "ssh2" },
}
build = {
  type = "builtin",
  modules = {
    ["luasible.core"] = {
      sources = {
        "core/lua_core.c",
        "core/lua_process.c",
        "core/lua_ssh.c",
        "core/lua_stream.c",
        "core/lua_timer.c",
        "core/process.c",
        "core/sftp.c",
        "core/sha256.c",
        "core/splitter.c",
        "core/ssh_channel.c",
        "core/ssh_session.c",
        "core/stream.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L", "_DEFAULT_SOURCE" },
      libraries = { "uv", "ssh2" },
      incdirs = { "$(LIBUV_INCDIR)", "$(LIBSSH2_INCDIR)" },
      libdirs = { "$(LIBUV_LIBDIR)", "$(LIBSSH2_LIBDIR)" },
    },
    ["luasible.cli"] = "lua/luasible/cli/init.lua",
    ["luasible.cli.exec"] = "lua/luasible/cli/exec.lua",
    ["luasible.cli.run"] = "lua/luasible/cli/run.lua",
    ["luasible.connection"] = "lua/luasible/connection.lua",
    ["luasible"] = "lua/luasible/init.lua",
    ["luasible.json"] = "lua/luasible/json.lua",
    ["luasible.inventory"] = "lua/luasible/inventory.lua",
    ["luasible.module"] = "lua/luasible/module/init.lua",
    ["luasible.module.context"] = "lua/luasible/module/context.lua",
    ["luasible.module.params"] = "lua/luasible/module/params.lua",
    ["luasible.pattern"] = "lua/luasible/pattern.lua",
    ["luasible.render"] = "lua/luasible/render/init.lua",
    ["luasible.render.json"] = "lua/luasible/render/json.lua",
    ["luasible.render.terminal"] = "lua/luasible/render/terminal.lua",
    ["luasible.render.text"] = "lua/luasible/render/text.lua",
    ["luasible.runner"] = "lua/luasible/runner.lua",
    ["luasible.scheduler"] = "lua/luasible/scheduler.lua",
    ["luasible.ssh"] = "lua/luasible/ssh.lua",
    ["luasible.template"] = "lua/luasible/template.lua",
    ["luasible.transfer"] = "lua/luasible/transfer.lua",
    ["luasible.util.errors"] = "lua/luasible/util/errors.lua",
    ["luasible.util.fs"] = "lua/luasible/util/fs.lua",
    ["luasible.util.path"] = "lua/luasible/util/path.lua",
    ["luasible.util.shell"] = "lua/luasible/util/shell.lua",
    ["luasible.modules.apt"] = "modules/apt.lua",
    ["luasible.modules.command"] = "modules/command.lua",
    ["luasible.modules.copy"] = "modules/copy.lua",
    ["luasible.modules.debug"] = "modules/debug.lua",
    ["luasible.modules.fetch"] = "modules/fetch.lua",
    ["luasible.modules.file"] = "modules/file.lua",
    ["luasible.modules.lineinfile"] = "modules/lineinfile.lua",
    ["luasible.modules.package"] = "modules/package.lua",
    ["luasible.modules.ping"] = "modules/ping.lua",
    ["luasible.modules.service"] = "modules/service.lua",
    ["luasible.modules.setup"] = "modules/setup.lua",
    ["luasible.modules.shell"] = "modules/shell.lua",
    ["luasible.modules.streaming_shell"] = "modules/streaming_shell.lua",
    ["luasible.modules.systemd"] = "modules/systemd.lua",
    ["luasible.modules.template"] = "modules/template.lua",
    ["luasible.modules.wait_for"] = "modules/wait_for.lua",
  },
  install = { bin = { luasible = "bin/luasible" } },
}
