#include "stream.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ctx.h"

/* LUA_NOREF, without pulling Lua into the pure part */
#define NOREF (-2)

double lsb_now(void) { return (double)uv_hrtime() / 1e9; }

uint64_t lsb_ms(double seconds) {
  double ms = seconds * 1000 + 0.5;
  if (!(ms >= 1)) return 0;
  if (ms >= 18446744073709549568.0) return UINT64_MAX;
  return (uint64_t)ms;
}

int lsb_buf_append(lsb_buf *b, const char *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *nd;
    while (cap < b->len + n) cap *= 2;
    nd = realloc(b->data, cap);
    if (!nd) return -1;
    b->data = nd;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void lsb_buf_free(lsb_buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void lsb_waitable_unlink(lsb_waitable *w) {
  if (w->wnext) {
    w->wnext->wprev = w->wprev;
    w->wprev->wnext = w->wnext;
    w->wnext = w->wprev = NULL;
  }
}

void lsb_waitable_wake(lsb_waitable *w) {
  lsb_waitable *head;
  /* Something became ready: end this turn of the loop. Without it a turn
   * of UV_RUN_ONCE whose timers fire first (a sleep falling due) goes on
   * to block for I/O that may never come (a paused stream), and the waiter
   * -- a task, or the main thread polling ready() -- is never told. Only
   * our own turn: a host program running the loop (core.use_loop) keeps
   * its uv_run. */
  if (w->ctx->in_run) uv_stop(w->ctx->loop);
  if (w->waiter_ref == NOREF || w->wnext) return;
  head = &w->ctx->woken;
  w->wprev = head->wprev;
  w->wnext = head;
  head->wprev->wnext = w;
  head->wprev = w;
}

lsb_stream *lsb_stream_new(lsb_ctx *ctx, int mode, size_t max_line) {
  lsb_stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->w.ctx = ctx;
  s->w.waiter_ref = NOREF;
  s->refs = 1;
  s->mode = mode;
  lsb_queue_init(&s->q);
  lsb_splitter_init(&s->split[0], max_line);
  lsb_splitter_init(&s->split[1], max_line);
  s->result.t_start = s->now = lsb_now();
  return s;
}

static void stream_free(lsb_stream *s) {
  lsb_queue_free(&s->q);
  lsb_waitable_unlink(&s->w);
  lsb_splitter_free(&s->split[0]);
  lsb_splitter_free(&s->split[1]);
  lsb_buf_free(&s->capture[0]);
  lsb_buf_free(&s->capture[1]);
  lsb_err_free(&s->error);
  free(s);
}

void lsb_stream_unref(lsb_stream *s) {
  if (--s->refs == 0) stream_free(s);
}

/* the queue's flow control, passed on to the producer */
static void pause_producer(void *ud) {
  lsb_stream *s = ud;
  s->ops->pause(s->producer);
}

static void resume_producer(void *ud) {
  lsb_stream *s = ud;
  s->ops->resume(s->producer);
}

void lsb_stream_attach(lsb_stream *s, const lsb_producer_ops *ops, void *producer) {
  s->ops = ops;
  s->producer = producer;
  s->refs++;
  lsb_queue_flow(&s->q, pause_producer, resume_producer, s);
}

void lsb_stream_detach(lsb_stream *s) {
  s->ops = NULL;
  s->producer = NULL;
  lsb_queue_flow(&s->q, NULL, NULL, NULL);
  lsb_stream_unref(s);
}

static lsb_event *push(lsb_stream *s, int type, const char *data, size_t len) {
  lsb_event *e = lsb_queue_push(&s->q, type, data, len, s->now);
  if (!e) {
    s->nomem = 1;
    return NULL;
  }
  lsb_waitable_wake(&s->w);
  return e;
}

static void on_line(void *ud, const char *line, size_t len, int flags) {
  lsb_stream *s = ud;
  lsb_event *e;
  int fd = flags >> 8;
  flags &= 0xff;
  /* the unterminated end of a stream cut short is a fragment, not a line */
  if (s->cut) flags |= LSB_LINE_PARTIAL;
  e = push(s, fd == 0 ? LSB_EV_STDOUT : LSB_EV_STDERR, line, len);
  if (e) e->flags = (unsigned char)flags;
  if (!(flags & LSB_LINE_PARTIAL)) s->lines[fd]++;
}

/* The splitter callback gets no fd; carry it in a small adapter. */
typedef struct {
  lsb_stream *s;
  int fd;
} line_ud;

static void on_line_fd(void *ud, const char *line, size_t len, int flags) {
  line_ud *lu = ud;
  on_line(lu->s, line, len, flags | (lu->fd << 8));
}

void lsb_stream_feed(lsb_stream *s, int fd, const char *data, size_t len) {
  int i = fd == 2 ? 1 : 0;
  s->now = lsb_now();
  s->bytes[i] += len;
  if ((s->mode & LSB_STREAM_CAPTURE) &&
      lsb_buf_append(&s->capture[i], data, len) != 0)
    s->nomem = 1;
  if ((s->mode & LSB_STREAM_CHUNKS) && len) push(s, i == 0 ? LSB_EV_STDOUT : LSB_EV_STDERR, data, len);
  if (s->mode & LSB_STREAM_LINES) {
    line_ud lu = {s, i};
    if (lsb_splitter_feed(&s->split[i], data, len, on_line_fd, &lu) != 0)
      s->nomem = 1;
  }
}

void lsb_stream_eof(lsb_stream *s, int fd) {
  int i = fd == 2 ? 1 : 0;
  if (s->mode & LSB_STREAM_LINES) {
    line_ud lu = {s, i};
    lsb_splitter_finish(&s->split[i], on_line_fd, &lu);
  }
}

void lsb_stream_progress(lsb_stream *s, int stage, double pct, double done,
                         double total, const char *msg) {
  lsb_event *e;
  if (!(s->mode & LSB_STREAM_PROGRESS)) return;
  s->now = lsb_now();
  e = push(s, LSB_EV_PROGRESS, msg ? msg : "", msg ? strlen(msg) : 0);
  if (!e) return;
  e->stage = (unsigned char)stage;
  e->percentage = pct;
  e->bytes_done = done;
  e->bytes_total = total;
}

void lsb_stream_finish(lsb_stream *s, const lsb_err *error) {
  const char *text;
  int failed;
  if (s->finished) return;
  s->cut = error && lsb_err_isset(error);
  lsb_stream_eof(s, 1);
  lsb_stream_eof(s, 2);
  s->result.t_end = lsb_now();
  if (error && lsb_err_isset(error)) lsb_err_copy(&s->error, error);
  else if (s->nomem) lsb_err_set(&s->error, "ENOMEM", "out of memory: output was lost");
  failed = lsb_err_isset(&s->error);
  text = failed ? lsb_err_text(&s->error) : "";
  lsb_stream_progress(s, LSB_STAGE_DONE, failed ? -1 : 100, -1, -1,
                      failed ? text : "finished");
  if (!push(s, failed ? LSB_EV_ERROR : LSB_EV_DONE, text, strlen(text)))
    s->q.drained = 1; /* out of memory: the end has no event, but it is the end */
  s->finished = 1;
  lsb_waitable_wake(&s->w);
}

lsb_event *lsb_stream_pop(lsb_stream *s) { return lsb_queue_pop(&s->q); }

int lsb_stream_ready(const lsb_stream *s) { return lsb_queue_ready(&s->q); }
