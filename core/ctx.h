/* Per-Lua-state context: the libuv loop and the list of woken waiters.
 * It lives in a userdata anchored in the Lua registry (no C globals) and is
 * finalized last, when the state closes, after every stream. */
#ifndef LSB_CTX_H
#define LSB_CTX_H

#include <uv.h>

#include "stream.h"

#define LSB_READBUF_SIZE 65536

struct lsb_ssh_session;

struct lsb_ctx {
  uv_loop_t *loop;
  uv_loop_t own_loop;
  int owns_loop;
  lsb_waitable woken;            /* sentinel of a circular list */
  uv_signal_t signals[3];        /* INT, TERM, HUP once catch_signals() */
  int catching;                  /* the watchers above are initialized */
  int caught;                    /* the signal that interrupted, or 0 */
  int in_run;                    /* inside core.run_once's uv_run */
  int released_ref;              /* registry: waiters of closed objects */
  int n_released;                /* how many are in it */
  struct lsb_ssh_session *sessions; /* every SSH session not freed yet */
  struct lsb_proc *procs;        /* every local process not freed yet */
  char readbuf[LSB_READBUF_SIZE]; /* shared: reads are handled one at a time */
};

#endif
