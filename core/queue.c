#include "queue.h"

#include <stdlib.h>
#include <string.h>

/* where a block's events start, and an event's room (kept aligned) */
#define ALIGN_UP(n, a) (((n) + (a) - 1) / (a) * (a))
#define BLOCK_HDR ALIGN_UP(sizeof(lsb_qblock), _Alignof(lsb_event))
#define EVENT_ROOM(len) ALIGN_UP(sizeof(lsb_event) + (len) + 1, _Alignof(lsb_event))

void lsb_queue_init(lsb_queue *q) { memset(q, 0, sizeof *q); }

static void free_blocks(lsb_qblock *b) {
  while (b) {
    lsb_qblock *n = b->next;
    free(b);
    b = n;
  }
}

void lsb_queue_free(lsb_queue *q) {
  free_blocks(q->first);
  free(q->done);
  free_blocks(q->spare);
  q->first = q->last = q->done = q->spare = NULL;
  q->head = q->tail = NULL;
  q->events = q->bytes = 0;
}

void lsb_queue_flow(lsb_queue *q, void (*pause)(void *), void (*resume)(void *),
                    void *ud) {
  q->pause = pause;
  q->resume = resume;
  q->ud = ud;
}

int lsb_event_is_final(const lsb_event *e) {
  return e->type == LSB_EV_DONE || e->type == LSB_EV_ERROR;
}

/* A block with room for `room` bytes of events at the end of the list. */
static void give_back(lsb_queue *q, lsb_qblock *b);

static lsb_qblock *new_block(lsb_queue *q, size_t room) {
  lsb_qblock *b;
  if (q->last && q->last->live == 0) {
    /* all popped (so it is the only block), but the event popped last may
     * be in use until the next pop: that pop gives the block back */
    if (q->done) give_back(q, q->done); /* not reached: a pop cleared it */
    q->done = q->last;
    q->first = q->last = NULL;
  }
  /* the blocks of a stream grow from LSB_QBLOCK_MIN to LSB_QBLOCK_SIZE
   * bytes (a command that prints a few lines keeps a small one) */
  if (q->grow < LSB_QBLOCK_MIN) q->grow = LSB_QBLOCK_MIN;
  if (q->spare && room <= q->spare->cap) {
    b = q->spare;
    q->spare = b->next;
    q->nspare--;
  } else {
    size_t cap = q->grow - BLOCK_HDR;
    if (cap < room) cap = room; /* a big line: a block of its own */
    b = malloc(BLOCK_HDR + cap);
    if (!b) return NULL;
    b->cap = cap;
    if (q->grow < LSB_QBLOCK_SIZE) q->grow *= 2;
  }
  b->next = NULL;
  b->used = b->live = 0;
  if (q->last) q->last->next = b;
  else q->first = b;
  q->last = b;
  return b;
}

/* A block all popped: kept as a spare when it is a full-sized one. */
static void give_back(lsb_queue *q, lsb_qblock *b) {
  if (q->nspare < LSB_QBLOCK_SPARES && b->cap == LSB_QBLOCK_SIZE - BLOCK_HDR) {
    b->next = q->spare;
    q->spare = b;
    q->nspare++;
  } else {
    free(b);
  }
}

lsb_event *lsb_queue_push(lsb_queue *q, int type, const char *data, size_t len,
                          double ts) {
  size_t room = EVENT_ROOM(len);
  lsb_qblock *b = q->last;
  lsb_event *e;
  if (!b || b->cap - b->used < room) {
    b = new_block(q, room);
    if (!b) return NULL;
  }
  e = (lsb_event *)((char *)b + BLOCK_HDR + b->used);
  b->used += room;
  b->live++;
  e->next = NULL;
  e->seq = ++q->seq;
  e->ts = ts;
  e->type = (unsigned char)type;
  e->flags = 0;
  e->stage = 0;
  e->percentage = e->bytes_done = e->bytes_total = -1;
  e->len = len;
  if (len) memcpy(e->data, data, len);
  e->data[len] = '\0';
  if (q->tail) q->tail->next = e;
  else q->head = e;
  q->tail = e;
  q->events++;
  q->bytes += LSB_EVENT_SIZE(len);
  if (lsb_event_is_final(e)) q->ended = 1;
  if (!q->paused && q->pause &&
      (q->bytes > LSB_HIGH_BYTES || q->events > LSB_HIGH_EVENTS)) {
    q->paused = 1;
    q->pause(q->ud);
  }
  return e;
}

lsb_event *lsb_queue_pop(lsb_queue *q) {
  lsb_event *e = q->head;
  lsb_qblock *b;
  if (q->done) { /* the event popped last is no longer in use */
    give_back(q, q->done);
    q->done = NULL;
  }
  if (!e) {
    /* empty, and the event popped last no longer in use: the block is
     * written again from its start (it stays in cache) */
    if (q->first && q->first->live == 0) q->first->used = 0;
    return NULL;
  }
  q->head = e->next;
  if (!q->head) q->tail = NULL;
  q->events--;
  q->bytes -= LSB_EVENT_SIZE(e->len);
  e->next = NULL;
  /* the head is always in the first block; when it was that block's last
   * event and pushes went on past it, the block is done once e is */
  b = q->first;
  if (--b->live == 0 && b != q->last) {
    q->first = b->next;
    q->done = b;
  }
  if (lsb_event_is_final(e)) q->drained = 1;
  if (q->paused && q->resume && q->bytes < LSB_HIGH_BYTES / 2 &&
      q->events < LSB_HIGH_EVENTS / 2) {
    q->paused = 0;
    q->resume(q->ud);
  }
  return e;
}

int lsb_queue_ready(const lsb_queue *q) { return q->head != NULL || q->drained; }
