/* libFuzzer target: the event queue (core/queue.c), against a model.
 *
 * Input: a program, one operation per byte (its low 3 bits), some taking
 * their argument from the next bytes:
 *   0, 1  push a stdout / stderr line of N bytes (N: the next 2 bytes, mod 32 KiB)
 *   2     push N progress events (N: the next byte times 64: past LSB_HIGH_EVENTS)
 *   3     push the final event (done or error: the next byte)
 *   4     pop one event          5  pop up to N (the next byte, times 64)
 *   6     flow control on        7  flow control off (lsb_queue_flow NULL)
 * A shadow FIFO keeps what was pushed. A finding (abort) is an event popped
 * out of order or with other bytes, seq not 1, 2, 3..., events or bytes
 * that differ from the model's, a pause or resume at the wrong time (above
 * LSB_HIGH_* after a push; below half of both after a pop), ready() or the
 * end marks wrong; and anything ASan/UBSan reports (leaks included). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/queue.h"

#define MAX_QUEUED 40000 /* events the model holds at most (pushes beyond are skipped) */
#define MAX_BYTES (3 * LSB_HIGH_BYTES)

typedef struct {
  int type;
  size_t len;
  unsigned char fill;
  uint64_t seq;
} shadow;

typedef struct {
  int pauses, resumes;
} flow;

typedef struct {
  lsb_queue q;
  flow f;
  shadow *fifo;          /* ring of MAX_QUEUED */
  size_t head, count, bytes;
  uint64_t seq;
  int flow_on, ended, drained;
} model;

static void fail(const char *what) {
  fprintf(stderr, "fuzz_queue: %s\n", what);
  abort();
}

static void on_pause(void *ud) { ((flow *)ud)->pauses++; }
static void on_resume(void *ud) { ((flow *)ud)->resumes++; }

static char buf[32768];

static void push(model *m, int type, size_t len) {
  shadow s;
  lsb_event *e;
  if (m->count == MAX_QUEUED || m->bytes + LSB_EVENT_SIZE(len) > MAX_BYTES) return;
  s.type = type;
  s.len = len;
  s.fill = (unsigned char)(m->seq & 0xff);
  s.seq = ++m->seq;
  memset(buf, s.fill, len);
  e = lsb_queue_push(&m->q, type, buf, len, (double)s.seq);
  if (!e) fail("push failed");
  if (e->seq != s.seq) fail("seq is not the count of pushes");
  m->fifo[(m->head + m->count++) % MAX_QUEUED] = s;
  m->bytes += LSB_EVENT_SIZE(len);
  if (type == LSB_EV_DONE || type == LSB_EV_ERROR) m->ended = 1;
  if (m->flow_on && (m->bytes > LSB_HIGH_BYTES || m->count > LSB_HIGH_EVENTS) && !m->q.paused)
    fail("not paused above the high marks");
}

/* Pops one; returns 0 when the queue was empty (and that was right). */
static int pop(model *m) {
  lsb_event *e = lsb_queue_pop(&m->q);
  shadow s;
  if (m->count == 0) {
    if (e) fail("an event popped from an empty queue");
    return 0;
  }
  if (!e) fail("no event popped from a queue that holds one");
  s = m->fifo[m->head];
  m->head = (m->head + 1) % MAX_QUEUED;
  m->count--;
  if (e->seq != s.seq || e->type != s.type || e->len != s.len || e->ts != (double)s.seq)
    fail("popped out of order");
  for (size_t k = 0; k < e->len; k++)
    if ((unsigned char)e->data[k] != s.fill) fail("popped other bytes");
  if (e->data[e->len] != '\0') fail("data not terminated");
  if (lsb_event_is_final(e)) m->drained = 1;
  m->bytes -= LSB_EVENT_SIZE(s.len);
  if (m->flow_on && m->q.paused && m->bytes < LSB_HIGH_BYTES / 2 && m->count < LSB_HIGH_EVENTS / 2)
    fail("not resumed below half of the high marks");
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static model m;
  size_t i = 0;
  memset(&m, 0, sizeof m);
  m.fifo = calloc(MAX_QUEUED, sizeof *m.fifo);
  if (!m.fifo) return 0;
  lsb_queue_init(&m.q);
  while (i < size) {
    int op = data[i++] & 7;
    size_t n = 0;
    if (op <= 1 || op == 5 || op == 2 || op == 3) {
      if (i < size) n = data[i++];
      if (op <= 1 && i < size) n = (n << 8 | data[i++]) % sizeof buf;
    }
    switch (op) {
    case 0: push(&m, LSB_EV_STDOUT, n); break;
    case 1: push(&m, LSB_EV_STDERR, n); break;
    case 2:
      for (size_t k = 0; k < n * 64 + 1; k++) push(&m, LSB_EV_PROGRESS, 0);
      break;
    case 3: push(&m, (n & 1) ? LSB_EV_ERROR : LSB_EV_DONE, 0); break;
    case 4: pop(&m); break;
    case 5:
      for (size_t k = 0; k < n * 64 + 1 && pop(&m); k++) {}
      break;
    case 6:
      lsb_queue_flow(&m.q, on_pause, on_resume, &m.f);
      m.flow_on = 1;
      break;
    default:
      lsb_queue_flow(&m.q, NULL, NULL, NULL);
      m.flow_on = 0;
    }
    if (m.q.events != m.count || m.q.bytes != m.bytes) fail("events or bytes counted wrong");
    if (m.f.pauses - m.f.resumes != 0 && m.f.pauses - m.f.resumes != 1) fail("pause and resume do not alternate");
    if ((m.f.pauses - m.f.resumes == 1) != (m.q.paused != 0)) fail("paused state and callbacks disagree");
    if ((unsigned)m.ended != m.q.ended || (unsigned)m.drained != m.q.drained) fail("end marks wrong");
    if (lsb_queue_ready(&m.q) != (m.count > 0 || m.drained)) fail("ready() wrong");
  }
  lsb_queue_free(&m.q);
  if (m.q.events != 0 || m.q.bytes != 0 || m.q.head || m.q.tail) fail("free left events");
  free(m.fifo);
  return 0;
}
