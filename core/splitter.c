#include "splitter.h"

#include <stdlib.h>
#include <string.h>

void lsb_splitter_init(lsb_splitter *s, size_t max_line) {
  memset(s, 0, sizeof *s);
  s->max_line = max_line ? max_line : 1;
}

void lsb_splitter_free(lsb_splitter *s) {
  free(s->buf);
  s->buf = NULL;
  s->len = s->cap = 0;
}

static int reserve(lsb_splitter *s, size_t extra) {
  size_t need = s->len + extra, cap = s->cap ? s->cap : 256;
  char *nb;
  if (need <= s->cap) return 0;
  while (cap < need) cap *= 2;
  nb = realloc(s->buf, cap);
  if (!nb) return -1;
  s->buf = nb;
  s->cap = cap;
  return 0;
}

/* Deliver `len` bytes that end a line (flags 0) or a redraw (LSB_LINE_CR),
 * cut into max_line chunks; only the last chunk carries `flags`. */
static void emit(lsb_splitter *s, const char *p, size_t len, int flags,
                 lsb_line_cb cb, void *ud) {
  while (len > s->max_line) {
    cb(ud, p, s->max_line, LSB_LINE_PARTIAL);
    p += s->max_line;
    len -= s->max_line;
  }
  if (len > 0 || !(flags & LSB_LINE_CR)) cb(ud, p, len, flags);
}

/* End the pending line with `seg` appended. */
static int finish_line(lsb_splitter *s, const char *seg, size_t n, int flags,
                       lsb_line_cb cb, void *ud) {
  if (s->len == 0) {
    emit(s, seg, n, flags, cb, ud);
    return 0;
  }
  if (n > 0) {
    if (reserve(s, n) != 0) return -1;
    memcpy(s->buf + s->len, seg, n);
    s->len += n;
  }
  emit(s, s->buf, s->len, flags, cb, ud);
  s->len = 0;
  return 0;
}

/* Keep `seg` for later; flush whole max_line chunks that cannot grow. */
static int hold(lsb_splitter *s, const char *seg, size_t n, lsb_line_cb cb,
                void *ud) {
  size_t off = 0;
  if (n == 0) return 0;
  if (reserve(s, n) != 0) return -1;
  memcpy(s->buf + s->len, seg, n);
  s->len += n;
  while (s->len - off > s->max_line) {
    cb(ud, s->buf + off, s->max_line, LSB_LINE_PARTIAL);
    off += s->max_line;
  }
  if (off) {
    memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
  }
  return 0;
}

int lsb_splitter_feed(lsb_splitter *s, const char *data, size_t len,
                      lsb_line_cb cb, void *ud) {
  const char *p = data, *end = data + len;
  if (len == 0) return 0;
  if (s->pending_cr) {
    /* the held text went out as a redraw when its "\r" arrived; a "\n"
     * now makes it a line as well, anything else starts a new redraw */
    s->pending_cr = 0;
    if (*p == '\n') {
      p++;
      if (finish_line(s, "", 0, 0, cb, ud) != 0) return -1;
    } else {
      s->len = 0;
    }
  }
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    const char *cr = memchr(p, '\r', (size_t)(stop - p));
    if (cr) {
      if (cr + 1 == end) {
        /* "\r\n" or a redraw? Deliver the redraw now, not when the next
         * byte comes (a progress bar may sit there for minutes), and keep
         * the text in case a "\n" follows. */
        if (hold(s, p, (size_t)(cr - p), cb, ud) != 0) return -1;
        if (s->len > 0) cb(ud, s->buf, s->len, LSB_LINE_CR);
        s->pending_cr = 1;
        return 0;
      }
      if (cr[1] == '\n') {
        if (finish_line(s, p, (size_t)(cr - p), 0, cb, ud) != 0) return -1;
        p = cr + 2;
      } else {
        if (finish_line(s, p, (size_t)(cr - p), LSB_LINE_CR, cb, ud) != 0)
          return -1;
        p = cr + 1;
      }
    } else if (nl) {
      if (finish_line(s, p, (size_t)(nl - p), 0, cb, ud) != 0) return -1;
      p = nl + 1;
    } else {
      return hold(s, p, (size_t)(end - p), cb, ud);
    }
  }
  return 0;
}

void lsb_splitter_finish(lsb_splitter *s, lsb_line_cb cb, void *ud) {
  /* after a final "\r" the text was delivered already, as a redraw */
  if (s->len > 0 && !s->pending_cr) emit(s, s->buf, s->len, 0, cb, ud);
  s->len = 0;
  s->pending_cr = 0;
}
