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
-- CMake builds the core (with hidden visibility: it exports
-- luaopen_luasible_core alone) and installs it with the whole Lua tree and
-- the task modules: no list of files to keep here.
build = {
  type = "cmake",
  variables = {
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    CMAKE_BUILD_TYPE = "RelWithDebInfo",
    LUASIBLE_LUADIR = "$(LUADIR)",
    LUASIBLE_LIBDIR = "$(LIBDIR)",
    LUASIBLE_TESTS = "OFF",
    LUA_INCDIR = "$(LUA_INCDIR)",
  },
  install = { bin = { luasible = "bin/luasible" } },
}
