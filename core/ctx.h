/* Per-Lua-state context: the libuv loop and the list of woken waiters.
 * No C globals: a userdata anchored in the Lua registry points to it and is
 * finalized last, when the state closes, after every stream.  It is freed
 * then, or -- on a host's loop (core.use_loop), which the host turns -- once
 * the last process and session of the state have closed their handles. */
#ifndef LSB_CTX_H
#define LSB_CTX_H

#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "stream.h"

#define LSB_READBUF_SIZE 65536

struct lsb_ssh_session;

struct lsb_ctx {
  uv_loop_t *loop;               /* &own_loop, or the host's */
  uv_loop_t own_loop;
  lsb_waitable woken;            /* sentinel of a circular list */
  uv_signal_t signals[3];        /* INT, TERM, HUP once catch_signals() */
  int catching;                  /* the watchers above are initialized */
  int signals_open;              /* of them, not closed yet */
  int caught;                    /* the signal that interrupted, or 0 */
  int in_run;                    /* inside core.run_once's uv_run */
  int dying;                     /* the Lua state closed: free when idle */
  int released_ref;              /* registry: waiters of closed objects */
  int n_released;                /* how many are in it */
  struct lsb_ssh_session *sessions; /* every SSH session not freed yet */
  struct lsb_proc *procs;        /* every local process not freed yet */
  uint64_t turn_stamp;           /* uv_now() when turn_moved was last reset */
  int turn_moved;                /* a producer moved data since then */
  char readbuf[LSB_READBUF_SIZE]; /* shared: reads are handled one at a time */
};

/* The callbacks of one phase of a loop turn (the idle handles that carry
 * work over, or the I/O that epoll reported) move data for at most about
 * this long; then the producers leave the rest to the next turn, so that the
 * timers (a task's sleep, keepalives) and the tasks are never held up by a
 * flood of output for longer, however many streams there are. */
#define LSB_TURN_BUDGET_NS 2000000u

/* Is this phase's budget spent?  Its start is libuv's loop time (updated at
 * the start of each turn and after the poll for I/O); the first producer to
 * move data in a phase always may (so every turn makes progress, even on a
 * host's loop whose own callbacks took long). */
static inline int lsb_turn_spent(lsb_ctx *ctx) {
  uint64_t start = uv_now(ctx->loop);
  if (start != ctx->turn_stamp) {
    ctx->turn_stamp = start;
    ctx->turn_moved = 0;
  }
  return ctx->turn_moved && uv_hrtime() > start * 1000000u + LSB_TURN_BUDGET_NS;
}

/* A producer moved data in this phase. */
static inline void lsb_turn_moved(lsb_ctx *ctx) { ctx->turn_moved = 1; }

/* After a process or session left the context's lists: the context of a
 * closed Lua state goes with the last of them. */
static inline void lsb_ctx_check_done(lsb_ctx *ctx) {
  if (ctx->dying && !ctx->procs && !ctx->sessions && !ctx->signals_open) free(ctx);
}

#endif
