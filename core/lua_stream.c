/* luasible.stream: the Lua face of a stream (events of a running command). */
#include <stdlib.h>
#include <string.h>

#include "lua_core.h"

typedef struct {
  lsb_stream *s; /* NULL once closed */
  int pid;
  unsigned popped; /* events the iterator gave since its last tick */
} lstream;

/* The iterator calls its tick function (the scheduler's: a task that used
 * its quantum up yields there) after this many events in a row. */
#define LSB_TICK_EVERY 128u

static lstream *check_stream(lua_State *L) {
  return luaL_checkudata(L, 1, LSB_STREAM_MT);
}

static lsb_stream *open_stream(lua_State *L) {
  lstream *ls = check_stream(L);
  if (!ls->s) luaL_error(L, "luasible.stream: used after close");
  return ls->s;
}

int lsb_push_stream(lua_State *L, lsb_stream *s, int pid) {
  lstream *ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->s = s;
  ls->pid = pid;
  ls->popped = 0;
  luaL_setmetatable(L, LSB_STREAM_MT);
  return 1;
}

static const char *stage_name(int stage) {
  switch (stage) {
    case LSB_STAGE_CONNECTING: return "connecting";
    case LSB_STAGE_EXECUTING: return "executing";
    case LSB_STAGE_TRANSFERRING: return "transferring";
    default: return "done";
  }
}

static void push_result(lua_State *L, lsb_stream *s) {
  const lsb_result *r = &s->result;
  int ok;
  lua_createtable(L, 0, 12);
  if (r->has_rc) lsb_set_int(L, "rc", r->rc);
  if (r->signal[0]) {
    lua_pushstring(L, r->signal);
    lua_setfield(L, -2, "signal");
  }
  lua_pushboolean(L, r->timed_out);
  lua_setfield(L, -2, "timed_out");
  lsb_set_num(L, "duration", (s->finished ? r->t_end : lsb_now()) - r->t_start);
  ok = r->has_rc && r->rc == 0 && !r->signal[0] && !r->timed_out &&
       !lsb_err_isset(&s->error);
  lua_pushboolean(L, ok);
  lua_setfield(L, -2, "ok");
  if (s->mode & LSB_STREAM_CAPTURE) {
    lua_pushlstring(L, s->capture[0].data ? s->capture[0].data : "", s->capture[0].len);
    lua_setfield(L, -2, "stdout");
    lua_pushlstring(L, s->capture[1].data ? s->capture[1].data : "", s->capture[1].len);
    lua_setfield(L, -2, "stderr");
  }
  if (s->mode & LSB_STREAM_LINES) {
    lsb_set_int(L, "stdout_line_count", (lua_Integer)s->lines[0]);
    lsb_set_int(L, "stderr_line_count", (lua_Integer)s->lines[1]);
  }
  lsb_set_int(L, "stdout_bytes", (lua_Integer)s->bytes[0]);
  lsb_set_int(L, "stderr_bytes", (lua_Integer)s->bytes[1]);
  if (lsb_err_isset(&s->error)) {
    lsb_set_str(L, "error", lsb_err_text(&s->error));
    lsb_set_str(L, "code", s->error.name);
  }
}

