/* luasible.http_listener, luasible.http_conn: a small HTTP/1.1 and
 * WebSocket (RFC 6455) server on the core's loop, for the dashboard.
 *
 * Thin, as LuaSocket's C core: C accepts, reads, parses request heads (with
 * limits on their size and header count), decodes client WebSocket frames
 * (masking, fragmentation, ping/pong answered, close codes checked) and
 * encodes server frames, and queues writes whose size Lua can read.
 * Routing, authentication and JSON are Lua's (lua/luasible/serve/).
 *
 * Waking as every core object (docs/CORE.md): a task parks on a listener
 * (a connection is waiting to be taken) or a connection (a whole request
 * head, a whole frame, the end, or a write drained) with wait_on; C only
 * moves it to the woken list.  Parsing happens in conn:read(), so that Lua
 * switches a connection to WebSocket mode between two requests. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lua_core.h"

#define LSB_LISTENER_MT "luasible.http_listener"
#define LSB_CONN_MT "luasible.http_conn"

#define MAX_PENDING 128        /* accepted, not yet taken by Lua */
#define DFLT_MAX_HEAD 8192     /* bytes of a request line and headers */
#define DFLT_MAX_HEADERS 64
#define DFLT_MAX_MESSAGE 65536 /* bytes of a client WebSocket message */

typedef struct lconn {
  lsb_waitable w;
  uv_tcp_t h;
  uv_shutdown_t shut;
  lsb_ctx *ctx;
  char *in;                  /* bytes read, not parsed yet */
  size_t in_len, in_cap;
  char *msg;                 /* a fragmented message being assembled */
  size_t msg_len, msg_cap;
  int msg_op;                /* its opcode (1 text, 2 binary); 0: none */
  size_t max_head, max_message;
  int max_headers;
  size_t queued;             /* bytes handed to write, not yet written */
  size_t low_water;          /* wake the waiter when queued drops to this */
  int read_err;              /* uv error of the read side, or UV_EOF */
  int refs;                  /* the handle's (until closed) and the userdata's */
  unsigned ws : 1;           /* WebSocket mode */
  unsigned reading : 1;      /* uv_read_start is on */
  unsigned failed : 1;       /* a protocol error was reported: nothing more */
  unsigned close_sent : 1;   /* a close frame went out */
  unsigned closing : 1;      /* uv_close called */
  unsigned shutting : 1;     /* finish(): shutdown then close */
  unsigned drain_wait : 1;   /* someone waits for queued <= low_water */
} lconn;

typedef struct {
  lconn *c; /* NULL once closed; the close callback frees it */
} lconn_ud;

typedef struct {
  lsb_waitable w;
  uv_tcp_t h;
  lsb_ctx *ctx;
  lconn *pending[MAX_PENDING];
  int npending;
  size_t max_head, max_message;
  int max_headers;
  int error;                 /* a listen error (uv code), reported once */
} llisten;

typedef struct {
  llisten *l;
} llisten_ud;

typedef struct {
  uv_write_t req;
  lconn *c;
  size_t n;
  char data[];
} lwrite;

/* ------------------------------------------------------------------ */
/* connections: reading, writing, closing */

static void conn_unref(lconn *c) {
  if (--c->refs > 0) return;
  free(c->in);
  free(c->msg);
  free(c);
}

static void conn_closed(uv_handle_t *h) { conn_unref(h->data); }

static void conn_close(lconn *c) {
  if (c->closing) return;
  c->closing = 1;
  lsb_waitable_wake(&c->w); /* a task parked on it sees the end */
  uv_close((uv_handle_t *)&c->h, conn_closed);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  lconn *c = h->data;
  (void)hint;
  buf->base = c->ctx->readbuf; /* one read at a time: the shared buffer */
  buf->len = sizeof c->ctx->readbuf;
}

static int head_complete(const lconn *c);
static int frame_complete(const lconn *c);

/* Something for read() to return: a whole head or frame, or the end. */
static int conn_has_item(const lconn *c) {
  if (c->failed) return 0;
  if (c->read_err) return 1;
  return c->ws ? frame_complete(c) : head_complete(c);
}

/* More input is wanted only while what is buffered cannot be a whole item
 * and stays within the limits (a client that sends more than it may waits,
 * or is told, instead of growing our buffer). */
