#include "queue.h"

#include <stdlib.h>
#include <string.h>

void lsb_queue_init(lsb_queue *q) { memset(q, 0, sizeof *q); }

void lsb_queue_free(lsb_queue *q) {
  lsb_event *e = q->head;
  while (e) {
    lsb_event *n = e->next;
    free(e);
    e = n;
  }
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

lsb_event *lsb_queue_push(lsb_queue *q, int type, const char *data, size_t len,
                          double ts) {
  lsb_event *e = malloc(sizeof *e + len + 1);
  if (!e) return NULL;
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
  if (!e) return NULL;
  q->head = e->next;
  if (!q->head) q->tail = NULL;
  q->events--;
  q->bytes -= LSB_EVENT_SIZE(e->len);
  e->next = NULL;
  if (lsb_event_is_final(e)) q->drained = 1;
  if (q->paused && q->resume && q->bytes < LSB_HIGH_BYTES / 2 &&
      q->events < LSB_HIGH_EVENTS / 2) {
    q->paused = 0;
    q->resume(q->ud);
  }
  return e;
}

int lsb_queue_ready(const lsb_queue *q) { return q->head != NULL || q->drained; }