/* e: the event's header (a copy); its data is the string at `data`. */
static void push_event(lua_State *L, lsb_stream *s, const lsb_event *e, int data) {
  lua_createtable(L, 0, 5);
  switch (e->type) {
    case LSB_EV_STDOUT:
    case LSB_EV_STDERR:
      if (e->type == LSB_EV_STDOUT) lua_pushliteral(L, "stdout");
      else lua_pushliteral(L, "stderr");
      lua_setfield(L, -2, "type");
      lua_pushvalue(L, data);
      lua_setfield(L, -2, "data");
      if (e->flags & LSB_LINE_PARTIAL) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "partial");
      }
      if (e->flags & LSB_LINE_CR) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "cr");
      }
      break;
    case LSB_EV_PROGRESS:
      lua_pushliteral(L, "progress");
      lua_setfield(L, -2, "type");
      lua_createtable(L, 0, 6);
      lua_pushstring(L, stage_name(e->stage));
      lua_setfield(L, -2, "stage");
      if (e->percentage >= 0) lsb_set_num(L, "percentage", e->percentage);
      if (e->bytes_done >= 0) lsb_set_num(L, "bytes_done", e->bytes_done);
      if (e->bytes_total >= 0) lsb_set_num(L, "bytes_total", e->bytes_total);
      lua_pushvalue(L, data);
      lua_setfield(L, -2, "message");
      lsb_set_num(L, "timestamp", e->ts);
      lua_setfield(L, -2, "progress");
      break;
    default:
      if (e->type == LSB_EV_ERROR) {
        lua_pushvalue(L, data);
        lua_setfield(L, -2, "error");
        lsb_set_str(L, "code", s->error.name);
        lua_pushliteral(L, "error");
      } else {
        lua_pushliteral(L, "done");
      }
      lua_setfield(L, -2, "type");
      push_result(L, s);
      lua_setfield(L, -2, "result");
      break;
  }
  lsb_set_num(L, "timestamp", e->ts);
  lsb_set_int(L, "seq", (lua_Integer)e->seq);
}

/* s:pop() -> event | nil (nothing queued now, or closed)
 * The hot path of every stream (one call per line): its upvalues hold the
 * metatable and the interned field names, so that a line event costs no
 * registry lookup and no C-string interning (lua_setfield). */
enum { UP_MT = 1, UP_TYPE, UP_DATA, UP_TIMESTAMP, UP_SEQ, UP_STDOUT, UP_STDERR,
       UP_WAIT, UP_TICK, UP_N };

/* The stream argument of pop / the iterator: the upvalue metatable first,
 * which is cheaper than luaL_checkudata's registry lookup. */
static lstream *arg_stream(lua_State *L) {
  lstream *ls = lua_touserdata(L, 1);
  if (!ls || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(UP_MT)))
    return check_stream(L); /* raises */
  lua_pop(L, 1);
  return ls;
}

/* Pushes e as an event table, on top (its data string stays below it: the
 * callers return the top value). e belongs to the queue until its next
 * pop, and the Lua allocations below may run finalizers (any Lua code):
 * what is needed of e is read first, its data copied into a string before
 * any table is made. */
static void push_popped(lua_State *L, lsb_stream *s, const lsb_event *e) {
  if ((e->type == LSB_EV_STDOUT || e->type == LSB_EV_STDERR) &&
      !(e->flags & (LSB_LINE_PARTIAL | LSB_LINE_CR))) {
    int kind = e->type == LSB_EV_STDOUT ? UP_STDOUT : UP_STDERR;
    lua_Number ts = e->ts;
    lua_Integer seq = (lua_Integer)e->seq;
    lua_pushlstring(L, e->data, e->len); /* the string, then the table over it */
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, lua_upvalueindex(UP_TYPE));
    lua_pushvalue(L, lua_upvalueindex(kind));
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(UP_DATA));
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(UP_TIMESTAMP));
    lua_pushnumber(L, ts);
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(UP_SEQ));
    lua_pushinteger(L, seq);
    lua_rawset(L, -3);
  } else {
    lsb_event h = *e; /* the header; the data as a string */
    lua_pushlstring(L, e->data, e->len);
    push_event(L, s, &h, lua_gettop(L));
  }
}

static int s_pop(lua_State *L) {
  lstream *ls = arg_stream(L);
  lsb_event *e = ls->s ? lsb_stream_pop(ls->s) : NULL;
  if (!e) {
    lua_pushnil(L);
    return 1;
  }
  push_popped(L, ls->s, e);
  return 1;
}

