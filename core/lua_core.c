/* luaopen_luasible_core: the context, the loop turn and the module table. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lua_core.h"
#include "process.h"
#include "ssh_session.h"

#define LSB_VERSION "0.1.0"

lsb_ctx *lsb_ctx_get(lua_State *L) {
  lsb_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
  if (!ctx) luaL_error(L, "luasible.core: no context");
  return ctx;
}

void lsb_waiter_set(lua_State *L, lsb_waitable *w, int idx) {
  lsb_waiter_clear(L, w);
  lua_pushvalue(L, idx);
  w->waiter_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

void lsb_waiter_release(lua_State *L, lsb_waitable *w) {
  lsb_ctx *ctx = w->ctx;
  lsb_waitable_unlink(w);
  if (w->waiter_ref == LUA_NOREF) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->released_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, w->waiter_ref);
  lua_rawseti(L, -2, ++ctx->n_released);
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, w->waiter_ref);
  w->waiter_ref = LUA_NOREF;
}

void lsb_waiter_clear(lua_State *L, lsb_waitable *w) {
  lsb_waitable_unlink(w);
  if (w->waiter_ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, w->waiter_ref);
    w->waiter_ref = LUA_NOREF;
  }
}

/* core.run_once([nowait]) -> alive, woken waiters...
 * One turn of the loop (blocking for I/O unless something is already woken
 * or nowait), then the waiters of everything that became ready. */
static int core_run_once(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  int n = 0, alive;
  uv_run_mode mode = UV_RUN_ONCE;
  /* UV_RUN_ONCE runs the timers that are due before it polls, and then
   * still blocks for I/O: a timer already due must not wait for I/O. */
  uv_update_time(ctx->loop);
  if (ctx->woken.wnext != &ctx->woken || ctx->n_released || lua_toboolean(L, 1) ||
      uv_backend_timeout(ctx->loop) == 0)
    mode = UV_RUN_NOWAIT;
  ctx->in_run = 1;
  alive = uv_run(ctx->loop, mode);
  ctx->in_run = 0;
  lua_pushboolean(L, alive || uv_loop_alive(ctx->loop));
  while (ctx->woken.wnext != &ctx->woken) {
    lsb_waitable *w = ctx->woken.wnext;
    lsb_waitable_unlink(w);
    if (w->waiter_ref == LUA_NOREF) continue;
    luaL_checkstack(L, 2, "too many woken waiters");
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->waiter_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, w->waiter_ref);
    w->waiter_ref = LUA_NOREF;
    n++;
  }
  if (ctx->n_released) {
    int t, k = ctx->n_released;
    ctx->n_released = 0;
    luaL_checkstack(L, k + 2, "too many released waiters");
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->released_ref);
    t = lua_gettop(L);
    for (int i = 1; i <= k; i++) lua_rawgeti(L, t, i);
    for (int i = 1; i <= k; i++) {
      lua_pushnil(L);
      lua_rawseti(L, t, i);
    }
    lua_remove(L, t);
    n += k;
  }
  return n + 1;
}

/* A caught signal ends the loop turn; its watchers stop, so that a second
 * one gets the default action (a second Ctrl-C kills a stuck cleanup). */
static void on_signal(uv_signal_t *h, int signum) {
  lsb_ctx *ctx = h->data;
  ctx->caught = signum;
  for (int i = 0; i < 3; i++) uv_signal_stop(&ctx->signals[i]);
  uv_stop(ctx->loop);
}

/* core.catch_signals(): from now on SIGINT, SIGTERM and SIGHUP interrupt
 * the loop instead of killing the process; core.caught() tells which. */
static int core_catch_signals(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; i++) {
    int err;
    if (!ctx->catching) {
      uv_signal_init(ctx->loop, &ctx->signals[i]);
      ctx->signals[i].data = ctx;
    }
    err = uv_signal_start(&ctx->signals[i], on_signal, sigs[i]);
    if (err) return lsb_fail_uv(L, err, "catch_signals");
    uv_unref((uv_handle_t *)&ctx->signals[i]); /* keeps nothing alive */
  }
  ctx->catching = 1;
  ctx->caught = 0;
  lua_pushboolean(L, 1);
  return 1;
}