static void conn_update_reading(lconn *c);

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  lconn *c = st->data;
  (void)buf;
  if (n > 0) {
    if (c->in_len + (size_t)n > c->in_cap) {
      size_t cap = c->in_cap ? c->in_cap : 4096;
      char *p;
      while (cap < c->in_len + (size_t)n) cap *= 2;
      p = realloc(c->in, cap);
      if (!p) {
        c->read_err = UV_ENOMEM;
        conn_update_reading(c);
        lsb_waitable_wake(&c->w);
        return;
      }
      c->in = p;
      c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, c->ctx->readbuf, (size_t)n);
    c->in_len += (size_t)n;
    conn_update_reading(c);
    if (conn_has_item(c)) lsb_waitable_wake(&c->w);
    return;
  }
  if (n == 0) return;
  c->read_err = (int)n; /* UV_EOF or an error */
  conn_update_reading(c);
  lsb_waitable_wake(&c->w);
}

static void conn_update_reading(lconn *c) {
  size_t limit = c->ws ? c->max_message + 14 : c->max_head + 4;
  int want = !c->closing && !c->read_err && !c->failed && c->in_len <= limit &&
             !conn_has_item(c);
  if (want && !c->reading) {
    if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read) == 0) c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop((uv_stream_t *)&c->h);
    c->reading = 0;
  }
}

static void conn_written(uv_write_t *req, int status) {
  lwrite *wr = (lwrite *)req;
  lconn *c = wr->c;
  (void)status;
  c->queued -= wr->n;
  free(wr);
  /* drain_wait stays set: ready() must stay true for the woken task's
   * check (it is cleared by the drained() call that sees the queue low) */
  if (c->drain_wait && c->queued <= c->low_water) lsb_waitable_wake(&c->w);
}

/* Queue n bytes (hdr then body); returns 0 or a uv error. */
static int conn_write2(lconn *c, const char *hdr, size_t nh, const char *body, size_t nb) {
  lwrite *wr;
  uv_buf_t b;
  int err;
  if (c->closing || c->shutting) return UV_EPIPE;
  wr = malloc(sizeof *wr + nh + nb);
  if (!wr) return UV_ENOMEM;
  wr->c = c;
  wr->n = nh + nb;
  if (nh) memcpy(wr->data, hdr, nh);
  if (nb) memcpy(wr->data + nh, body, nb);
  b = uv_buf_init(wr->data, (unsigned)wr->n);
  err = uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, conn_written);
  if (err) {
    free(wr);
    return err;
  }
  c->queued += wr->n;
  return 0;
}

