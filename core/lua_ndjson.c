/* core.ndjson_scan(path, offset, every): the indexes of a dashboard log
 * (luasible serve FILE) in one pass, fast enough for a log of a gigabyte
 * (lua/luasible/serve/store.lua, bench/serve_bench.lua).
 *
 * The log is luasible.json's NDJSON: keys sorted, so an output line ends
 * with "type":"stdout"} (or stderr) and names its host as ,"host":"NAME",
 * -- a sequence that cannot occur inside a JSON string, where every quote
 * is escaped.  Output lines are only counted (per host, and per host and
 * task_id) with the offset of every `every`-th; every other line (and any
 * output line this cheap reading is not sure of) is handed to Lua whole,
 * which decodes it.  Only whole lines are read: the run may be writing the
 * last one. */
#define _GNU_SOURCE /* memmem, memrchr (glibc's, vectorised); before any header */
#include <errno.h>
#include <float.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua_core.h"

#define SCAN_BUF (8u << 20)   /* ndjson_grep's reads */
#define SCAN_MAP (256u << 20) /* ndjson_scan's window */

typedef struct {
  int64_t *v;
  size_t n, cap;
} i64s;

typedef struct {
  int64_t n;      /* lines */
  i64s off;       /* offset of line 0, every, 2 * every, ... */
  int64_t last;   /* offset of the last line */
} counter;

typedef struct {
  char *name;
  size_t len;
  counter all;
  counter *tasks; /* by task_id (1-based ids; index 0 unused) */
  size_t ntasks;
} hostrec;

typedef struct {
  hostrec *h;
  size_t n, cap; /* open addressing: cap a power of 2 */
} hosttab;

static int push64(i64s *a, int64_t x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    int64_t *p = realloc(a->v, cap * sizeof *p);
    if (!p) return -1;
    a->v = p;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return 0;
}

static int count(counter *c, int64_t off, int64_t every) {
  if (c->n % every == 0 && push64(&c->off, off) != 0) return -1;
  c->n++;
  c->last = off;
  return 0;
}

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  return h;
}

static hostrec *host_get(hosttab *t, const char *s, size_t n) {
  size_t i;
  if (t->n * 2 >= t->cap) { /* grow */
    size_t cap = t->cap ? t->cap * 2 : 256;
    hostrec *nh = calloc(cap, sizeof *nh);
    if (!nh) return NULL;
    for (size_t k = 0; k < t->cap; k++) {
      if (!t->h[k].name) continue;
      i = hash(t->h[k].name, t->h[k].len) & (cap - 1);
      while (nh[i].name) i = (i + 1) & (cap - 1);
      nh[i] = t->h[k];
    }
    free(t->h);
    t->h = nh;
    t->cap = cap;
  }
  i = hash(s, n) & (t->cap - 1);
  while (t->h[i].name) {
    if (t->h[i].len == n && memcmp(t->h[i].name, s, n) == 0) return &t->h[i];
    i = (i + 1) & (t->cap - 1);
  }
  t->h[i].name = malloc(n + 1);
  if (!t->h[i].name) return NULL;
  memcpy(t->h[i].name, s, n);
  t->h[i].name[n] = '\0';
  t->h[i].len = n;
  t->n++;
  return &t->h[i];
}

static void hosttab_free(hosttab *t) {
  for (size_t k = 0; k < t->cap; k++) {
    hostrec *h = &t->h[k];
    if (!h->name) continue;
    free(h->name);
    free(h->all.off.v);
    for (size_t j = 0; j < h->ntasks; j++) free(h->tasks[j].off.v);
    free(h->tasks);
  }
  free(t->h);
}

/* needle (m > 0 bytes) in p[0..n), or NULL */
static const char *find(const char *p, size_t n, const char *needle, size_t m) {
  return memmem(p, n, needle, m);
}

/* The last needle (m > 0 bytes) in p[0..n), or NULL. */
static const char *rfind(const char *p, size_t n, const char *needle, size_t m) {
  while (n >= m) {
    const char *q = memrchr(p, needle[0], n - m + 1);
    if (!q) return NULL;
    if (memcmp(q, needle, m) == 0) return q;
    n = (size_t)(q - p) + m - 1;
    if (q == p) return NULL;
  }
  return NULL;
}

