/* luasible.unix_listener, luasible.unix_conn: unix-domain stream sockets
 * carrying lines, for persistent SSH connections (lua/luasible/ssh/mux.lua,
 * docs/SSH.md "Persistent connections").
 *
 * The listener's socket is made 0600 (created under umask 0177) and every
 * connection whose peer is not this process's user (SO_PEERCRED) is closed
 * at accept. A connection reads lines ("\n"-terminated, at most
 * LSB_UNIX_MAX_LINE bytes) or, once read_frame() is called, binary frames
 * (a type byte, a 32-bit big-endian length, that many bytes: what a
 * persistent connection's holder and relays speak), and writes bytes or
 * frames. core.unix_lock: an exclusive flock(2) that is never waited for
 * in the kernel (the holder's start is serialized by it). Waking as every core
 * object (docs/CORE.md): wait_on parks a waiter until a line, the end, a
 * connect's outcome, or (listener) a connection is there. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua_core.h"

#define LSB_ULISTEN_MT "luasible.unix_listener"
#define LSB_UCONN_MT "luasible.unix_conn"
#define LSB_ULOCK_MT "luasible.unix_lock"
#define LSB_UNIX_MAX_LINE (16u * 1024u * 1024u)
#define MAX_PENDING 64

typedef struct uconn {
  lsb_waitable w;
  uv_pipe_t h;
  uv_connect_t creq;
  uv_shutdown_t shut;
  lsb_ctx *ctx;
  char *in;
  size_t in_len, in_cap, scan; /* scan: bytes already searched for "\n" */
  int err;                     /* UV_EOF, a read error, a connect error */
  size_t queued;               /* bytes handed to write, not yet written */
  int refs;                    /* the handle's and the userdata's */
  unsigned connecting : 1, reading : 1, closing : 1;
  unsigned news : 1; /* a connect's outcome, not yet seen by read() */
  unsigned framed : 1; /* binary frames (read_frame), not lines */
  unsigned finishing : 1; /* finish() while connecting: shut down once connected */
} uconn;

typedef struct {
  uconn *c;
} uconn_ud;

typedef struct {
  lsb_waitable w;
  uv_pipe_t h;
  lsb_ctx *ctx;
  uconn *pending[MAX_PENDING];
  int npending;
  int error;
} ulisten;

typedef struct {
  ulisten *l;
} ulisten_ud;

typedef struct {
  uv_write_t req;
  uconn *c;
  size_t n;
  char data[];
} uwrite;

static void uconn_unref(uconn *c) {
  if (--c->refs > 0) return;
  lsb_waitable_unlink(&c->w);
  free(c->in);
  free(c);
}

static void uconn_closed(uv_handle_t *h) { uconn_unref(h->data); }

static void uconn_close(uconn *c) {
  if (c->closing) return;
  c->closing = 1;
  lsb_waitable_wake(&c->w);
  uv_close((uv_handle_t *)&c->h, uconn_closed);
}

#define FRAME_HEAD 5u

static size_t frame_len(const char *p) {
  const unsigned char *u = (const unsigned char *)p + 1;
  return ((size_t)u[0] << 24) | ((size_t)u[1] << 16) | ((size_t)u[2] << 8) | (size_t)u[3];
}

/* a whole line (or, framed, a whole frame) is buffered */
static int has_line(uconn *c) {
  if (c->framed) return c->in_len >= FRAME_HEAD && c->in_len - FRAME_HEAD >= frame_len(c->in);
  if (c->in_len > c->scan && memchr(c->in + c->scan, '\n', c->in_len - c->scan)) return 1;
  c->scan = c->in_len;
  return 0;
}

/* what is buffered can never become a line or frame under the limit */
static int too_big(uconn *c) {
  if (c->framed) return c->in_len >= FRAME_HEAD && frame_len(c->in) > LSB_UNIX_MAX_LINE;
  return c->in_len > LSB_UNIX_MAX_LINE && !has_line(c);
}

static void uconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  uconn *c = h->data;
  (void)hint;
  buf->base = c->ctx->readbuf;
  buf->len = sizeof c->ctx->readbuf;
}

static void update_reading(uconn *c);

