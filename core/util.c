/* Helpers shared by every part of the core (util.h). */
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <uv.h>

#include "stream.h"

/* ------------------------------------------------------------------ */
/* errors */

static void err_setv(lsb_err *e, const char *name, const char *suffix,
                     const char *fmt, va_list ap) LSB_PRINTF(4, 0);
static void err_setv(lsb_err *e, const char *name, const char *suffix,
                     const char *fmt, va_list ap) {
  char buf[1024];
  size_t n;
  int w;
  free(e->text);
  e->text = NULL;
  snprintf(e->name, sizeof e->name, "%s", name && *name ? name : "EIO");
  w = snprintf(buf, sizeof buf, "%s: ", e->name);
  n = w > 0 ? (size_t)w : 0;
  w = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
  if (w > 0) n += (size_t)w;
  if (n >= sizeof buf) n = sizeof buf - 1;
  if (suffix) snprintf(buf + n, sizeof buf - n, ": %s", suffix);
  e->text = strdup(buf);
}

void lsb_err_setv(lsb_err *e, const char *name, const char *fmt, va_list ap) {
  err_setv(e, name, NULL, fmt, ap);
}

void lsb_err_set(lsb_err *e, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_setv(e, name, NULL, fmt, ap);
  va_end(ap);
}

void lsb_err_set_errno(lsb_err *e, int err, const char *fmt, ...) {
  char name[24];
  va_list ap;
  va_start(ap, fmt);
  err_setv(e, lsb_errno_name(err, name, sizeof name), strerror(err), fmt, ap);
  va_end(ap);
}

void lsb_err_copy(lsb_err *dst, const lsb_err *src) {
  if (dst == src) return;
  lsb_err_free(dst);
  if (!src || !lsb_err_isset(src)) return;
  memcpy(dst->name, src->name, sizeof dst->name);
  dst->text = src->text ? strdup(src->text) : NULL;
}

void lsb_err_free(lsb_err *e) {
  free(e->text);
  e->text = NULL;
  e->name[0] = '\0';
}

const char *lsb_err_text(const lsb_err *e) { return e->text ? e->text : e->name; }

const char *lsb_errno_name(int err, char *buf, size_t size) {
  /* libuv knows the names of the system's errno values */
  return uv_err_name_r(uv_translate_sys_error(err), buf, size);
}

/* ------------------------------------------------------------------ */
/* signals */

static const struct {
  int sig;
  const char *name;
} signals[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},   {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"}, {SIGCHLD, "CHLD"},
    {SIGCONT, "CONT"}, {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"},
    {SIGTTOU, "TTOU"}, {SIGURG, "URG"},   {SIGXCPU, "XCPU"}, {SIGXFSZ, "XFSZ"},
    {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},     {SIGSYS, "SYS"},
};

#define N_SIGNALS (sizeof signals / sizeof signals[0])

const char *lsb_signame(int sig, char *buf, size_t size) {
  for (size_t i = 0; i < N_SIGNALS; i++)
    if (signals[i].sig == sig) {
      snprintf(buf, size, "%s", signals[i].name);
      return buf;
    }
  snprintf(buf, size, "SIG%d", sig);
  return buf;
}

int lsb_signum(const char *name) {
  if (strncmp(name, "SIG", 3) == 0) name += 3;
  for (size_t i = 0; i < N_SIGNALS; i++)
    if (strcmp(signals[i].name, name) == 0) return signals[i].sig;
  return 0;
}

const char *lsb_signal_at(int i, int *sig) {
  if (i < 0 || (size_t)i >= N_SIGNALS) return NULL;
  if (sig) *sig = signals[i].sig;
  return signals[i].name;
}

/* ------------------------------------------------------------------ */
/* base64 */

static const char b64_tbl[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t lsb_base64_encode(const unsigned char *in, size_t n, char *out, int pad) {
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64_tbl[v >> 18 & 63];
    out[o++] = b64_tbl[v >> 12 & 63];
    out[o++] = b64_tbl[v >> 6 & 63];
    out[o++] = b64_tbl[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
    out[o++] = b64_tbl[v >> 18 & 63];
    out[o++] = b64_tbl[v >> 12 & 63];
    if (i + 1 < n) out[o++] = b64_tbl[v >> 6 & 63];
    else if (pad) out[o++] = '=';
    if (pad) out[o++] = '=';
  }
  out[o] = '\0';
  return o;
}

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

size_t lsb_base64_decode(const char *in, size_t n, unsigned char *out) {
  unsigned v = 0;
  int bits = 0, pads = 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    int d;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      pads++;
      continue;
    }
    if (pads) return (size_t)-1; /* data after the padding */
    if ((d = b64_value(c)) < 0) return (size_t)-1;
    v = (v << 6 | (unsigned)d) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(v >> bits & 0xff);
    }
  }
  /* 6 bits left over are never a whole byte; padding must fit: "xx==" leaves
   * 4 bits, "xxx=" 2 */
  if (bits == 6 || (pads && !((bits == 4 && pads == 2) || (bits == 2 && pads == 1))))
    return (size_t)-1;
  return o;
}