/* One output line: 1 counted, 0 not an output line this reading is sure
 * of (Lua decodes it), -1 out of memory. */
static int output_line(hosttab *t, const char *p, size_t n, int64_t off, int64_t every) {
  static const char k_host[] = ",\"host\":\"", k_task[] = ",\"task_id\":";
  const char *h, *e, *tid;
  hostrec *r;
  if (n < 17 || (memcmp(p + n - 17, ",\"type\":\"stdout\"}", 17) != 0 &&
                 memcmp(p + n - 17, ",\"type\":\"stderr\"}", 17) != 0))
    return 0;
  /* from the end: the keys after "host" (play, seq, stream_seq, task,
   * task_id, timestamp) are short; "data", before it, may be long */
  h = rfind(p, n - 17, k_host, sizeof k_host - 1);
  if (!h) return 0;
  h += sizeof k_host - 1;
  e = memchr(h, '"', (size_t)(p + n - h));
  if (!e || memchr(h, '\\', (size_t)(e - h))) return 0; /* an escape: Lua reads it */
  r = host_get(t, h, (size_t)(e - h));
  if (!r) return -1;
  if (count(&r->all, off, every) != 0) return -1;
  tid = rfind(e, (size_t)(p + n - 17 - e), k_task, sizeof k_task - 1);
  if (tid) {
    char *end;
    long long id = strtoll(tid + sizeof k_task - 1, &end, 10);
    if (id >= 1 && id < (1 << 24)) {
      if ((size_t)id >= r->ntasks) {
        size_t nt = (size_t)id + 16;
        counter *nc = realloc(r->tasks, nt * sizeof *nc);
        if (!nc) return -1;
        memset(nc + r->ntasks, 0, (nt - r->ntasks) * sizeof *nc);
        r->tasks = nc;
        r->ntasks = nt;
      }
      if (count(&r->tasks[id], off, every) != 0) return -1;
    }
  }
  return 1;
}