/* A server frame (never masked): FIN set, opcode op. */
static int conn_frame(lconn *c, int op, const char *p, size_t n) {
  unsigned char hdr[10];
  size_t nh;
  hdr[0] = (unsigned char)(0x80 | op);
  if (n < 126) {
    hdr[1] = (unsigned char)n;
    nh = 2;
  } else if (n <= 0xffff) {
    hdr[1] = 126;
    hdr[2] = (unsigned char)(n >> 8);
    hdr[3] = (unsigned char)n;
    nh = 4;
  } else {
    uint64_t len = n;
    hdr[1] = 127;
    for (int i = 0; i < 8; i++) hdr[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    nh = 10;
  }
  return conn_write2(c, (const char *)hdr, nh, p, n);
}

static int conn_send_close(lconn *c, int code, const char *reason, size_t rlen) {
  char body[125];
  size_t n = 0;
  if (c->close_sent) return 0;
  c->close_sent = 1;
  if (code) {
    if (rlen > sizeof body - 2) rlen = sizeof body - 2;
    body[0] = (char)(code >> 8);
    body[1] = (char)(code & 0xff);
    if (rlen) memcpy(body + 2, reason, rlen);
    n = 2 + rlen;
  }
  return conn_frame(c, 0x8, body, n);
}

static void conn_consume(lconn *c, size_t n) {
  memmove(c->in, c->in + n, c->in_len - n);
  c->in_len -= n;
}

/* ------------------------------------------------------------------ */
/* HTTP request heads */

static const char *find_head_end(const lconn *c) {
  if (c->in_len < 4) return NULL;
  for (size_t i = 0; i + 3 < c->in_len; i++)
    if (c->in[i] == '\r' && c->in[i + 1] == '\n' && c->in[i + 2] == '\r' && c->in[i + 3] == '\n')
      return c->in + i;
  return NULL;
}

static int head_complete(const lconn *c) {
  return find_head_end(c) != NULL || c->in_len > c->max_head;
}

static int is_tchar(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A bad request: { type = "error", status = N, reason = "..." }; nothing is
 * read from the connection after it. */
static int push_http_error(lua_State *L, lconn *c, int status, const char *reason) {
  c->failed = 1;
  conn_update_reading(c);
  lua_createtable(L, 0, 3);
  lsb_set_str(L, "type", "error");
  lsb_set_int(L, "status", status);
  lsb_set_str(L, "reason", reason);
  return 1;
}

/* Parses the head at the start of the buffer:
 * { type = "request", method, target, version = "1.1", headers = { [lower-case
 * name] = value (repeated ones joined with ", ") } } */
static int read_request(lua_State *L, lconn *c) {
  const char *end = find_head_end(c), *p, *line_end, *sp1, *sp2;
  size_t head_len;
  int nheaders = 0, hidx;
  char name[64];
  if (!end) {
    if (c->in_len > c->max_head) return push_http_error(L, c, 431, "request head too large");
    return 0;
  }
  head_len = (size_t)(end - c->in) + 4;
  if (head_len > c->max_head) return push_http_error(L, c, 431, "request head too large");
  p = c->in;
  /* a client may send empty lines before a request (RFC 9112 2.2) */
  while (p + 1 < end && p[0] == '\r' && p[1] == '\n') p += 2;
  line_end = memchr(p, '\r', (size_t)(end + 2 - p));
  if (!line_end || line_end[1] != '\n') return push_http_error(L, c, 400, "bad request line");
  sp1 = memchr(p, ' ', (size_t)(line_end - p));
  if (!sp1 || sp1 == p) return push_http_error(L, c, 400, "bad request line");
  for (const char *q = p; q < sp1; q++)
    if (!is_tchar((unsigned char)*q)) return push_http_error(L, c, 400, "bad method");
  sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
  if (!sp2 || sp2 == sp1 + 1) return push_http_error(L, c, 400, "bad request line");
  for (const char *q = sp1 + 1; q < sp2; q++)
    if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
      return push_http_error(L, c, 400, "bad request target");
  if (line_end - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
    if (line_end - sp2 - 1 >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0)
      return push_http_error(L, c, 505, "HTTP version not supported");
    return push_http_error(L, c, 400, "bad HTTP version");
  }
  if (sp2[8] != '0' && sp2[8] != '1') return push_http_error(L, c, 505, "HTTP version not supported");
  lua_createtable(L, 0, 5);
  lsb_set_str(L, "type", "request");
  lua_pushlstring(L, p, (size_t)(sp1 - p));
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  lua_setfield(L, -2, "target");
  lua_pushlstring(L, sp2 + 6, 3);
  lua_setfield(L, -2, "version");
  lua_newtable(L);
  hidx = lua_gettop(L);
  p = line_end + 2;
  while (p < end + 2) {
    const char *colon, *v, *ve;
    size_t nlen;
    line_end = memchr(p, '\r', (size_t)(end + 2 - p));
    if (!line_end || line_end[1] != '\n') return lua_settop(L, hidx - 2), push_http_error(L, c, 400, "bad header line");
    if (++nheaders > c->max_headers) {
      lua_settop(L, hidx - 2);
      return push_http_error(L, c, 431, "too many header fields");
    }
    colon = memchr(p, ':', (size_t)(line_end - p));
    nlen = colon ? (size_t)(colon - p) : 0;
    if (!colon || nlen == 0 || nlen >= sizeof name) {
      lua_settop(L, hidx - 2);
      return push_http_error(L, c, 400, "bad header field");
    }
    for (size_t i = 0; i < nlen; i++) {
      unsigned char ch = (unsigned char)p[i];
      if (!is_tchar(ch)) { /* also a space before the colon, a folded line */
        lua_settop(L, hidx - 2);
        return push_http_error(L, c, 400, "bad header field name");
      }
      name[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    name[nlen] = '\0';
    v = colon + 1;
    ve = line_end;
    while (v < ve && (*v == ' ' || *v == '\t')) v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
    for (const char *q = v; q < ve; q++)
      if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f) {
        lua_settop(L, hidx - 2);
        return push_http_error(L, c, 400, "bad header field value");
      }
    if (lua_getfield(L, hidx, name) != LUA_TNIL) {
      if (strcmp(name, "host") == 0 || strcmp(name, "content-length") == 0) {
        lua_settop(L, hidx - 2);
        return push_http_error(L, c, 400, "repeated header field");
      }
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, v, (size_t)(ve - v));
    }
    lua_setfield(L, hidx, name);
    p = line_end + 2;
  }
  /* read-only: no request carries a body */
  if (lua_getfield(L, hidx, "transfer-encoding") != LUA_TNIL) {
    lua_settop(L, hidx - 2);
    return push_http_error(L, c, 411, "request bodies are not accepted");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, hidx, "content-length") != LUA_TNIL) {
    const char *cl = lua_tostring(L, -1);
    if (strspn(cl, "0") != strlen(cl) || !*cl) {
      lua_settop(L, hidx - 2);
      return push_http_error(L, c, 413, "request bodies are not accepted");
    }
  }
  lua_pop(L, 1);
  lua_setfield(L, hidx - 1, "headers");
  conn_consume(c, head_len);
  return 1;
}

/* ------------------------------------------------------------------ */
/* WebSocket frames from the client */

/* The length of the whole frame at the start of the buffer, 0 when more
 * bytes are needed, (size_t)-1 when its header alone is already an error. */
static size_t frame_length(const lconn *c, uint64_t *payload, size_t *hdr_len) {
  const unsigned char *b = (const unsigned char *)c->in;
  uint64_t len;
  size_t h = 2;
  if (c->in_len < 2) return 0;
  len = b[1] & 0x7f;
  if (len == 126) {
    if (c->in_len < 4) return 0;
    len = ((uint64_t)b[2] << 8) | b[3];
    h = 4;
  } else if (len == 127) {
    if (c->in_len < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; i++) len = (len << 8) | b[2 + i];
    h = 10;
  }
  h += (b[1] & 0x80) ? 4 : 0;
  *payload = len;
  *hdr_len = h;
  if (len > c->max_message) return (size_t)-1;
  if (c->in_len < h + len) return 0;
  return h + (size_t)len;
}

static int frame_complete(const lconn *c) {
  uint64_t len;
  size_t h;
  return frame_length(c, &len, &h) != 0;
}

static int utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char ch = s[i];
    size_t k;
    uint32_t cp;
    if (ch < 0x80) { i++; continue; }
    if (ch >= 0xc2 && ch <= 0xdf) { k = 1; cp = ch & 0x1f; }
    else if (ch >= 0xe0 && ch <= 0xef) { k = 2; cp = ch & 0x0f; }
    else if (ch >= 0xf0 && ch <= 0xf4) { k = 3; cp = ch & 0x07; }
    else return 0;
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + j] & 0x3f);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += k + 1;
  }
  return 1;
}

