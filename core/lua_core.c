/* luaopen_luasible_core: the context, the loop turn (and what a host
 * program that owns the loop needs), signals, and the module table. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "luasible.h"
#include "lua_core.h"
#include "process.h"
#include "ssh_session.h"

lsb_ctx *lsb_ctx_get(lua_State *L) {
  lsb_ctx **ud = lua_touserdata(L, lua_upvalueindex(1));
  if (!ud || !*ud) luaL_error(L, "luasible.core: no context");
  return *ud;
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

static int has_woken(const lsb_ctx *ctx) {
  return ctx->woken.wnext != &ctx->woken || ctx->n_released;
}

/* Pushes the waiters of everything that became ready; returns how many. */
static int push_woken(lua_State *L, lsb_ctx *ctx) {
  int n = 0;
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
  return n;
}

/* core.run_once([nowait]) -> alive, woken waiters...
 * One turn of the loop (blocking for I/O unless something is already woken
 * or nowait), then the waiters of everything that became ready. */
static int core_run_once(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  int alive;
  uv_run_mode mode = UV_RUN_ONCE;
  /* UV_RUN_ONCE runs the timers that are due before it polls, and then
   * still blocks for I/O: a timer already due must not wait for I/O. */
  uv_update_time(ctx->loop);
  if (has_woken(ctx) || lua_toboolean(L, 1) || uv_backend_timeout(ctx->loop) == 0)
    mode = UV_RUN_NOWAIT;
  ctx->in_run = 1;
  alive = uv_run(ctx->loop, mode);
  ctx->in_run = 0;
  lua_pushboolean(L, alive || uv_loop_alive(ctx->loop));
  return 1 + push_woken(L, ctx);
}

/* core.woken() -> alive, woken waiters...
 * The same without turning the loop: for a host program that turns it
 * itself (core.use_loop), after each of its turns. */
static int core_woken(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  lua_pushboolean(L, uv_loop_alive(ctx->loop));
  return 1 + push_woken(L, ctx);
}

/* core.poll_fd() -> the loop's backend fd (readable when it has work), or
 * nil where there is none */
static int core_poll_fd(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  int fd = uv_backend_fd(ctx->loop);
  if (fd < 0) return 0;
  lua_pushinteger(L, fd);
  return 1;
}

/* core.timeout() -> seconds the loop may wait for I/O before its next timer
 * is due (0: something is due, or woken, now), or nil when no timer limits it */
static int core_timeout(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  int ms;
  if (has_woken(ctx)) {
    lua_pushnumber(L, 0);
    return 1;
  }
  uv_update_time(ctx->loop);
  ms = uv_backend_timeout(ctx->loop);
  if (ms < 0) return 0;
  lua_pushnumber(L, ms / 1000.0);
  return 1;
}

/* core.active() -> how many handles and requests keep the loop alive now
 * (timers, processes, connections...; closing ones and unreferenced ones
 * not counted) */
static int core_active(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  lua_pushinteger(L, (lua_Integer)ctx->loop->active_handles +
                         (lua_Integer)ctx->loop->active_reqs.count);
  return 1;
}

