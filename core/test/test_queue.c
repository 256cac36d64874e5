/* Unit tests of the event queue alone (no Lua, no I/O): order and seq,
 * event and byte accounting, the pause/resume thresholds of the producer's
 * flow control, and the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../queue.h"

typedef struct {
  int pauses, resumes;
} flow;

static void on_pause(void *ud) { ((flow *)ud)->pauses++; }
static void on_resume(void *ud) { ((flow *)ud)->resumes++; }

static void pop_one(lsb_queue *q) { (void)lsb_queue_pop(q); }

static void test_order(void) {
  lsb_queue q;
  lsb_event *e;
  lsb_queue_init(&q);
  CHECK(!lsb_queue_ready(&q));
  CHECK(lsb_queue_pop(&q) == NULL);
  CHECK(lsb_queue_push(&q, LSB_EV_STDOUT, "one", 3, 1.5) != NULL);
  CHECK(lsb_queue_push(&q, LSB_EV_STDERR, "two", 3, 2.5) != NULL);
  CHECK(lsb_queue_push(&q, LSB_EV_PROGRESS, "", 0, 3.5) != NULL);
  CHECK(lsb_queue_ready(&q));
  for (int i = 1; i <= 3; i++) {
    e = lsb_queue_pop(&q);
    CHECK(e != NULL);
    if (!e) return;
    CHECK(e->seq == (uint64_t)i);
    CHECK(e->ts == i + 0.5);
    CHECK(e->next == NULL);
    CHECK(e->data[e->len] == '\0');
    if (i == 1) CHECK(e->type == LSB_EV_STDOUT && e->len == 3 && memcmp(e->data, "one", 3) == 0);
    if (i == 2) CHECK(e->type == LSB_EV_STDERR && strcmp(e->data, "two") == 0);
    if (i == 3) CHECK(e->type == LSB_EV_PROGRESS && e->len == 0 && e->percentage < 0 &&
                      e->bytes_done < 0 && e->bytes_total < 0);
  }
  CHECK(!lsb_queue_ready(&q));
  CHECK(q.head == NULL && q.tail == NULL);
  /* seq goes on after the queue emptied */
  CHECK(lsb_queue_push(&q, LSB_EV_STDOUT, "x", 1, 0)->seq == 4);
  /* NUL bytes are data */
  CHECK(lsb_queue_push(&q, LSB_EV_STDOUT, "a\0b", 3, 0)->len == 3);
  lsb_queue_free(&q);
  CHECK(q.events == 0 && q.bytes == 0 && q.head == NULL);
}

static void test_accounting(void) {
  lsb_queue q;
  size_t want = 0;
  lsb_queue_init(&q);
  for (size_t i = 0; i < 100; i++) {
    char buf[100];
    memset(buf, 'x', i);
    lsb_queue_push(&q, LSB_EV_STDOUT, buf, i, 0);
    want += LSB_EVENT_SIZE(i);
    CHECK(q.events == i + 1);
    CHECK(q.bytes == want);
  }
  for (size_t i = 0; i < 100; i++) {
    pop_one(&q);
    want -= LSB_EVENT_SIZE(i);
    CHECK(q.events == 99 - i);
    CHECK(q.bytes == want);
  }
  CHECK(q.bytes == 0);
  lsb_queue_free(&q);
}

/* above HIGH events: pause once; below half of them: resume once */
static void test_flow_events(void) {
  lsb_queue q;
  flow f = {0, 0};
  unsigned i;
  lsb_queue_init(&q);
  lsb_queue_flow(&q, on_pause, on_resume, &f);
  for (i = 0; i < LSB_HIGH_EVENTS; i++) lsb_queue_push(&q, LSB_EV_STDOUT, "l", 1, 0);
  CHECK(f.pauses == 0 && !q.paused); /* at the mark, not above it */
  lsb_queue_push(&q, LSB_EV_STDOUT, "l", 1, 0);
  CHECK(f.pauses == 1 && q.paused);
  for (i = 0; i < 100; i++) lsb_queue_push(&q, LSB_EV_STDOUT, "l", 1, 0);
  CHECK(f.pauses == 1); /* once */
  while (q.events >= LSB_HIGH_EVENTS / 2) {
    CHECK(f.resumes == 0);
    pop_one(&q);
  }
  CHECK(f.resumes == 1 && !q.paused);
  pop_one(&q);
  CHECK(f.resumes == 1);
  lsb_queue_free(&q);
}

/* above HIGH bytes: pause; it resumes only below half of both marks */
static void test_flow_bytes(void) {
  lsb_queue q;
  flow f = {0, 0};
  static char big[64 * 1024];
  int n = 0;
  lsb_queue_init(&q);
  lsb_queue_flow(&q, on_pause, on_resume, &f);
  while (!q.paused) {
    lsb_queue_push(&q, LSB_EV_STDOUT, big, sizeof big, 0);
    n++;
  }
  CHECK(f.pauses == 1);
  CHECK(q.bytes > LSB_HIGH_BYTES);
  CHECK(q.bytes - LSB_EVENT_SIZE(sizeof big) <= LSB_HIGH_BYTES);
  CHECK(n == (int)(LSB_HIGH_BYTES / LSB_EVENT_SIZE(sizeof big)) + 1);
  while (q.bytes >= LSB_HIGH_BYTES / 2) {
    CHECK(f.resumes == 0);
    pop_one(&q);
  }
  CHECK(f.resumes == 1 && !q.paused);
  lsb_queue_free(&q);
}

