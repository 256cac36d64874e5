/* luasible.timer: a one-shot timer the scheduler can wait on (sleep). */
#include <stdlib.h>

#include "lua_core.h"

typedef struct {
  lsb_waitable w;
  uv_timer_t h;
  int fired;
} ltimer;

typedef struct {
  ltimer *t; /* NULL once closed; freed by the close callback */
} ltimer_ud;

static void on_fire(uv_timer_t *h) {
  ltimer *t = h->data;
  t->fired = 1;
  lsb_waitable_wake(&t->w);
}

static void on_closed(uv_handle_t *h) { free(h->data); }

/* core.timer(seconds) -> timer, already started */
static int core_timer(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  double secs = luaL_checknumber(L, 1);
  ltimer_ud *ud;
  ltimer *t;
  luaL_argcheck(L, secs >= 0, 1, "must not be negative");
  ud = lua_newuserdatauv(L, sizeof *ud, 0);
  ud->t = NULL;
  luaL_setmetatable(L, LSB_TIMER_MT);
  t = calloc(1, sizeof *t);
  if (!t) return luaL_error(L, "not enough memory");
  t->w.ctx = ctx;
  t->w.waiter_ref = LUA_NOREF;
  uv_timer_init(ctx->loop, &t->h);
  t->h.data = t;
  uv_update_time(ctx->loop); /* the loop may have idled: count from now */
  uv_timer_start(&t->h, on_fire, lsb_ms(secs), 0);
  ud->t = t;
  return 1;
}

static ltimer_ud *check_timer(lua_State *L) {
  return luaL_checkudata(L, 1, LSB_TIMER_MT);
}

static int t_ready(lua_State *L) {
  ltimer_ud *ud = check_timer(L);
  lua_pushboolean(L, !ud->t || ud->t->fired);
  return 1;
}

static int t_wait_on(lua_State *L) {
  ltimer_ud *ud = check_timer(L);
  luaL_checkany(L, 2);
  if (!ud->t) return luaL_error(L, "luasible.timer: used after close");
  lsb_waiter_set(L, &ud->t->w, 2);
  if (ud->t->fired) lsb_waitable_wake(&ud->t->w);
  return 0;
}

static int t_close(lua_State *L) {
  ltimer_ud *ud = check_timer(L);
  ltimer *t = ud->t;
  if (!t) return 0;
  ud->t = NULL;
  lsb_waiter_release(L, &t->w);
  uv_close((uv_handle_t *)&t->h, on_closed);
  return 0;
}

static int t_tostring(lua_State *L) {
  ltimer_ud *ud = check_timer(L);
  lua_pushfstring(L, "luasible.timer (%s): %p",
                  !ud->t ? "closed" : ud->t->fired ? "fired" : "pending",
                  (void *)ud);
  return 1;
}

void lsb_open_timer(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", t_close}, {"__close", t_close}, {"__tostring", t_tostring},
      {NULL, NULL}};
  static const luaL_Reg methods[] = {
      {"ready", t_ready}, {"wait_on", t_wait_on}, {"close", t_close},
      {NULL, NULL}};
  lsb_new_class(L, LSB_TIMER_MT, meta, methods);
}

const luaL_Reg lsb_timer_funcs[] = {{"timer", core_timer}, {NULL, NULL}};