static void push_counter(lua_State *L, const counter *c) {
  lua_createtable(L, 0, 3);
  lsb_set_int(L, "n", c->n);
  lsb_set_int(L, "last", c->last);
  lua_createtable(L, (int)c->off.n, 0);
  for (size_t i = 0; i < c->off.n; i++) {
    lua_pushinteger(L, c->off.v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "off");
}

/* core.ndjson_scan(path, offset, every) -> { size (the offset after the
 * last whole line), lines, seq_off = { offsets of lines 0, every, ... },
 * special = { off1, line1, n1, off2, line2, n2, ... } (n: the line's number,
 * 1-based), hosts = { [name] = { all =
 * { n, off, last }, tasks = { [id] = { n, off, last } } } } }, or the fail
 * tuple.  Counts and offsets start from `offset` (the beginning of a line). */
static int core_ndjson_scan(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int64_t off = (int64_t)luaL_optinteger(L, 2, 0);
  int64_t every = (int64_t)luaL_optinteger(L, 3, 64);
  int fd, special, nspecial = 0, oom = 0;
  hosttab t = {NULL, 0, 0};
  i64s seq_off = {NULL, 0, 0};
  struct stat st;
  int64_t lines = 0, pg = sysconf(_SC_PAGESIZE);
  luaL_argcheck(L, off >= 0, 2, "must not be negative");
  luaL_argcheck(L, every >= 1, 3, "must be at least 1");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return lsb_fail_errno(L, errno, "ndjson_scan: %s", path);
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return lsb_fail_errno(L, err, "ndjson_scan: %s", path);
  }
  lua_settop(L, 3);
  lua_newtable(L); /* 4: special */
  special = 4;
  /* mapped a window at a time (no copy of the page cache); the lines that
   * start in it, each whole */
  while (off < (int64_t)st.st_size && !oom) {
    int64_t base = off - off % pg, start = off;
    size_t len = (size_t)((int64_t)st.st_size - base < (int64_t)SCAN_MAP ? (int64_t)st.st_size - base
                                                                        : (int64_t)SCAN_MAP);
    char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, base);
    const char *p, *end;
    if (map == MAP_FAILED) break;
    madvise(map, len, MADV_SEQUENTIAL);
    p = map + (off - base);
    end = map + len;
    for (;;) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t n;
      int r;
      if (!nl) break;
      n = (size_t)(nl - p);
      if (n > 0) {
        if (lines % every == 0 && push64(&seq_off, off) != 0) { oom = 1; break; }
        r = output_line(&t, p, n, off, every);
        if (r < 0) { oom = 1; break; }
        lines++;
        if (r == 0) {
          lua_pushinteger(L, off);
          lua_rawseti(L, special, ++nspecial);
          lua_pushlstring(L, p, n);
          lua_rawseti(L, special, ++nspecial);
          lua_pushinteger(L, lines);
          lua_rawseti(L, special, ++nspecial);
        }
      }
      off += (int64_t)n + 1;
      p = nl + 1;
    }
    munmap(map, len);
    if (off == start) break; /* an unterminated last line, or one longer than the window */
  }
  close(fd);
  if (oom) {
    hosttab_free(&t);
    free(seq_off.v);
    return luaL_error(L, "not enough memory");
  }
  lua_createtable(L, 0, 5);
  lsb_set_int(L, "size", off);
  lsb_set_int(L, "lines", lines);
  lua_pushvalue(L, special);
  lua_setfield(L, -2, "special");
  lua_createtable(L, (int)seq_off.n, 0);
  for (size_t i = 0; i < seq_off.n; i++) {
    lua_pushinteger(L, seq_off.v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "seq_off");
  lua_newtable(L);
  for (size_t k = 0; k < t.cap; k++) {
    hostrec *h = &t.h[k];
    if (!h->name) continue;
    lua_pushlstring(L, h->name, h->len);
    lua_createtable(L, 0, 2);
    push_counter(L, &h->all);
    lua_setfield(L, -2, "all");
    lua_newtable(L);
    for (size_t j = 1; j < h->ntasks; j++) {
      if (!h->tasks[j].n) continue;
      push_counter(L, &h->tasks[j]);
      lua_rawseti(L, -2, (lua_Integer)j);
    }
    lua_setfield(L, -2, "tasks");
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "hosts");
  hosttab_free(&t);
  free(seq_off.v);
  return 1;
}

/* core.ndjson_grep(path, from, to, needle, max [, output_only]) -> lines,
 * stop: the whole lines of bytes [from, to) of the file that contain
 * needle (only output lines, by their ending, with output_only), as
 * { off1, line1, off2, line2, ... }, at most max of them; stop is where a
 * next call goes on (to when the range was read to its end).  The reading
 * jumps from one occurrence of needle to the next: no line is looked at
 * that does not hold it.  `from` must be the start of a line. */
static int core_ndjson_grep(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int64_t from = (int64_t)luaL_checkinteger(L, 2);
  int64_t to = (int64_t)luaL_checkinteger(L, 3);
  size_t m;
  const char *needle = luaL_checklstring(L, 4, &m);
  lua_Integer max = luaL_checkinteger(L, 5);
  int output_only = lua_toboolean(L, 6);
  lua_Integer nhits = 0;
  int fd, out;
  char *buf;
  int64_t base = from; /* file offset of buf[0] */
  luaL_argcheck(L, m > 0, 4, "must not be empty");
  luaL_argcheck(L, from >= 0 && to >= from, 3, "not a range");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return lsb_fail_errno(L, errno, "ndjson_grep: %s", path);
  buf = malloc(SCAN_BUF);
  if (!buf) {
    close(fd);
    return luaL_error(L, "not enough memory");
  }
  lua_settop(L, 6);
  lua_newtable(L);
  out = lua_gettop(L);
  while (base < to && nhits < max) {
    size_t want = (size_t)(to - base < (int64_t)SCAN_BUF ? to - base : (int64_t)SCAN_BUF), have = 0, lines_end;
    const char *p, *end, *lastnl;
    while (have < want) {
      ssize_t got = pread(fd, buf + have, want - have, base + (int64_t)have);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      have += (size_t)got;
    }
    if (have == 0) break;
    /* whole lines only */
    lastnl = NULL;
    for (size_t i = have; i > 0; i--)
      if (buf[i - 1] == '\n') { lastnl = buf + i - 1; break; }
    if (!lastnl) break; /* a line longer than the buffer, or none whole */
    lines_end = (size_t)(lastnl - buf) + 1;
    p = buf;
    end = buf + lines_end;
    while (p < end && nhits < max) {
      const char *hit = find(p, (size_t)(end - p), needle, m), *ls, *le;
      if (!hit) { p = end; break; }
      ls = hit;
      while (ls > buf && ls[-1] != '\n') ls--;
      le = memchr(hit, '\n', (size_t)(end - hit));
      if (!le) le = end - 1;
      if (!output_only ||
          (le - ls >= 17 && (memcmp(le - 17, ",\"type\":\"stdout\"}", 17) == 0 ||
                             memcmp(le - 17, ",\"type\":\"stderr\"}", 17) == 0))) {
        lua_pushinteger(L, base + (ls - buf));
        lua_rawseti(L, out, 2 * nhits + 1);
        lua_pushlstring(L, ls, (size_t)(le - ls));
        lua_rawseti(L, out, 2 * nhits + 2);
        nhits++;
      }
      p = le + 1;
    }
    base += (int64_t)(p - buf);
    if (p < end) break; /* stopped at max */
  }
  free(buf);
  close(fd);
  lua_pushinteger(L, base < to ? base : to);
  return 2;
}