static void uconn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  uconn *c = st->data;
  (void)buf;
  if (n > 0) {
    if (c->in_len + (size_t)n > c->in_cap) {
      size_t cap = c->in_cap ? c->in_cap : 4096;
      char *p;
      while (cap < c->in_len + (size_t)n) cap *= 2;
      if (!(p = realloc(c->in, cap))) {
        c->err = UV_ENOMEM;
        update_reading(c);
        lsb_waitable_wake(&c->w);
        return;
      }
      c->in = p;
      c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, c->ctx->readbuf, (size_t)n);
    c->in_len += (size_t)n;
    if (too_big(c)) c->err = UV_E2BIG;
    update_reading(c);
    if (c->err || has_line(c)) lsb_waitable_wake(&c->w);
    return;
  }
  if (n == 0) return;
  c->err = (int)n;
  update_reading(c);
  lsb_waitable_wake(&c->w);
}

/* read while no whole line is buffered */
static void update_reading(uconn *c) {
  int want = !c->closing && !c->connecting && !c->err && !has_line(c);
  if (want && !c->reading) {
    if (uv_read_start((uv_stream_t *)&c->h, uconn_alloc, uconn_read) == 0) c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop((uv_stream_t *)&c->h);
    c->reading = 0;
  }
}

static uconn *uconn_new(lsb_ctx *ctx) {
  uconn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->ctx = ctx;
  c->w.ctx = ctx;
  c->w.waiter_ref = LUA_NOREF;
  c->refs = 1;
  uv_pipe_init(ctx->loop, &c->h, 0);
  c->h.data = c;
  return c;
}

static uconn *check_conn(lua_State *L) {
  uconn_ud *ud = luaL_checkudata(L, 1, LSB_UCONN_MT);
  if (!ud->c) luaL_error(L, LSB_UCONN_MT ": used after close");
  return ud->c;
}

static void push_conn(lua_State *L, uconn *c) {
  uconn_ud *ud = lua_newuserdatauv(L, sizeof *ud, 0);
  ud->c = c;
  c->refs++;
  luaL_setmetatable(L, LSB_UCONN_MT);
}

/* conn:read() -> the next line (without its "\n"); nil when no whole line
 * is there yet (or it still connects); false, "NAME: msg" at the end (an
 * empty message at a clean EOF). A connect's outcome makes the connection
 * ready once: read() then says nil (connected) or false (failed). */