/* The iterator of `for ev in conn:stream(cmd)`: iter(s) -> the next event,
 * waiting for it with the scheduler's wait (upvalue UP_WAIT, which yields
 * inside a task), or nothing once the stream is over or closed. One C call
 * per line, where a Lua iterator calling s:pop() cost a frame and a method
 * lookup more. Every LSB_TICK_EVERY events in a row it calls the tick
 * function (UP_TICK, when given), which may yield too: a stream that always
 * has more queued must not keep its task running for ever. */
static int s_next(lua_State *L);
static int s_next_k(lua_State *L, int status, lua_KContext k) {
  (void)status;
  (void)k;
  return s_next(L);
}

static int s_next(lua_State *L) {
  lstream *ls = arg_stream(L);
  for (;;) {
    lsb_event *e;
    if (!ls->s) return 0;
    if (ls->popped >= LSB_TICK_EVERY && !lua_isnil(L, lua_upvalueindex(UP_TICK))) {
      ls->popped = 0;
      lua_settop(L, 1);
      lua_pushvalue(L, lua_upvalueindex(UP_TICK));
      lua_callk(L, 0, 0, 0, s_next_k);
      continue;
    }
    if ((e = lsb_stream_pop(ls->s)) != NULL) {
      ls->popped++;
      push_popped(L, ls->s, e);
      return 1;
    }
    if (ls->s->q.drained) return 0;
    ls->popped = 0; /* it waits: a new turn */
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(UP_WAIT));
    lua_pushvalue(L, 1);
    lua_callk(L, 1, 0, 0, s_next_k);
  }
}

/* Pushes the metatable and field names: the upvalues UP_MT..UP_STDERR. */
static void push_event_upvalues(lua_State *L) {
  luaL_getmetatable(L, LSB_STREAM_MT);
  lua_pushliteral(L, "type");
  lua_pushliteral(L, "data");
  lua_pushliteral(L, "timestamp");
  lua_pushliteral(L, "seq");
  lua_pushliteral(L, "stdout");
  lua_pushliteral(L, "stderr");
}

/* core.stream_iterator(wait[, tick]) -> iter: for ev in iter, s do ... end */
static int core_stream_iterator(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  push_event_upvalues(L);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, s_next, UP_N - 1);
  return 1;
}

/* s:pop_line() -> line, is_stderr | nil (nothing queued now) | false (over)
 * The cheap path of conn:lines(): a string per line, no event table;
 * redraws and progress are skipped, chunks of long lines come as they are. */
static int s_pop_line(lua_State *L) {
  lstream *ls = check_stream(L);
  lsb_stream *s = ls->s;
  lsb_event *e;
  if (!s) {
    lua_pushboolean(L, 0);
    return 1;
  }
  while ((e = lsb_stream_pop(s)) != NULL) {
    int type = e->type, skip = (e->flags & LSB_LINE_CR) != 0;
    if ((type == LSB_EV_STDOUT || type == LSB_EV_STDERR) && !skip) {
      lua_pushlstring(L, e->data, e->len);
      lua_pushboolean(L, type == LSB_EV_STDERR);
      return 2;
    }
    if (type == LSB_EV_DONE || type == LSB_EV_ERROR) {
      lua_pushboolean(L, 0);
      return 1;
    }
  }
  if (s->q.drained) lua_pushboolean(L, 0);
  else lua_pushnil(L);
  return 1;
}

/* s:ready() -> true when pop() has something or the stream is over */
static int s_ready(lua_State *L) {
  lstream *ls = check_stream(L);
  lua_pushboolean(L, !ls->s || lsb_stream_ready(ls->s));
  return 1;
}

/* s:finished() -> true once the final event was popped (or closed) */
static int s_finished(lua_State *L) {
  lstream *ls = check_stream(L);
  lua_pushboolean(L, !ls->s || (ls->s->q.drained && !ls->s->q.head));
  return 1;
}

/* s:wait_on(waiter): park `waiter`; it comes back from core.run_once()
 * once the stream is ready. */