/* ------------------------------------------------------------------ */
/* core.ndjson_line(ev): the dashboard log's line of an output event, the
 * text luasible.json writes for it (keys sorted; a string's bytes that are
 * not UTF-8 become U+FFFD, control characters, '"' and '\\' escaped as
 * json.lua does; numbers as Lua prints them, %.14g for floats, null for
 * NaN and infinities), or nothing for an event this fast path does not
 * take: another type, another field, another value type (the general
 * encoder then; spec/unit/serve_store_spec.lua compares the two). */

enum { F_CR, F_DATA, F_HOST, F_PLAY, F_SEQ, F_SSEQ, F_TASK, F_TID, F_TS, F_TYPE, F_N };
static const char *const line_keys[F_N] = {"cr", "data", "host", "play", "seq", "stream_seq",
                                           "task", "task_id", "timestamp", "type"};

/* Lua's strict UTF-8 decoding (lutf8lib.c): the length of the sequence at
 * s, or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t k;
  uint32_t cp;
  static const uint32_t limits[] = {0, 0x80, 0x800, 0x10000u};
  if (c < 0x80) return 1;
  if (c >= 0xf8 || (c & 0x40) == 0) return 0;
  k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
  if (k >= n) return 0;
  cp = c & (0x3f >> k);
  for (size_t i = 1; i <= k; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < limits[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return k + 1;
}

/* The line is built in a plain byte buffer (on the stack for the usual
 * line; for a long one, grown in userdata boxes left on the Lua stack, so
 * the collector owns them even when an error unwinds) and pushed once:
 * luaL_Buffer's per-character checks were most of this function's time. */
typedef struct {
  lua_State *L;
  char *p;
  size_t n, cap;
  char stack[1024];
} linebuf;

static int lb_reserve(linebuf *b, size_t more) {
  size_t want;
  char *np;
  if (b->n + more <= b->cap) return 1;
  want = b->cap * 2;
  while (want < b->n + more) want *= 2;
  luaL_checkstack(b->L, 1, "ndjson_line");
  np = lua_newuserdatauv(b->L, want, 0);
  memcpy(np, b->p, b->n);
  b->p = np;
  b->cap = want;
  return 1;
}