static int c_read(lua_State *L) {
  uconn *c = check_conn(L);
  char *nl;
  c->news = 0;
  if (c->in_len && (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
    size_t n = (size_t)(nl - c->in);
    lua_pushlstring(L, c->in, n);
    memmove(c->in, nl + 1, c->in_len - n - 1);
    c->in_len -= n + 1;
    c->scan = 0;
    update_reading(c);
    return 1;
  }
  if (c->err || c->closing) {
    lua_pushboolean(L, 0);
    if (c->err && c->err != UV_EOF)
      lua_pushfstring(L, "%s: %s", uv_err_name(c->err), uv_strerror(c->err));
    else
      lua_pushliteral(L, "");
    return 2;
  }
  update_reading(c);
  return 0;
}

/* conn:read_frame() -> type (a one-byte string), payload; nil when no
 * whole frame is there yet; false, "NAME: msg" at the end, as read(). The
 * connection reads frames from then on. */
static int c_read_frame(lua_State *L) {
  uconn *c = check_conn(L);
  c->news = 0;
  c->framed = 1;
  if (c->in_len >= FRAME_HEAD && !too_big(c) && has_line(c)) {
    size_t n = frame_len(c->in);
    lua_pushlstring(L, c->in, 1);
    lua_pushlstring(L, c->in + FRAME_HEAD, n);
    memmove(c->in, c->in + FRAME_HEAD + n, c->in_len - FRAME_HEAD - n);
    c->in_len -= FRAME_HEAD + n;
    update_reading(c);
    return 2;
  }
  if (c->err || c->closing) {
    lua_pushboolean(L, 0);
    if (c->err && c->err != UV_EOF)
      lua_pushfstring(L, "%s: %s", uv_err_name(c->err), uv_strerror(c->err));
    else if (c->in_len)
      lua_pushliteral(L, "EPROTO: the connection ended inside a frame");
    else
      lua_pushliteral(L, "");
    return 2;
  }
  if (too_big(c)) {
    c->err = UV_E2BIG;
    return c_read_frame(L);
  }
  update_reading(c);
  return 0;
}

static int c_ready(lua_State *L) {
  uconn_ud *ud = luaL_checkudata(L, 1, LSB_UCONN_MT);
  uconn *c = ud->c;
  lua_pushboolean(L, !c || c->closing || c->err || c->news || (!c->connecting && has_line(c)));
  return 1;
}

static int c_wait_on(lua_State *L) {
  uconn *c = check_conn(L);
  luaL_checkany(L, 2);
  lsb_waiter_set(L, &c->w, 2);
  if (c->closing || c->err || c->news || (!c->connecting && has_line(c))) lsb_waitable_wake(&c->w);
  return 0;
}

static void uconn_written(uv_write_t *req, int status) {
  uwrite *wr = (uwrite *)req;
  uconn *c = wr->c;
  (void)status;
  c->queued -= wr->n;
  free(wr);
  uconn_unref(c); /* the write's */
}

/* conn:queued() -> bytes handed to write() and not written yet (a writer
 * that must not run ahead of its reader waits while it is high) */
static int c_queued(lua_State *L) {
  uconn *c = check_conn(L);
  lua_pushinteger(L, (lua_Integer)c->queued);
  return 1;
}

/* queue head (hn bytes) + s (n bytes) as one write */
static int queue_write(lua_State *L, uconn *c, const char *head, size_t hn, const char *s, size_t n) {
  uwrite *wr;
  uv_buf_t b;
  int err;
  if (c->closing || (c->err && c->err != UV_EOF)) return lsb_fail_uv(L, UV_EPIPE, "write");
  if (!(wr = malloc(sizeof *wr + hn + n + 1))) return luaL_error(L, "not enough memory");
  if (hn) memcpy(wr->data, head, hn);
  if (n) memcpy(wr->data + hn, s, n);
  n += hn;
  wr->c = c;
  wr->n = n;
  b = uv_buf_init(wr->data, (unsigned)n);
  err = uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, uconn_written);
  if (err) {
    free(wr);
    return lsb_fail_uv(L, err, "write");
  }
  c->queued += n;
  c->refs++; /* until written (or cancelled by the close) */
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:write(s) -> true, or the fail tuple (queued: libuv writes it) */
static int c_write(lua_State *L) {
  uconn *c = check_conn(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  return queue_write(L, c, NULL, 0, s, n);
}

/* conn:write_frame(type, payload) -> true, or the fail tuple: one frame
 * (type: a one-byte string; payload at most 16 MiB) */
static int c_write_frame(lua_State *L) {
  uconn *c = check_conn(L);
  size_t tn, n;
  const char *t = luaL_checklstring(L, 2, &tn);
  const char *s = luaL_optlstring(L, 3, "", &n);
  unsigned char head[FRAME_HEAD];
  luaL_argcheck(L, tn == 1, 2, "a one-byte frame type expected");
  luaL_argcheck(L, n <= LSB_UNIX_MAX_LINE, 3, "frame larger than 16 MiB");
  head[0] = (unsigned char)t[0];
  head[1] = (unsigned char)(n >> 24);
  head[2] = (unsigned char)(n >> 16);
  head[3] = (unsigned char)(n >> 8);
  head[4] = (unsigned char)n;
  return queue_write(L, c, (const char *)head, FRAME_HEAD, s, n);
}

static int c_close(lua_State *L) {
  uconn_ud *ud = luaL_checkudata(L, 1, LSB_UCONN_MT);
  uconn *c = ud->c;
  if (!c) return 0;
  ud->c = NULL;
  lsb_waiter_release(L, &c->w);
  uconn_close(c);
  uconn_unref(c);
  return 0;
}

static void uconn_shut(uv_shutdown_t *req, int status) {
  (void)status;
  uconn_close(req->data);
}

/* conn:finish(): close once what is queued is written (close() drops it);
 * the connection is Lua's no more */
static int c_finish(lua_State *L) {
  uconn_ud *ud = luaL_checkudata(L, 1, LSB_UCONN_MT);
  uconn *c = ud->c;
  if (!c) return 0;
  ud->c = NULL;
  lsb_waiter_release(L, &c->w);
  c->shut.data = c;
  if (c->connecting && !c->closing) c->finishing = 1; /* the writes wait for the connect */
  else if (c->closing || uv_shutdown(&c->shut, (uv_stream_t *)&c->h, uconn_shut) != 0)
    uconn_close(c);
  uconn_unref(c);
  return 0;
}

static int c_tostring(lua_State *L) {
  uconn_ud *ud = luaL_checkudata(L, 1, LSB_UCONN_MT);
  lua_pushfstring(L, LSB_UCONN_MT " (%s): %p", ud->c ? "open" : "closed", (void *)ud);
  return 1;
}

static void on_connected(uv_connect_t *req, int status) {
  uconn *c = req->data;
  c->connecting = 0;
  c->news = 1;
  if (status < 0) c->err = status;
  if (c->finishing) {
    c->finishing = 0;
    if (status < 0 || c->closing || uv_shutdown(&c->shut, (uv_stream_t *)&c->h, uconn_shut) != 0)
      uconn_close(c);
  }
  update_reading(c);
  lsb_waitable_wake(&c->w);
  uconn_unref(c); /* the request's */
}

/* core.unix_connect(path) -> a connection (read() says how the connect
 * went: nil while connecting, false and "ECONNREFUSED: ..." when it failed) */
static int core_unix_connect(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  const char *path = luaL_checkstring(L, 1);
  uconn *c = uconn_new(ctx);
  if (!c) return luaL_error(L, "not enough memory");
  c->connecting = 1;
  c->creq.data = c;
  c->refs++; /* the request's, until on_connected */
  uv_pipe_connect(&c->creq, &c->h, path, on_connected);
  push_conn(L, c); /* refs: the handle's, the request's, the userdata's */
  return 1;
}

static void listener_closed(uv_handle_t *h) { free(h->data); }

/* only this user's processes are served */
static int same_user(uv_pipe_t *p) {
  uv_os_fd_t fd;
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (uv_fileno((uv_handle_t *)p, &fd) != 0) return 0;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return 0;
  return cr.uid == getuid();
}

static void on_connection(uv_stream_t *server, int status) {
  ulisten *l = server->data;
  uconn *c;
  if (status < 0) {
    l->error = status;
    lsb_waitable_wake(&l->w);
    return;
  }
  if (!(c = uconn_new(l->ctx))) return;
  if (uv_accept(server, (uv_stream_t *)&c->h) != 0 || !same_user(&c->h) ||
      l->npending >= MAX_PENDING) {
    uconn_close(c);
    return;
  }
  l->pending[l->npending++] = c;
  lsb_waitable_wake(&l->w);
}

/* core.unix_listen(path) -> listener (the socket 0600), or the fail tuple
 * (EADDRINUSE when something is there: the caller decides whether it is a
 * stale socket to remove) */
static int core_unix_listen(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  const char *path = luaL_checkstring(L, 1);
  ulisten_ud *ud;
  ulisten *l;
  mode_t old;
  int err;
  ud = lua_newuserdatauv(L, sizeof *ud, 0);
  ud->l = NULL;
  luaL_setmetatable(L, LSB_ULISTEN_MT);
  if (!(l = calloc(1, sizeof *l))) return luaL_error(L, "not enough memory");
  l->ctx = ctx;
  l->w.ctx = ctx;
  l->w.waiter_ref = LUA_NOREF;
  uv_pipe_init(ctx->loop, &l->h, 0);
  l->h.data = l;
  old = umask(0177);
  err = uv_pipe_bind(&l->h, path);
  umask(old);
  if (!err) err = chmod(path, 0600) == 0 ? 0 : uv_translate_sys_error(errno);
  if (!err) err = uv_listen((uv_stream_t *)&l->h, 64, on_connection);
  if (err) {
    uv_close((uv_handle_t *)&l->h, listener_closed);
    return lsb_fail_uv(L, err, "unix_listen");
  }
  ud->l = l;
  return 1;
}

static ulisten *check_listener(lua_State *L) {
  ulisten_ud *ud = luaL_checkudata(L, 1, LSB_ULISTEN_MT);
  if (!ud->l) luaL_error(L, LSB_ULISTEN_MT ": used after close");
  return ud->l;
}

/* listener:accept() -> a connection, or nil when none waits */
static int l_accept(lua_State *L) {
  ulisten *l = check_listener(L);
  uconn *c;
  if (l->error) {
    int err = l->error;
    l->error = 0;
    return lsb_fail_uv(L, err, "accept");
  }
  if (!l->npending) return 0;
  c = l->pending[0];
  memmove(l->pending, l->pending + 1, (size_t)(l->npending - 1) * sizeof l->pending[0]);
  l->npending--;
  push_conn(L, c); /* refs: the handle's, the userdata's */
  update_reading(c);
  return 1;
}

static int l_ready(lua_State *L) {
  ulisten_ud *ud = luaL_checkudata(L, 1, LSB_ULISTEN_MT);
  lua_pushboolean(L, !ud->l || ud->l->npending > 0 || ud->l->error);
  return 1;
}

static int l_wait_on(lua_State *L) {
  ulisten *l = check_listener(L);
  luaL_checkany(L, 2);
  lsb_waiter_set(L, &l->w, 2);
  if (l->npending || l->error) lsb_waitable_wake(&l->w);
  return 0;
}

static int l_close(lua_State *L) {
  ulisten_ud *ud = luaL_checkudata(L, 1, LSB_ULISTEN_MT);
  ulisten *l = ud->l;
  if (!l) return 0;
  ud->l = NULL;
  lsb_waiter_release(L, &l->w);
  for (int i = 0; i < l->npending; i++) uconn_close(l->pending[i]);
  l->npending = 0;
  uv_close((uv_handle_t *)&l->h, listener_closed);
  return 0;
}

static int l_tostring(lua_State *L) {
  ulisten_ud *ud = luaL_checkudata(L, 1, LSB_ULISTEN_MT);
  lua_pushfstring(L, LSB_ULISTEN_MT " (%s): %p", ud->l ? "listening" : "closed", (void *)ud);
  return 1;
}

/* core.unix_lock(path) -> a lock (held until lock:close() or collected),
 * nil when another process holds it (try again later: flock is never
 * waited for, the loop runs on), or the fail tuple. The file is made 0600
 * and not inherited by child processes (O_CLOEXEC). */
typedef struct {
  int fd;
} ulock;

static int core_unix_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  ulock *lk;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return lsb_fail_uv(L, uv_translate_sys_error(errno), "open lock");
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK) return 0;
    return lsb_fail_uv(L, uv_translate_sys_error(e), "flock");
  }
  lk = lua_newuserdatauv(L, sizeof *lk, 0);
  lk->fd = fd;
  luaL_setmetatable(L, LSB_ULOCK_MT);
  return 1;
}