/* ------------------------------------------------------------------ */
/* the fail tuple */

char *lsb_strdup(lua_State *L, const char *s) {
  char *d;
  if (!s) return NULL;
  d = strdup(s);
  if (!d) luaL_error(L, "not enough memory");
  return d;
}

int lsb_fail(lua_State *L, const char *name, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  lua_pushfstring(L, "%s: ", name);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  lua_pushstring(L, name);
  return 3;
}

int lsb_fail_err(lua_State *L, const lsb_err *e) {
  lua_pushnil(L);
  lua_pushstring(L, lsb_err_text(e));
  lua_pushstring(L, e->name);
  return 3;
}

int lsb_fail_uv(lua_State *L, int uverr, const char *what) {
  return lsb_fail(L, uv_err_name(uverr), "%s: %s", what, uv_strerror(uverr));
}

int lsb_fail_errno(lua_State *L, int err, const char *fmt, ...) {
  lsb_err e = {{0}, NULL};
  char name[24];
  va_list ap;
  va_start(ap, fmt);
  err_setv(&e, lsb_errno_name(err, name, sizeof name), strerror(err), fmt, ap);
  va_end(ap);
  lua_pushnil(L);
  lua_pushstring(L, lsb_err_text(&e));
  lua_pushstring(L, e.name);
  lsb_err_free(&e);
  return 3;
}

/* ------------------------------------------------------------------ */
/* option readers */

void lsb_check_options(lua_State *L, int idx, const char *fn,
                       const char *const known[]) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int found = 0;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (int i = 0; known[i] && !found; i++) found = strcmp(k, known[i]) == 0;
      if (!found) luaL_error(L, "bad argument to '%s' (unknown option '%s')", fn, k);
    } else {
      luaL_error(L, "bad argument to '%s' (option names must be strings)", fn);
    }
    lua_pop(L, 1);
  }
}

int lsb_opt_bool(lua_State *L, int idx, const char *k, int dflt) {
  int r = dflt;
  if (lua_getfield(L, idx, k) != LUA_TNIL) r = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

double lsb_opt_num(lua_State *L, int idx, const char *fn, const char *k,
                   double dflt, int nonneg) {
  double r = dflt;
  int t = lua_getfield(L, idx, k);
  if (t != LUA_TNIL) {
    if (t != LUA_TNUMBER)
      luaL_error(L, "bad option '%s' to '%s' (number expected, got %s)", k, fn,
                 luaL_typename(L, -1));
    r = lua_tonumber(L, -1);
    if (nonneg && (r < 0 || r != r))
      luaL_error(L, "bad option '%s' to '%s' (must not be negative)", k, fn);
  }
  lua_pop(L, 1);
  return r;
}

const char *lsb_opt_str(lua_State *L, int idx, const char *fn, const char *k,
                        size_t *len, int required) {
  const char *r = NULL;
  int t = lua_getfield(L, idx, k);
  if (t == LUA_TSTRING) r = lua_tolstring(L, -1, len);
  else if (t != LUA_TNIL || required)
    luaL_error(L, "bad option '%s' to '%s' (string expected, got %s)", k, fn,
               luaL_typename(L, -1));
  lua_pop(L, 1); /* still anchored in the options table */
  return r;
}

int lsb_opt_stream_mode(lua_State *L, int idx, int dflt_lines, int dflt_progress) {
  int mode = 0;
  if (lsb_opt_bool(L, idx, "lines", dflt_lines)) mode |= LSB_STREAM_LINES;
  if (lsb_opt_bool(L, idx, "capture", 0)) mode |= LSB_STREAM_CAPTURE;
  if (lsb_opt_bool(L, idx, "progress", dflt_progress)) mode |= LSB_STREAM_PROGRESS;
  if (lsb_opt_bool(L, idx, "chunks", 0)) mode |= LSB_STREAM_CHUNKS;
  return mode;
}

void lsb_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
                   const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, meta, 0);
  if (methods) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}

void lsb_set_num(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

void lsb_set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

void lsb_set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

void lsb_set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}