/* without flow control (no producer, or one that is done) nothing pauses */
static void test_no_flow(void) {
  lsb_queue q;
  flow f = {0, 0};
  lsb_queue_init(&q);
  for (unsigned i = 0; i <= LSB_HIGH_EVENTS; i++) lsb_queue_push(&q, LSB_EV_STDOUT, "l", 1, 0);
  CHECK(!q.paused);
  lsb_queue_flow(&q, on_pause, on_resume, &f);
  lsb_queue_push(&q, LSB_EV_STDOUT, "l", 1, 0);
  CHECK(q.paused && f.pauses == 1);
  lsb_queue_flow(&q, NULL, NULL, NULL); /* the producer is done */
  while (q.events) pop_one(&q);
  CHECK(f.resumes == 0);
  lsb_queue_free(&q);
}

static void test_end(void) {
  static const int finals[] = {LSB_EV_DONE, LSB_EV_ERROR};
  for (int k = 0; k < 2; k++) {
    lsb_queue q;
    lsb_event *e;
    lsb_queue_init(&q);
    lsb_queue_push(&q, LSB_EV_STDOUT, "last line", 9, 0);
    CHECK(!q.ended);
    e = lsb_queue_push(&q, finals[k], "ETIMEDOUT: x", k ? 12 : 0, 0);
    CHECK(e && lsb_event_is_final(e));
    CHECK(q.ended && !q.drained);
    e = lsb_queue_pop(&q);
    CHECK(e && !lsb_event_is_final(e) && !q.drained);
    CHECK(lsb_queue_ready(&q));
    e = lsb_queue_pop(&q);
    CHECK(e && e->type == finals[k] && q.drained);
    /* over: ready for good (the consumer learns it is over), nothing to pop */
    CHECK(lsb_queue_ready(&q));
    CHECK(lsb_queue_pop(&q) == NULL);
    lsb_queue_free(&q);
  }
}

/* events sit in blocks: a popped event stays as it was while pushes go on
 * (into its block and past it), lines bigger than a block come whole, and
 * a queue emptied and filled again many times keeps its order and bytes */
static void test_blocks(void) {
  lsb_queue q;
  static char big[3 * LSB_QBLOCK_SIZE];
  uint64_t want = 1;
  int bad = 0;
  lsb_queue_init(&q);
  memset(big, 'b', sizeof big);
  for (int round = 0; round < 50 && !bad; round++) {
    lsb_event *e;
    char line[32];
    int n = 1000 + round * 37;
    for (int i = 0; i < n; i++) {
      int len = snprintf(line, sizeof line, "%d.%d", round, i);
      if (!lsb_queue_push(&q, LSB_EV_STDOUT, line, (size_t)len, 0)) bad++;
      if (i == n / 2 && !lsb_queue_push(&q, LSB_EV_STDERR, big, sizeof big - (size_t)round, 0)) bad++;
    }
    for (int i = 0; i < n; i++) {
      int len = snprintf(line, sizeof line, "%d.%d", round, i);
      e = lsb_queue_pop(&q);
      if (!e || e->seq != want++ || e->len != (size_t)len || strcmp(e->data, line) != 0) bad++;
      /* pushes while e is held do not touch it */
      if (!lsb_queue_push(&q, LSB_EV_STDOUT, "later", 5, 0)) bad++;
      if (!e || strcmp(e->data, line) != 0 || e->seq != want - 1) bad++;
      if (i == n / 2) {
        e = lsb_queue_pop(&q);
        if (!e || e->seq != want++ || e->type != LSB_EV_STDERR || e->len != sizeof big - (size_t)round ||
            e->data[0] != 'b' || e->data[e->len - 1] != 'b' || e->data[e->len] != '\0')
          bad++;
      }
    }
    while ((e = lsb_queue_pop(&q)) != NULL)
      if (e->seq != want++ || strcmp(e->data, "later") != 0) bad++;
    if (q.events != 0 || q.bytes != 0 || q.head || q.tail) bad++;
  }
  /* one at a time, the queue empty after each pop, over block ends */
  for (int k = 0; k < (int)(3 * LSB_QBLOCK_SIZE / 64) && !bad; k++) {
    char line[32];
    lsb_event *e;
    int len = snprintf(line, sizeof line, "x%d", k);
    lsb_queue_push(&q, LSB_EV_STDOUT, line, (size_t)len, 0);
    e = lsb_queue_pop(&q);
    if (!e || lsb_queue_pop(&q) != NULL) bad++; /* that pop ends e's life: e is read again below */
    lsb_queue_push(&q, LSB_EV_STDOUT, line, (size_t)len, 0);
    e = lsb_queue_pop(&q);
    lsb_queue_push(&q, LSB_EV_STDOUT, "y", 1, 0);
    if (!e || strcmp(e->data, line) != 0) bad++;
    e = lsb_queue_pop(&q);
    if (!e || strcmp(e->data, "y") != 0) bad++;
  }
  CHECK(bad == 0);
  lsb_queue_free(&q);
  CHECK(q.first == NULL && q.last == NULL && q.done == NULL && q.spare == NULL);
}

int main(void) {
  test_blocks();
  test_order();
  test_accounting();
  test_flow_events();
  test_flow_bytes();
  test_no_flow();
  test_end();
  return check_report("queue");
}