/* core.hosted() -> true when the core runs on a host program's loop */
static int core_hosted(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  lua_pushboolean(L, ctx->loop != &ctx->own_loop);
  return 1;
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
      ctx->signals_open++;
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

/* core.signal_name(n) -> "TERM" for 15; "SIG<n>" for one without a name */
static int core_signal_name(lua_State *L) {
  char name[16];
  lua_pushstring(L, lsb_signame((int)luaL_checkinteger(L, 1), name, sizeof name));
  return 1;
}

/* core.signals = { HUP = 1, INT = 2, ..., TERM = 15, ... } */
static void push_signals(lua_State *L) {
  const char *name;
  int sig;
  lua_newtable(L);
  for (int i = 0; (name = lsb_signal_at(i, &sig)) != NULL; i++) lsb_set_int(L, name, sig);
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

/* core.use_loop(loop): run on a host program's uv_loop_t * -- a light
 * userdata, or a full userdata whose memory is the loop (luv's uv._loop);
 * nil: back to the core's own.  Only while nothing of the core is active. */
static int core_use_loop(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  uv_loop_t *loop;
  if (lua_isnoneornil(L, 1)) {
    loop = &ctx->own_loop;
  } else {
    luaL_argexpected(L, lua_isuserdata(L, 1), 1, "uv_loop_t userdata");
    loop = lua_touserdata(L, 1);
  }
  if (loop == ctx->loop) return 0;
  if (uv_loop_alive(ctx->loop) || ctx->procs || ctx->sessions || ctx->catching)
    return luaL_error(L, "luasible.core.use_loop: the current loop is busy");
  ctx->loop = loop;
  return 0;
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_signal_closed(uv_handle_t *h) {
  lsb_ctx *ctx = h->data;
  ctx->signals_open--;
  lsb_ctx_check_done(ctx);
}

static int ctx_gc(lua_State *L) {
  lsb_ctx **ud = luaL_checkudata(L, 1, LSB_CTX_MT);
  lsb_ctx *ctx = *ud;
  if (!ctx) return 0;
  *ud = NULL;
  /* every stream and timer was finalized before; SSH sessions may still run */
  lsb_ssh_teardown_all(ctx);
  lsb_process_teardown_all(ctx);
  for (int i = 0; i < 3 && ctx->catching; i++)
    uv_close((uv_handle_t *)&ctx->signals[i], on_signal_closed);
  ctx->catching = 0;
  if (ctx->loop == &ctx->own_loop) {
    /* finish every close callback, then nothing is left */
    uv_run(&ctx->own_loop, UV_RUN_NOWAIT);
    uv_walk(&ctx->own_loop, close_walk, NULL);
    uv_run(&ctx->own_loop, UV_RUN_DEFAULT);
    uv_loop_close(&ctx->own_loop);
    free(ctx);
    return 0;
  }
  /* a host's loop: it runs our last close callbacks, the last one frees */
  uv_loop_close(&ctx->own_loop);
  ctx->dying = 1;
  lsb_ctx_check_done(ctx);
  return 0;
}

static int ctx_tostring(lua_State *L) {
  lsb_ctx **ud = luaL_checkudata(L, 1, LSB_CTX_MT);
  lua_pushfstring(L, LSB_CTX_MT " (%s loop): %p",
                  !*ud ? "no" : (*ud)->loop == &(*ud)->own_loop ? "own" : "host's",
                  (void *)*ud);
  return 1;
}

/* The context, created once per Lua state; pushed. */
static void push_ctx(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", ctx_gc}, {"__tostring", ctx_tostring}, {NULL, NULL}};
  lsb_ctx **ud, *ctx;
  int err;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LSB_CTX_KEY) == LUA_TUSERDATA) return;
  lua_pop(L, 1);
  lsb_new_class(L, LSB_CTX_MT, meta, NULL);
  ud = lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = NULL;
  luaL_setmetatable(L, LSB_CTX_MT);
  ctx = calloc(1, sizeof *ctx);
  if (!ctx) luaL_error(L, "not enough memory");
  err = uv_loop_init(&ctx->own_loop);
  if (err != 0) {
    free(ctx);
    luaL_error(L, "luasible.core: uv_loop_init: %s", uv_strerror(err));
  }
  ctx->loop = &ctx->own_loop;
  ctx->woken.wnext = ctx->woken.wprev = &ctx->woken;
  ctx->woken.ctx = ctx;
  ctx->woken.waiter_ref = LUA_NOREF;
  lua_newtable(L);
  ctx->released_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  *ud = ctx;
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, LSB_CTX_KEY);
}

static const luaL_Reg core_funcs[] = {
    {"run_once", core_run_once}, {"woken", core_woken},
    {"poll_fd", core_poll_fd},   {"timeout", core_timeout},
    {"hosted", core_hosted},     {"use_loop", core_use_loop},
    {"active", core_active},
    {"now", core_now},           {"wall", core_wall},
    {"catch_signals", core_catch_signals}, {"caught", core_caught},
    {"signal_name", core_signal_name}, {NULL, NULL}};

LSB_EXPORT int luaopen_luasible_core(lua_State *L) {
  static const luaL_Reg *const all[] = {
      core_funcs, lsb_stream_funcs, lsb_timer_funcs, lsb_process_funcs,
      lsb_ssh_funcs, lsb_codec_funcs, lsb_fs_funcs, lsb_http_funcs, lsb_unix_funcs, lsb_syslog_funcs, lsb_ndjson_funcs, NULL};
  struct sigaction sa;
  /* a child that closes its stdin must not kill us with SIGPIPE */
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
  lsb_open_stream(L);
  lsb_open_timer(L);
  lsb_open_process(L);
  lsb_open_ssh(L);
  lsb_open_codec(L);
  lsb_open_http(L);
  lsb_open_unix(L);
  lua_newtable(L);
  for (int i = 0; all[i]; i++) {
    push_ctx(L); /* the upvalue of every function */
    luaL_setfuncs(L, all[i], 1);
  }
  push_signals(L);
  lua_setfield(L, -2, "signals");
  lsb_push_crypto(L);
  lua_setfield(L, -2, "crypto");
  lua_pushliteral(L, LSB_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