/* callers reserve first: these do not check */
static void lb_add(linebuf *b, const char *s, size_t n) {
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

/* a quoted string: at most 6 bytes out per byte in (\u00xx), plus quotes */
static int put_quoted(linebuf *b, const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  size_t i = 0;
  if (!lb_reserve(b, n * 6 + 2)) return 0;
  b->p[b->n++] = '"';
  while (i < n) {
    unsigned c = s[i];
    size_t k, j = i;
    /* a run of plain printable ASCII: copied at once */
    while (j < n && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' && s[j] != '\\') j++;
    if (j > i) {
      lb_add(b, p + i, j - i);
      i = j;
      continue;
    }
    k = utf8_seq(s + i, n - i);
    if (k == 0) {
      lb_add(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
      i++;
      continue;
    }
    if (k > 1) {
      lb_add(b, p + i, k);
      i += k;
      continue;
    }
    i++;
    switch (c) {
    case '"': lb_add(b, "\\\"", 2); break;
    case '\\': lb_add(b, "\\\\", 2); break;
    case '\b': lb_add(b, "\\b", 2); break;
    case '\f': lb_add(b, "\\f", 2); break;
    case '\n': lb_add(b, "\\n", 2); break;
    case '\r': lb_add(b, "\\r", 2); break;
    case '\t': lb_add(b, "\\t", 2); break;
    default: {
      /* c < 0x20 or 0x7f: the only ones left after the run above */
      static const char hex[] = "0123456789abcdef";
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      lb_add(b, esc, 6);
    }
    }
  }
  b->p[b->n++] = '"';
  return 1;
}

/* "%.14g" of v, for the case every event has (a timestamp: seconds since
 * 1970 with a fraction), without printf (a third of this function's time
 * with it): for 1e9 <= v < 1e14 the digits are v * 10^k rounded to an
 * integer, k = 14 - the integer digits <= 4; that product is exact in a
 * long double of 64 bits (53 bits times 5^k < 2^10, times 2^k), and rintl
 * rounds it half to even as printf rounds the exact value. Returns the
 * length written, or 0 (then printf). */
static int fast_g14(char *out, double v) {
#if LDBL_MANT_DIG >= 64
  static const long double p10[] = {1e0L, 1e1L, 1e2L, 1e3L, 1e4L};
  static const double lim[] = {1e10, 1e11, 1e12, 1e13, 1e14};
  int d = 10, k, len = 0;
  long double r;
  uint64_t R, ip, fp, div = 1;
  char tmp[24];
  size_t t = 0;
  if (!(v >= 1e9 && v < 1e14)) return 0;
  while (v >= lim[d - 10]) d++;
  k = 14 - d;
  r = rintl((long double)v * p10[k]);
  if (r >= 1e14L) return 0; /* carried into another digit: printf */
  R = (uint64_t)r;
  for (int i = 0; i < k; i++) div *= 10;
  ip = R / div;
  fp = R % div;
  do {
    tmp[t++] = (char)('0' + (int)(ip % 10));
    ip /= 10;
  } while (ip);
  while (t) out[len++] = tmp[--t];
  if (fp) {
    int nd = k;
    while (fp % 10 == 0) {
      fp /= 10;
      nd--;
    }
    out[len++] = '.';
    for (int i = nd - 1; i >= 0; i--) {
      out[len + i] = (char)('0' + (int)(fp % 10));
      fp /= 10;
    }
    len += nd;
  }
  return len;
#else
  (void)out;
  (void)v;
  return 0;
#endif
}

static int put_number(lua_State *L, linebuf *b, int idx) {
  char num[64];
  int len;
  if (lua_isinteger(L, idx)) {
    /* an integer: its digits, as LUA_INTEGER_FMT writes them */
    lua_Integer v = lua_tointeger(L, idx);
    char tmp[24];
    size_t t = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
      tmp[t++] = (char)('0' + (int)(u % 10));
      u /= 10;
    } while (u);
    len = 0;
    if (v < 0) num[len++] = '-';
    while (t) num[len++] = tmp[--t];
  } else {
    lua_Number v = lua_tonumber(L, idx);
    if (v != v || v == (lua_Number)HUGE_VAL || v == -(lua_Number)HUGE_VAL) len = snprintf(num, sizeof num, "null");
    else if ((len = fast_g14(num, (double)v)) == 0) len = snprintf(num, sizeof num, "%.14g", (double)v);
  }
  if (len < 0 || !lb_reserve(b, (size_t)len)) return 0;
  lb_add(b, num, (size_t)len);
  return 1;
}

/* the field of key k (length n): one of F_x, -1 for a field --json does not
 * write (ignored), -2 for one it writes that this fast path does not
 * (progress, result, ...: the general encoder) */
static int line_field(const char *k, size_t n) {
  static const char *const other[] = {"progress", "result", "status", "recap", "hosts", "elapsed",
                                      "module", "signal", "interrupted", "item", NULL};
  int f = -1;
  switch (k[0]) {
  case 'c': f = F_CR; break;
  case 'd': f = F_DATA; break;
  case 'h': f = F_HOST; break;
  case 'p': f = F_PLAY; break;
  case 's': f = n == 3 ? F_SEQ : F_SSEQ; break;
  case 't':
    f = n == 4 ? (k[1] == 'a' ? F_TASK : F_TYPE) : n == 7 ? F_TID : F_TS;
    break;
  default: break;
  }
  if (f >= 0 && strcmp(k, line_keys[f]) == 0) return f;
  for (int i = 0; other[i]; i++)
    if (strcmp(k, other[i]) == 0) return -2;
  return -1;
}

static int core_ndjson_line(lua_State *L) {
  int have[F_N] = {0};
  int base, ok = 1;
  linebuf b;
  const char *type;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  base = 2; /* the values, by field, at base + F_x */
  for (int i = 0; i < F_N; i++) lua_pushnil(L);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    size_t kn;
    const char *k;
    int f;
    if (lua_type(L, -2) != LUA_TSTRING) return 0;
    k = lua_tolstring(L, -2, &kn);
    f = kn ? line_field(k, kn) : -1;
    if (f == -2) return 0;
    if (f < 0) {
      lua_pop(L, 1);
      continue;
    }
    have[f] = 1;
    lua_replace(L, base + f);
  }
  /* the types the fast path writes */
  if (lua_type(L, base + F_TYPE) != LUA_TSTRING) return 0;
  type = lua_tostring(L, base + F_TYPE);
  if (strcmp(type, "stdout") != 0 && strcmp(type, "stderr") != 0) return 0;
  if (lua_type(L, base + F_DATA) != LUA_TSTRING || lua_type(L, base + F_HOST) != LUA_TSTRING) return 0;
  if (!lua_isinteger(L, base + F_SEQ)) return 0;
  if (have[F_CR] && !(lua_type(L, base + F_CR) == LUA_TBOOLEAN && lua_toboolean(L, base + F_CR))) return 0;
  if (have[F_PLAY] && lua_type(L, base + F_PLAY) != LUA_TSTRING) return 0;
  if (have[F_TASK] && lua_type(L, base + F_TASK) != LUA_TSTRING) return 0;
  if (have[F_SSEQ] && lua_type(L, base + F_SSEQ) != LUA_TNUMBER) return 0;
  if (have[F_TID] && lua_type(L, base + F_TID) != LUA_TNUMBER) return 0;
  if (have[F_TS] && lua_type(L, base + F_TS) != LUA_TNUMBER) return 0;
  b.L = L;
  b.p = b.stack;
  b.n = 0;
  b.cap = sizeof b.stack;
  b.p[b.n++] = '{';
  for (int f = 0, first = 1; ok && f < F_N; f++) {
    size_t n, kn;
    const char *v;
    if (!have[f]) continue;
    kn = strlen(line_keys[f]);
    if (!lb_reserve(&b, kn + 8)) {
      ok = 0;
      break;
    }
    if (!first) b.p[b.n++] = ',';
    first = 0;
    b.p[b.n++] = '"';
    lb_add(&b, line_keys[f], kn);
    lb_add(&b, "\":", 2);
    switch (f) {
    case F_CR: lb_add(&b, "true", 4); break;
    case F_DATA: case F_HOST: case F_PLAY: case F_TASK: case F_TYPE:
      v = lua_tolstring(L, base + f, &n);
      ok = put_quoted(&b, v, n);
      break;
    default: ok = put_number(L, &b, base + f);
    }
  }
  if (ok && lb_reserve(&b, 1)) {
    b.p[b.n++] = '}';
    lua_pushlstring(L, b.p, b.n);
    return 1;
  }
  return luaL_error(L, "ndjson_line: out of memory");
}

const luaL_Reg lsb_ndjson_funcs[] = {
    {"ndjson_line", core_ndjson_line},
    {"ndjson_scan", core_ndjson_scan}, {"ndjson_grep", core_ndjson_grep}, {NULL, NULL}};