/* A protocol error: a close frame with the code goes out, and read()
 * returns { type = "error", code = N, reason = "..." } once. */
static int push_ws_error(lua_State *L, lconn *c, int code, const char *reason) {
  conn_send_close(c, code, reason, strlen(reason));
  c->failed = 1;
  conn_update_reading(c);
  lua_createtable(L, 0, 3);
  lsb_set_str(L, "type", "error");
  lsb_set_int(L, "code", code);
  lsb_set_str(L, "reason", reason);
  return 1;
}

static int valid_close_code(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

/* The next whole message or control frame:
 * { type = "text"|"binary"|"ping"|"pong"|"close", data, code (close) }.
 * Pings are answered here; a close is answered with the same code. */
static int read_frame(lua_State *L, lconn *c) {
  for (;;) {
    uint64_t len;
    size_t hlen, total = frame_length(c, &len, &hlen);
    unsigned char *b = (unsigned char *)c->in, *data, *mask;
    int fin, op;
    if (total == (size_t)-1) return push_ws_error(L, c, 1009, "message too big");
    if (total == 0) return 0;
    fin = b[0] & 0x80;
    op = b[0] & 0x0f;
    if (b[0] & 0x70) return push_ws_error(L, c, 1002, "reserved bits set");
    if (!(b[1] & 0x80)) return push_ws_error(L, c, 1002, "client frame not masked");
    mask = b + hlen - 4;
    data = b + hlen;
    for (size_t i = 0; i < len; i++) data[i] ^= mask[i & 3];
    if (op >= 0x8) {
      if (!fin || len > 125) return push_ws_error(L, c, 1002, "bad control frame");
      if (op == 0x9) { /* ping: pong with the same data */
        conn_frame(c, 0xA, (const char *)data, (size_t)len);
        lua_createtable(L, 0, 2);
        lsb_set_str(L, "type", "ping");
      } else if (op == 0xA) {
        lua_createtable(L, 0, 2);
        lsb_set_str(L, "type", "pong");
      } else if (op == 0x8) {
        int code = 1005;
        if (len == 1) return push_ws_error(L, c, 1002, "bad close frame");
        if (len >= 2) {
          code = (data[0] << 8) | data[1];
          if (!valid_close_code(code)) return push_ws_error(L, c, 1002, "bad close code");
          if (!utf8_valid(data + 2, (size_t)len - 2))
            return push_ws_error(L, c, 1007, "close reason not UTF-8");
        }
        conn_send_close(c, code == 1005 ? 1000 : code, NULL, 0);
        c->failed = 1; /* nothing is read after a close */
        lua_createtable(L, 0, 3);
        lsb_set_str(L, "type", "close");
        lsb_set_int(L, "code", code);
        lua_pushlstring(L, len >= 2 ? (const char *)data + 2 : "", len >= 2 ? (size_t)len - 2 : 0);
        lua_setfield(L, -2, "reason");
        conn_consume(c, total);
        conn_update_reading(c);
        return 1;
      } else {
        return push_ws_error(L, c, 1002, "unknown opcode");
      }
      lua_pushlstring(L, (const char *)data, (size_t)len);
      lua_setfield(L, -2, "data");
      conn_consume(c, total);
      conn_update_reading(c);
      return 1;
    }
    if (op == 0x0) {
      if (!c->msg_op) return push_ws_error(L, c, 1002, "continuation without a message");
    } else if (op == 0x1 || op == 0x2) {
      if (c->msg_op) return push_ws_error(L, c, 1002, "new message inside a fragmented one");
      c->msg_op = op;
      c->msg_len = 0;
    } else {
      return push_ws_error(L, c, 1002, "unknown opcode");
    }
    if (c->msg_len + len > c->max_message) return push_ws_error(L, c, 1009, "message too big");
    if (c->msg_len + len > c->msg_cap) {
      size_t cap = c->msg_len + (size_t)len;
      char *p = realloc(c->msg, cap ? cap : 1);
      if (!p) return push_ws_error(L, c, 1011, "out of memory");
      c->msg = p;
      c->msg_cap = cap;
    }
    if (len) memcpy(c->msg + c->msg_len, data, (size_t)len);
    c->msg_len += (size_t)len;
    conn_consume(c, total);
    if (fin) {
      int mop = c->msg_op;
      c->msg_op = 0;
      if (mop == 1 && !utf8_valid((const unsigned char *)c->msg, c->msg_len))
        return push_ws_error(L, c, 1007, "text message not UTF-8");
      lua_createtable(L, 0, 2);
      lsb_set_str(L, "type", mop == 1 ? "text" : "binary");
      lua_pushlstring(L, c->msg ? c->msg : "", c->msg_len);
      lua_setfield(L, -2, "data");
      conn_update_reading(c);
      return 1;
    }
  }
}

/* ------------------------------------------------------------------ */
/* the connection's Lua face */

static lconn *check_conn(lua_State *L) {
  lconn_ud *ud = luaL_checkudata(L, 1, LSB_CONN_MT);
  if (!ud->c) luaL_error(L, LSB_CONN_MT ": used after close");
  return ud->c;
}

/* conn:read() -> the next item (a request head, or in WebSocket mode a
 * message or control frame), { type = "eof", error = "NAME: msg"|nil } at
 * the end, or nil when nothing whole is there yet. */
static int c_read(lua_State *L) {
  lconn *c = check_conn(L);
  int n;
  if (c->failed) return 0;
  if (c->closing || c->shutting) {
    lua_createtable(L, 0, 1);
    lsb_set_str(L, "type", "eof");
    return 1;
  }
  n = c->ws ? read_frame(L, c) : read_request(L, c);
  if (n) return n;
  if (c->read_err) {
    lua_createtable(L, 0, 2);
    lsb_set_str(L, "type", "eof");
    if (c->read_err != UV_EOF) {
      lua_pushfstring(L, "%s: %s", uv_err_name(c->read_err), uv_strerror(c->read_err));
      lua_setfield(L, -2, "error");
    }
    return 1;
  }
  conn_update_reading(c);
  return 0;
}

static int c_ready(lua_State *L) {
  lconn_ud *ud = luaL_checkudata(L, 1, LSB_CONN_MT);
  lconn *c = ud->c;
  lua_pushboolean(L, !c || c->failed || c->closing || c->shutting || conn_has_item(c) ||
                         (c->drain_wait && c->queued <= c->low_water));
  return 1;
}

static int c_wait_on(lua_State *L) {
  lconn *c = check_conn(L);
  luaL_checkany(L, 2);
  lsb_waiter_set(L, &c->w, 2);
  if (c->failed || conn_has_item(c)) lsb_waitable_wake(&c->w);
  return 0;
}

/* conn:drained(low) -> true when at most low bytes are queued; otherwise
 * false, and ready() becomes true (a waiter is woken) once they are. */
static int c_drained(lua_State *L) {
  lconn *c = check_conn(L);
  lua_Integer low = luaL_optinteger(L, 2, 0);
  if (c->queued <= (size_t)(low < 0 ? 0 : low)) {
    c->drain_wait = 0;
    lua_pushboolean(L, 1);
    return 1;
  }
  c->low_water = (size_t)low;
  c->drain_wait = 1;
  lua_pushboolean(L, 0);
  return 1;
}

static int write_result(lua_State *L, int err, const char *what) {
  if (err) return lsb_fail_uv(L, err, what);
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:write(s): raw bytes (an HTTP response) */
static int c_write(lua_State *L) {
  lconn *c = check_conn(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  return write_result(L, conn_write2(c, s, n, NULL, 0), "write");
}

/* conn:send(s [, "text"|"binary"|"ping"]): one WebSocket frame */
static int c_send(lua_State *L) {
  static const char *const kinds[] = {"text", "binary", "ping", NULL};
  static const int ops[] = {0x1, 0x2, 0x9};
  lconn *c = check_conn(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  int k = luaL_checkoption(L, 3, "text", kinds);
  if (!c->ws) return luaL_error(L, LSB_CONN_MT ": send before upgrade");
  if (c->close_sent) return lsb_fail(L, "EPIPE", "send: close frame already sent");
  if (k == 2 && n > 125) return luaL_argerror(L, 2, "a ping carries at most 125 bytes");
  return write_result(L, conn_frame(c, ops[k], s, n), "send");
}

/* conn:send_close([code [, reason]]) */
static int c_send_close(lua_State *L) {
  lconn *c = check_conn(L);
  lua_Integer code = luaL_optinteger(L, 2, 1000);
  size_t n = 0;
  const char *reason = luaL_optlstring(L, 3, "", &n);
  if (!c->ws) return luaL_error(L, LSB_CONN_MT ": send_close before upgrade");
  luaL_argcheck(L, valid_close_code((int)code), 2, "not a close code to send");
  return write_result(L, conn_send_close(c, (int)code, reason, n), "send_close");
}

/* conn:upgrade(): WebSocket mode from now on (after the 101 response) */
static int c_upgrade(lua_State *L) {
  lconn *c = check_conn(L);
  c->ws = 1;
  conn_update_reading(c);
  if (conn_has_item(c)) lsb_waitable_wake(&c->w);
  return 0;
}

/* conn:queued() -> bytes written by Lua and not yet taken by the socket */
static int c_queued(lua_State *L) {
  lconn *c = check_conn(L);
  lua_pushinteger(L, (lua_Integer)c->queued);
  return 1;
}

/* conn:peer() -> address, port */
static int c_peer(lua_State *L) {
  lconn *c = check_conn(L);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char buf[64];
  int err = uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &len);
  if (err) return lsb_fail_uv(L, err, "peer");
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_pushinteger(L, ntohs(a->sin6_port));
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    uv_ip4_name(a, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_pushinteger(L, ntohs(a->sin_port));
  }
  return 2;
}

static void conn_shut(uv_shutdown_t *req, int status) {
  lconn *c = req->data;
  (void)status;
  conn_close(c);
}

/* conn:finish(): close once what is queued is written (a graceful end) */
static int c_finish(lua_State *L) {
  lconn_ud *ud = luaL_checkudata(L, 1, LSB_CONN_MT);
  lconn *c = ud->c;
  if (!c || c->closing || c->shutting) return 0;
  c->shutting = 1;
  c->shut.data = c;
  if (uv_shutdown(&c->shut, (uv_stream_t *)&c->h, conn_shut) != 0) conn_close(c);
  return 0;
}

static int c_closing(lua_State *L) {
  lconn_ud *ud = luaL_checkudata(L, 1, LSB_CONN_MT);
  lua_pushboolean(L, !ud->c || ud->c->closing || ud->c->shutting);
  return 1;
}

/* conn:close(): now, whatever is queued (also __close, __gc) */
static int c_close(lua_State *L) {
  lconn_ud *ud = luaL_checkudata(L, 1, LSB_CONN_MT);
  lconn *c = ud->c;
  if (!c) return 0;
  ud->c = NULL;
  lsb_waiter_release(L, &c->w);
  conn_close(c);
  conn_unref(c);
  return 0;
}

static int c_tostring(lua_State *L) {
  lconn_ud *ud = luaL_checkudata(L, 1, LSB_CONN_MT);
  lua_pushfstring(L, LSB_CONN_MT " (%s): %p",
                  !ud->c ? "closed" : ud->c->ws ? "websocket" : "http", (void *)ud);
  return 1;
}

/* ------------------------------------------------------------------ */
/* the listener */

static void listener_closed(uv_handle_t *h) { free(h->data); }

static lconn *conn_new(llisten *l) {
  lconn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->ctx = l->ctx;
  c->w.ctx = l->ctx;
  c->w.waiter_ref = LUA_NOREF;
  c->max_head = l->max_head;
  c->max_headers = l->max_headers;
  c->max_message = l->max_message;
  c->refs = 1;
  uv_tcp_init(l->ctx->loop, &c->h);
  c->h.data = c;
  return c;
}

static void on_connection(uv_stream_t *server, int status) {
  llisten *l = server->data;
  lconn *c;
  if (status < 0) {
    l->error = status;
    lsb_waitable_wake(&l->w);
    return;
  }
  c = conn_new(l);
  if (!c) return;
  if (uv_accept(server, (uv_stream_t *)&c->h) != 0 || l->npending >= MAX_PENDING) {
    conn_close(c); /* too many waiting to be taken: this one is refused */
    return;
  }
  uv_tcp_nodelay(&c->h, 1);
  l->pending[l->npending++] = c;
  lsb_waitable_wake(&l->w);
}

static size_t opt_size(lua_State *L, int idx, const char *k, size_t dflt, size_t lo) {
  double v = lsb_opt_num(L, idx, "http_listen", k, (double)dflt, 1);
  if (v < (double)lo || v > 1e9) luaL_error(L, "bad option '%s' to 'http_listen' (out of range)", k);
  return (size_t)v;
}

/* core.http_listen(address, port [, opts]) -> listener, or the fail tuple.
 * port 0: a free one (listener:address() tells).  opts: backlog,
 * max_head (bytes), max_headers, max_message (bytes of a client message). */
static int core_http_listen(lua_State *L) {
  static const char *const known[] = {"backlog", "max_head", "max_headers", "max_message", NULL};
  lsb_ctx *ctx = lsb_ctx_get(L);
  const char *addr = luaL_checkstring(L, 1);
  lua_Integer port = luaL_checkinteger(L, 2);
  struct sockaddr_storage ss;
  llisten_ud *ud;
  llisten *l;
  int err, backlog = 128;
  luaL_argcheck(L, port >= 0 && port <= 65535, 2, "not a port number");
  if (uv_ip4_addr(addr, (int)port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(addr, (int)port, (struct sockaddr_in6 *)&ss) != 0)
    return lsb_fail(L, "EINVAL", "http_listen: not an IP address: %s", addr);
  size_t max_head = DFLT_MAX_HEAD, max_message = DFLT_MAX_MESSAGE;
  int max_headers = DFLT_MAX_HEADERS;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lsb_check_options(L, 3, "http_listen", known);
    backlog = (int)opt_size(L, 3, "backlog", 128, 1);
    max_head = opt_size(L, 3, "max_head", DFLT_MAX_HEAD, 64);
    max_headers = (int)opt_size(L, 3, "max_headers", DFLT_MAX_HEADERS, 1);
    max_message = opt_size(L, 3, "max_message", DFLT_MAX_MESSAGE, 125);
  }
  lua_settop(L, 2);
  ud = lua_newuserdatauv(L, sizeof *ud, 0);
  ud->l = NULL;
  luaL_setmetatable(L, LSB_LISTENER_MT);
  l = calloc(1, sizeof *l);
  if (!l) return luaL_error(L, "not enough memory");
  l->ctx = ctx;
  l->w.ctx = ctx;
  l->w.waiter_ref = LUA_NOREF;
  l->max_head = max_head;
  l->max_headers = max_headers;
  l->max_message = max_message;
  uv_tcp_init(ctx->loop, &l->h);
  l->h.data = l;
  err = uv_tcp_bind(&l->h, (struct sockaddr *)&ss, 0);
  if (!err) err = uv_listen((uv_stream_t *)&l->h, backlog, on_connection);
  if (err) {
    uv_close((uv_handle_t *)&l->h, listener_closed);
    return lsb_fail_uv(L, err, "http_listen");
  }
  ud->l = l;
  return 1;
}

static llisten *check_listener(lua_State *L) {
  llisten_ud *ud = luaL_checkudata(L, 1, LSB_LISTENER_MT);
  if (!ud->l) luaL_error(L, LSB_LISTENER_MT ": used after close");
  return ud->l;
}

/* listener:accept() -> a connection, nil when none is waiting, or the fail
 * tuple when listening failed */
static int l_accept(lua_State *L) {
  llisten *l = check_listener(L);
  lconn_ud *ud;
  if (l->error) {
    int err = l->error;
    l->error = 0;
    return lsb_fail_uv(L, err, "accept");
  }
  if (!l->npending) return 0;
  ud = lua_newuserdatauv(L, sizeof *ud, 0);
  ud->c = l->pending[0];
  memmove(l->pending, l->pending + 1, (size_t)(l->npending - 1) * sizeof l->pending[0]);
  l->npending--;
  ud->c->refs++;
  luaL_setmetatable(L, LSB_CONN_MT);
  conn_update_reading(ud->c);
  return 1;
}

static int l_ready(lua_State *L) {
  llisten_ud *ud = luaL_checkudata(L, 1, LSB_LISTENER_MT);
  lua_pushboolean(L, !ud->l || ud->l->npending > 0 || ud->l->error);
  return 1;
}

static int l_wait_on(lua_State *L) {
  llisten *l = check_listener(L);
  luaL_checkany(L, 2);
  lsb_waiter_set(L, &l->w, 2);
  if (l->npending || l->error) lsb_waitable_wake(&l->w);
  return 0;
}

/* listener:address() -> address, port */
static int l_address(lua_State *L) {
  llisten *l = check_listener(L);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char buf[64];
  int err = uv_tcp_getsockname(&l->h, (struct sockaddr *)&ss, &len);
  if (err) return lsb_fail_uv(L, err, "address");
  if (ss.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&ss, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_pushinteger(L, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
  } else {
    uv_ip4_name((struct sockaddr_in *)&ss, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_pushinteger(L, ntohs(((struct sockaddr_in *)&ss)->sin_port));
  }
  return 2;
}

static int l_close(lua_State *L) {
  llisten_ud *ud = luaL_checkudata(L, 1, LSB_LISTENER_MT);
  llisten *l = ud->l;
  if (!l) return 0;
  ud->l = NULL;
  lsb_waiter_release(L, &l->w);
  for (int i = 0; i < l->npending; i++) conn_close(l->pending[i]);
  l->npending = 0;
  uv_close((uv_handle_t *)&l->h, listener_closed);
  return 0;
}

static int l_tostring(lua_State *L) {
  llisten_ud *ud = luaL_checkudata(L, 1, LSB_LISTENER_MT);
  lua_pushfstring(L, LSB_LISTENER_MT " (%s): %p", ud->l ? "listening" : "closed", (void *)ud);
  return 1;
}

/* core.websocket_accept(key) -> the Sec-WebSocket-Accept value: base64 of
 * the SHA-1 of key .. the RFC 6455 GUID (libcrypto) */
static int core_websocket_accept(lua_State *L) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  size_t n;
  const char *key = luaL_checklstring(L, 1, &n);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char out[LSB_BASE64_LEN(20) + 1];
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  int ok = m && EVP_DigestInit_ex(m, EVP_sha1(), NULL) && EVP_DigestUpdate(m, key, n) &&
           EVP_DigestUpdate(m, guid, sizeof guid - 1) && EVP_DigestFinal_ex(m, md, &mdlen);
  EVP_MD_CTX_free(m);
  if (!ok || mdlen != 20) return lsb_fail(L, "EIO", "websocket_accept: SHA-1 failed");
  lsb_base64_encode(md, 20, out, 1);
  lua_pushstring(L, out);
  return 1;
}

void lsb_open_http(lua_State *L) {
  static const luaL_Reg lmeta[] = {
      {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};
  static const luaL_Reg lmethods[] = {
      {"accept", l_accept}, {"ready", l_ready},   {"wait_on", l_wait_on},
      {"address", l_address}, {"close", l_close}, {NULL, NULL}};
  static const luaL_Reg cmeta[] = {
      {"__gc", c_close}, {"__close", c_close}, {"__tostring", c_tostring}, {NULL, NULL}};
  static const luaL_Reg cmethods[] = {
      {"read", c_read},       {"ready", c_ready},     {"wait_on", c_wait_on},
      {"write", c_write},     {"send", c_send},       {"send_close", c_send_close},
      {"upgrade", c_upgrade}, {"queued", c_queued},   {"drained", c_drained},
      {"peer", c_peer},       {"finish", c_finish},   {"closing", c_closing},
      {"close", c_close},     {NULL, NULL}};
  lsb_new_class(L, LSB_LISTENER_MT, lmeta, lmethods);
  lsb_new_class(L, LSB_CONN_MT, cmeta, cmethods);
}

const luaL_Reg lsb_http_funcs[] = {
    {"http_listen", core_http_listen}, {"websocket_accept", core_websocket_accept}, {NULL, NULL}};
