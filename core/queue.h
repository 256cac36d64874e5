/* The event queue of one stream, alone: events in order, their count and
 * bytes, the flow control of the producer (pause above the high marks,
 * resume below half of them) and the end (the final event pushed, then
 * popped).  Pure C, no I/O and no Lua: core/test/test_queue.c tests it.
 *
 * Events live one after the other in blocks of LSB_QBLOCK_SIZE bytes (a
 * queue's first blocks are smaller; an event bigger than a block's room
 * gets a block of its own): a line costs no malloc and no free of its own,
 * and the consumer reads the events in the order they sit in memory. A
 * block is given back (kept as a spare, or freed) once its last event was
 * popped, at the next pop. */
#ifndef LSB_QUEUE_H
#define LSB_QUEUE_H

#include <stddef.h>
#include <stdint.h>

enum lsb_ev_type {
  LSB_EV_STDOUT,
  LSB_EV_STDERR,
  LSB_EV_PROGRESS,
  LSB_EV_DONE,  /* final */
  LSB_EV_ERROR  /* final */
};

typedef struct lsb_event {
  struct lsb_event *next;
  uint64_t seq;                    /* 1, 2, 3... in the order pushed */
  double ts;
  unsigned char type, flags, stage;
  double percentage;               /* progress: < 0 when unknown */
  double bytes_done, bytes_total;  /* progress: < 0 when unknown */
  size_t len;                      /* data: line, message or error */
  char data[];                     /* len bytes and a NUL */
} lsb_event;

/* Backpressure thresholds: the producer pauses above HIGH (bytes or
 * events), resumes below half of both. */
#define LSB_HIGH_BYTES (1u << 20)
#define LSB_HIGH_EVENTS 8192u

/* A block of events (queue.c); `used` bytes of `cap` hold events, `live`
 * of them not popped yet. */
typedef struct lsb_qblock {
  struct lsb_qblock *next;
  size_t used, cap, live;
} lsb_qblock;

/* Block sizes: the first of a queue LSB_QBLOCK_MIN bytes, each next one
 * twice the last up to LSB_QBLOCK_SIZE; up to LSB_QBLOCK_SPARES empty
 * full-sized ones are kept for reuse until the queue is freed (a busy
 * stream mallocs no more; what it keeps is at most what its high mark let
 * it hold, LSB_HIGH_BYTES). */
#define LSB_QBLOCK_MIN 1024u
#define LSB_QBLOCK_SIZE (64u * 1024u)
#define LSB_QBLOCK_SPARES (LSB_HIGH_BYTES / LSB_QBLOCK_SIZE)

typedef struct lsb_queue {
  lsb_event *head, *tail;
  lsb_qblock *first, *last; /* blocks: first holds head, last takes pushes */
  lsb_qblock *done;         /* all popped, the last popped event inside: given back at the next pop */
  lsb_qblock *spare;        /* empty blocks kept for the next ones needed */
  unsigned nspare;
  size_t grow;              /* the size of the next block (see LSB_QBLOCK_MIN) */
  size_t events, bytes;  /* queued: how many, and their size with headers */
  uint64_t seq;          /* of the last event pushed */
  void (*pause)(void *ud), (*resume)(void *ud); /* NULL: no flow control */
  void *ud;
  unsigned paused : 1;   /* the producer was told to pause */
  unsigned ended : 1;    /* the final event was pushed */
  unsigned drained : 1;  /* the final event was popped */
} lsb_queue;

/* The bytes an event counts for in `bytes`. */
#define LSB_EVENT_SIZE(len) (sizeof(lsb_event) + (len))

void lsb_queue_init(lsb_queue *q);
/* Frees the events still queued (and the last one popped). */
void lsb_queue_free(lsb_queue *q);
/* The producer's pause and resume (NULL, NULL: none now, e.g. once it is
 * done: nothing is paused or resumed any more). */
void lsb_queue_flow(lsb_queue *q, void (*pause)(void *), void (*resume)(void *),
                    void *ud);
/* Queue a copy of data as an event of `type` stamped ts; NULL when out of
 * memory.  A final type (done, error) marks the queue ended. */
lsb_event *lsb_queue_push(lsb_queue *q, int type, const char *data, size_t len,
                          double ts);
/* The oldest event, or NULL. The queue owns it: it stays valid (and may be
 * written, e.g. its flags) until the next lsb_queue_pop or lsb_queue_free;
 * pushes do not move or reuse it. Never free() it. */
lsb_event *lsb_queue_pop(lsb_queue *q);
/* An event is there, or the end was popped. */
int lsb_queue_ready(const lsb_queue *q);
int lsb_event_is_final(const lsb_event *e);

#endif
