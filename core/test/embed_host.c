/* embed_host SCRIPT [ARGS...]: a host program that owns its event loop, a
 * plain poll(2) loop, and drives luasible only through luasible.poll_fd()
 * and luasible.step() (the embedding contract, docs/CORE.md).
 *
 * It runs SCRIPT (which starts luasible tasks and may return a function),
 * then loops: step, then poll the core's fd -- at most for the timeout step
 * gave, and at most 20 ms, its own work being a tick every 20 ms -- until
 * step says nothing is left.  Then it calls the script's function and prints
 * what it returns on stdout, and on stderr how the loop went:
 * "embed_host: steps=N ticks=N max_step_ms=X".  Exit status 0, or 1 with
 * the error on stderr. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#define TICK_MS 20

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* an error object's text too (luaL_tolstring): luasible's interrupts are
 * Error objects, tables with __tostring, not strings */
static int traceback(lua_State *L) {
  const char *msg = lua_isnoneornil(L, 1) ? "(no error object)" : luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls luasible[name] with no arguments, keeping `nres` results; 0 or an
 * error (printed). */
static int call(lua_State *L, int luasible, const char *name, int nres) {
  lua_pushcfunction(L, traceback);
  lua_getfield(L, luasible, name);
  if (lua_pcall(L, 0, nres, -2) != LUA_OK) {
    fprintf(stderr, "embed_host: luasible.%s: %s\n", name, lua_tostring(L, -1));
    return -1;
  }
  lua_remove(L, -nres - 1); /* the traceback function */
  return 0;
}

static int run(lua_State *L, const char *script, int argc, char **argv) {
  int luasible, finish, steps = 0, ticks = 0;
  double max_step = 0;
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, script) != LUA_OK) {
    fprintf(stderr, "embed_host: %s\n", lua_tostring(L, -1));
    return -1;
  }
  for (int i = 0; i < argc; i++) lua_pushstring(L, argv[i]);
  if (lua_pcall(L, argc, 1, -2 - argc) != LUA_OK) {
    fprintf(stderr, "embed_host: %s\n", lua_tostring(L, -1));
    return -1;
  }
  finish = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luasible");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "embed_host: %s\n", lua_tostring(L, -1));
    return -1;
  }
  luasible = lua_gettop(L);
  for (;;) {
    struct pollfd pfd;
    double t0 = now(), dt;
    int busy, ms, fd, rc;
    if (call(L, luasible, "step", 2) != 0) return -1;
    dt = now() - t0;
    if (dt > max_step) max_step = dt;
    steps++;
    busy = lua_toboolean(L, -2);
    ms = lua_isnil(L, -1) ? -1 : (int)ceil(lua_tonumber(L, -1) * 1000);
    lua_pop(L, 2);
    if (!busy) break;
    if (call(L, luasible, "poll_fd", 1) != 0) return -1;
    fd = (int)luaL_optinteger(L, -1, -1);
    lua_pop(L, 1);
    if (ms < 0 || ms > TICK_MS) ms = TICK_MS;
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, fd >= 0 ? 1 : 0, ms);
    if (rc == 0) ticks++; /* the host's own work would go here */
  }
  fprintf(stderr, "embed_host: steps=%d ticks=%d max_step_ms=%.1f\n", steps, ticks,
          max_step * 1000);
  if (lua_isfunction(L, finish)) {
    lua_pushcfunction(L, traceback);
    lua_pushvalue(L, finish);
    if (lua_pcall(L, 0, 1, -2) != LUA_OK) {
      fprintf(stderr, "embed_host: %s\n", lua_tostring(L, -1));
      return -1;
    }
    if (lua_isstring(L, -1)) fputs(lua_tostring(L, -1), stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  lua_State *L;
  int rc;
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  rc = run(L, argv[1], argc - 2, argv + 2);
  lua_close(L);
  return rc == 0 ? 0 : 1;
}
