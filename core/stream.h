/* A stream: the events of one running command (or transfer), as produced by
 * a producer (local process, SSH channel, SFTP transfer) and consumed by Lua.
 *
 * The producer feeds raw bytes (lsb_stream_feed), progress and the end
 * (lsb_stream_finish); the stream splits lines, queues events, captures
 * output when asked, applies backpressure through the producer's pause and
 * resume, and wakes the Lua waiter.  The queue itself (order, accounting,
 * flow control, the end) is queue.c, testable alone.
 *
 * Ownership: a stream is reference-counted; the Lua userdata holds one
 * reference, the producer another.  It is freed when both are released. */
#ifndef LSB_STREAM_H
#define LSB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "splitter.h"
#include "util.h"

typedef struct lsb_ctx lsb_ctx;

enum lsb_stage {
  LSB_STAGE_CONNECTING,
  LSB_STAGE_EXECUTING,
  LSB_STAGE_TRANSFERRING,
  LSB_STAGE_DONE
};

/* Something Lua can wait for: a coroutine (or any value) parked in the
 * registry; when woken it is moved to the context's woken list, which the
 * scheduler collects after each turn of the loop. */
typedef struct lsb_waitable {
  struct lsb_waitable *wnext, *wprev;
  lsb_ctx *ctx;
  int waiter_ref;
} lsb_waitable;

typedef struct lsb_producer_ops {
  void (*pause)(void *producer);
  void (*resume)(void *producer);
  /* The consumer is gone: stop (kill) and release the stream when done. */
  void (*cancel)(void *producer);
  /* End the stream now with `err` (its error event) and stop (kill) what
   * produces it; the consumer keeps the stream and reads that end. */
  void (*abort)(void *producer, const lsb_err *err);
} lsb_producer_ops;

typedef struct lsb_buf {
  char *data;
  size_t len, cap;
} lsb_buf;

typedef struct lsb_result {
  int has_rc;
  int64_t rc;
  char signal[16];   /* "" when none, else e.g. "TERM" */
  int timed_out;
  double t_start, t_end;
} lsb_result;

enum {
  LSB_STREAM_LINES = 1,    /* queue stdout/stderr line events */
  LSB_STREAM_CAPTURE = 2,  /* keep the raw output for the result */
  LSB_STREAM_PROGRESS = 4, /* queue progress events */
  LSB_STREAM_CHUNKS = 8    /* queue the raw stdout/stderr bytes as they come,
                              one event a chunk, no line splitting (the
                              holder of a persistent connection: ssh/mux.lua) */
};

typedef struct lsb_stream {
  lsb_waitable w;
  const lsb_producer_ops *ops;
  void *producer;
  int refs;
  int mode;
  lsb_queue q;          /* the events (queue.c), with the producer's flow */
  lsb_splitter split[2];
  lsb_buf capture[2];
  uint64_t lines[2], bytes[2];
  double now;           /* timestamp of the bytes being fed */
  lsb_result result;
  lsb_err error;        /* set when ended with an error */
  unsigned finished : 1; /* the final event is queued (or the end is known) */
  unsigned nomem : 1;
  unsigned cut : 1;      /* ending with an error: a last line is partial */
} lsb_stream;

double lsb_now(void); /* monotonic seconds */
/* Seconds to a libuv timeout in ms, saturating: huge or infinite values
 * give UINT64_MAX (never), not undefined behaviour; NaN or <= 0 give 0. */
uint64_t lsb_ms(double seconds);

lsb_stream *lsb_stream_new(lsb_ctx *ctx, int mode, size_t max_line);
void lsb_stream_unref(lsb_stream *s);
void lsb_stream_attach(lsb_stream *s, const lsb_producer_ops *ops, void *producer);
/* The producer is done with the stream (after its final callback). */
void lsb_stream_detach(lsb_stream *s);

void lsb_stream_feed(lsb_stream *s, int fd, const char *data, size_t len);
void lsb_stream_eof(lsb_stream *s, int fd); /* flush a final partial line */
void lsb_stream_progress(lsb_stream *s, int stage, double pct, double done,
                         double total, const char *msg);
/* End the stream: error NULL (or unset) gives "done", else an "error"
 * event that carries its name and text (copied); then an unterminated last
 * line (the command was cut short in the middle of it) comes as partial. */
void lsb_stream_finish(lsb_stream *s, const lsb_err *error);

lsb_event *lsb_stream_pop(lsb_stream *s); /* caller frees with free() */
int lsb_stream_ready(const lsb_stream *s); /* an event or the end is there */

void lsb_waitable_wake(lsb_waitable *w);
void lsb_waitable_unlink(lsb_waitable *w);

int lsb_buf_append(lsb_buf *b, const char *p, size_t n);
void lsb_buf_free(lsb_buf *b);

#endif