static int s_wait_on(lua_State *L) {
  lsb_stream *s = open_stream(L);
  luaL_checkany(L, 2);
  lsb_waiter_set(L, &s->w, 2);
  if (lsb_stream_ready(s)) lsb_waitable_wake(&s->w);
  return 0;
}

/* s:result() -> the result so far once the command ended, else nil */
static int s_result(lua_State *L) {
  lsb_stream *s = open_stream(L);
  if (!s->finished) return 0;
  push_result(L, s);
  return 1;
}

/* s:stats() -> { queued_events, queued_bytes, paused, lines..., bytes... } */
static int s_stats(lua_State *L) {
  lsb_stream *s = open_stream(L);
  lua_createtable(L, 0, 7);
  lsb_set_int(L, "queued_events", (lua_Integer)s->q.events);
  lsb_set_int(L, "queued_bytes", (lua_Integer)s->q.bytes);
  lua_pushboolean(L, s->q.paused);
  lua_setfield(L, -2, "paused");
  lsb_set_int(L, "stdout_line_count", (lua_Integer)s->lines[0]);
  lsb_set_int(L, "stderr_line_count", (lua_Integer)s->lines[1]);
  lsb_set_int(L, "stdout_bytes", (lua_Integer)s->bytes[0]);
  lsb_set_int(L, "stderr_bytes", (lua_Integer)s->bytes[1]);
  return 1;
}

static int s_pid(lua_State *L) {
  lstream *ls = check_stream(L);
  if (ls->pid <= 0) return 0;
  lua_pushinteger(L, ls->pid);
  return 1;
}

static int s_close(lua_State *L) {
  lstream *ls = check_stream(L);
  lsb_stream *s = ls->s;
  if (!s) return 0;
  ls->s = NULL;
  lsb_waiter_release(L, &s->w);
  if (s->ops) s->ops->cancel(s->producer);
  lsb_stream_unref(s);
  return 0;
}

/* s:cancel([message]) -> kill what produces the stream (the command's
 * process group, the transfer) and end it now with an ECANCELED error
 * event ("ECANCELED: " .. message, default "cancelled"); unlike close(),
 * the stream stays readable. Nothing happens once it has ended. */
static int s_cancel(lua_State *L) {
  lsb_stream *s = open_stream(L);
  const char *msg = luaL_optstring(L, 2, "cancelled");
  if (s->ops && s->ops->abort && !s->finished) {
    lsb_err e = {{0}, NULL};
    lsb_err_set(&e, "ECANCELED", "%s", msg);
    s->ops->abort(s->producer, &e);
    lsb_err_free(&e);
  }
  return 0;
}

static int s_tostring(lua_State *L) {
  lstream *ls = check_stream(L);
  if (!ls->s) lua_pushliteral(L, "luasible.stream (closed)");
  else lua_pushfstring(L, "luasible.stream (%s, pid %d): %p",
                       ls->s->finished ? "finished" : "running", ls->pid,
                       (void *)ls);
  return 1;
}

void lsb_open_stream(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", s_close}, {"__close", s_close}, {"__tostring", s_tostring},
      {NULL, NULL}};
  static const luaL_Reg methods[] = {
      {"ready", s_ready}, {"finished", s_finished},
      {"wait_on", s_wait_on}, {"result", s_result}, {"pid", s_pid}, {"stats", s_stats},
      {"pop_line", s_pop_line}, {"cancel", s_cancel},
      {"close", s_close},   {NULL, NULL}};
  lsb_new_class(L, LSB_STREAM_MT, meta, methods);
  luaL_getmetatable(L, LSB_STREAM_MT);
  lua_getfield(L, -1, "__index");
  push_event_upvalues(L); /* the upvalues of pop (UP_MT..UP_STDERR) */
  lua_pushcclosure(L, s_pop, UP_WAIT - 1);
  lua_setfield(L, -2, "pop");
  lua_pop(L, 2);
}

const luaL_Reg lsb_stream_funcs[] = {
    {"stream_iterator", core_stream_iterator}, {NULL, NULL}};
