/* core.syslog(priority, message): one line to the system log (syslog(3),
 * ident "luasible", facility user): the --syslog sink's. */
#include <syslog.h>

#include "lua_core.h"

static int core_syslog(lua_State *L) {
  static const char *const names[] = {"err", "warning", "notice", "info", "debug", NULL};
  static const int prios[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
  int p = luaL_checkoption(L, 1, NULL, names);
  const char *msg = luaL_checkstring(L, 2);
  openlog("luasible", LOG_PID | LOG_NDELAY, LOG_USER);
  syslog(LOG_USER | prios[p], "%s", msg);
  return 0;
}

const luaL_Reg lsb_syslog_funcs[] = {{"syslog", core_syslog}, {NULL, NULL}};