static int lk_close(lua_State *L) {
  ulock *lk = luaL_checkudata(L, 1, LSB_ULOCK_MT);
  if (lk->fd >= 0) close(lk->fd); /* the flock goes with the last descriptor */
  lk->fd = -1;
  return 0;
}

void lsb_open_unix(lua_State *L) {
  static const luaL_Reg kmeta[] = {{"__gc", lk_close}, {"__close", lk_close}, {NULL, NULL}};
  static const luaL_Reg kmethods[] = {{"close", lk_close}, {NULL, NULL}};
  static const luaL_Reg lmeta[] = {
      {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};
  static const luaL_Reg lmethods[] = {{"accept", l_accept}, {"ready", l_ready},
                                      {"wait_on", l_wait_on}, {"close", l_close},
                                      {NULL, NULL}};
  static const luaL_Reg cmeta[] = {
      {"__gc", c_close}, {"__close", c_close}, {"__tostring", c_tostring}, {NULL, NULL}};
  static const luaL_Reg cmethods[] = {{"read", c_read},   {"ready", c_ready},
                                      {"wait_on", c_wait_on}, {"write", c_write},
                                      {"queued", c_queued}, {"finish", c_finish}, {"close", c_close},
                                      {"read_frame", c_read_frame}, {"write_frame", c_write_frame},
                                      {NULL, NULL}};
  lsb_new_class(L, LSB_ULISTEN_MT, lmeta, lmethods);
  lsb_new_class(L, LSB_UCONN_MT, cmeta, cmethods);
  lsb_new_class(L, LSB_ULOCK_MT, kmeta, kmethods);
}

const luaL_Reg lsb_unix_funcs[] = {
    {"unix_listen", core_unix_listen}, {"unix_connect", core_unix_connect},
    {"unix_lock", core_unix_lock}, {NULL, NULL}};