/* core.caught() -> "INT" | "TERM" | "HUP" | nil, once per signal */
static int core_caught(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  char name[16];
  if (!ctx->caught) return 0;
  lua_pushstring(L, lsb_signame(ctx->caught, name, sizeof name));
  ctx->caught = 0;
  return 1;
}

/* core.wall() -> seconds since the epoch (float), for logs and JSON */
static int core_wall(lua_State *L) {
  uv_timeval64_t tv;
  if (uv_gettimeofday(&tv) != 0) return 0;
  lua_pushnumber(L, (double)tv.tv_sec + (double)tv.tv_usec / 1e6);
  return 1;
}

static int core_now(lua_State *L) {
  lua_pushnumber(L, lsb_now());
  return 1;
}

/* core.use_loop(lightuserdata uv_loop_t*): run on a host program's loop */
static int core_use_loop(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
  if (uv_loop_alive(ctx->loop))
    return luaL_error(L, "luasible.core.use_loop: the current loop is busy");
  ctx->loop = lua_touserdata(L, 1);
  return 0;
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static int ctx_gc(lua_State *L) {
  lsb_ctx *ctx = lua_touserdata(L, 1);
  /* every stream was finalized before; SSH sessions may still run */
  lsb_ssh_teardown_all(ctx);
  lsb_process_teardown_all(ctx);
  if (ctx->owns_loop) {
    /* every stream was finalized before: finish their close callbacks */
    uv_run(&ctx->own_loop, UV_RUN_NOWAIT);
    uv_walk(&ctx->own_loop, close_walk, NULL);
    uv_run(&ctx->own_loop, UV_RUN_DEFAULT);
    uv_loop_close(&ctx->own_loop);
    ctx->owns_loop = 0;
  }
  return 0;
}

static lsb_ctx *new_ctx(lua_State *L) {
  lsb_ctx *ctx;
  int err;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LSB_CTX_KEY) == LUA_TUSERDATA)
    return lua_touserdata(L, -1);
  lua_pop(L, 1);
  ctx = lua_newuserdatauv(L, sizeof *ctx, 0);
  memset(ctx, 0, sizeof *ctx);
  err = uv_loop_init(&ctx->own_loop);
  if (err != 0) luaL_error(L, "luasible.core: uv_loop_init: %s", uv_strerror(err));
  ctx->owns_loop = 1;
  ctx->loop = &ctx->own_loop;
  ctx->woken.wnext = ctx->woken.wprev = &ctx->woken;
  ctx->woken.ctx = ctx;
  ctx->woken.waiter_ref = LUA_NOREF;
  lua_newtable(L);
  ctx->released_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, LSB_CTX_KEY);
  return ctx;
}

__attribute__((visibility("default"))) int luaopen_luasible_core(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"spawn", lsb_core_spawn}, {"timer", lsb_core_timer},
      {"stream_iterator", lsb_core_stream_iterator},
      {"run_once", core_run_once}, {"now", core_now},
      {"use_loop", core_use_loop},
      {"ssh_connect", lsb_core_ssh_connect}, {"sha256", lsb_core_sha256},
      {"sha256_new", lsb_core_sha256_new}, {"chmod", lsb_core_chmod},
      {"catch_signals", core_catch_signals}, {"caught", core_caught},
      {"wall", core_wall}, {"create_private", lsb_core_create_private},
      {"file_mode", lsb_core_file_mode}, {NULL, NULL}};
  struct sigaction sa;
  /* a child that closes its stdin must not kill us with SIGPIPE */
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
  lsb_open_stream(L);
  lsb_open_timer(L);
  lsb_open_ssh(L); /* also libssh2_init */
  luaL_newlibtable(L, funcs);
  new_ctx(L);
  luaL_setfuncs(L, funcs, 1);
  lua_pushliteral(L, LSB_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
