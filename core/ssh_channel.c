#include "ssh_channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C_DROP: a spare channel that could not be used is freed, then the
 * command opens a channel of its own (C_QUEUED); before C_EXEC, as nothing
 * runs yet (a timeout or a cancel during it ends the op there) */
enum { C_QUEUED, C_DROP, C_EXEC, C_IO, C_CLOSE, C_FREE, C_DONE };

typedef struct lsb_chan {
  lsb_ssh_op op;     /* first: the session sees the op */
  lsb_ctx *ctx;
  LIBSSH2_CHANNEL *ch;
  lsb_stream *s;     /* NULL for a kill, or once the consumer is gone */
  uv_timer_t timer;  /* timeout, then the hard end; or open retries */
  char *cmd;
  char *pgid_mark;   /* NULL: no marker line to strip */
  char *kill;        /* NULL: never killed; else the kill line with {pgid} */
  char *stdin_buf;
  size_t stdin_len, stdin_off;
  int state;
  long pgid;         /* 0 until the marker line came */
  char mark[LSB_SSH_MARK_MAX + 24]; /* the first stderr bytes, until the marker line ends */
  size_t mark_len;
  double timeout, grace;
  int open_retries;
  lsb_err err;       /* ends the stream with this instead of done */
  unsigned has_stdin : 1, eof_sent : 1, mark_done : 1, paused : 1,
      timed_out : 1, cancelled : 1, kill_sent : 1, kill_wanted : 1, removed : 1,
      discard : 1; /* timed out: output still arriving is read and dropped */
  /* is_spare: the op only opens the session's spare channel (no command);
   * from_spare: the command runs on the spare; no_spare: a spare failed it */
  unsigned is_spare : 1, from_spare : 1, no_spare : 1;
} lsb_chan;

static void on_timer_closed(uv_handle_t *h) {
  lsb_chan *c = h->data;
  if (c->stdin_buf) {
    memset(c->stdin_buf, 0, c->stdin_len); /* may hold a sudo password */
    free(c->stdin_buf);
  }
  free(c->cmd);
  free(c->pgid_mark);
  free(c->kill);
  lsb_err_free(&c->err);
  free(c);
}

/* the op is over: leave the session, release the stream, free later */
static void chan_release(lsb_chan *c) {
  if (c->removed) return;
  c->removed = 1;
  c->state = C_DONE;
  if (c->is_spare && c->op.S) c->op.S->spare_opening = 0;
  if (c->s) {
    lsb_stream_detach(c->s);
    c->s = NULL;
  }
  lsb_ssh_remove_op(&c->op);
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* end the stream (once): with `error`, else the op's own error, if any */
static void finish(lsb_chan *c, const lsb_err *error) {
  if (!c->s) return;
  c->s->result.timed_out = c->timed_out;
  if (!error || !lsb_err_isset(error)) {
    if (!lsb_err_isset(&c->err) && c->timed_out)
      lsb_err_set(&c->err, "ETIMEDOUT", "command timed out after %gs", c->timeout);
    error = &c->err;
  }
  lsb_stream_finish(c->s, error);
  lsb_stream_detach(c->s);
  c->s = NULL;
  if (c->paused) {
    /* nobody will resume it: what is left is read and dropped */
    c->paused = 0;
    lsb_ssh_op_paused(&c->op, 0);
  }
}

/* the kill line of c with every {pgid} replaced; NULL when out of memory */
static char *kill_line(const lsb_chan *c) {
  const size_t tl = strlen(LSB_SSH_PGID);
  char num[24];
  size_t nl = (size_t)snprintf(num, sizeof num, "%ld", c->pgid), n = 1;
  const char *p;
  char *out, *o;
  for (p = c->kill; (p = strstr(p, LSB_SSH_PGID)); p += tl) n += nl;
  out = o = malloc(strlen(c->kill) + n);
  if (!out) return NULL;
  for (p = c->kill; *p;) {
    if (strncmp(p, LSB_SSH_PGID, tl) == 0) {
      memcpy(o, num, nl);
      o += nl;
      p += tl;
    } else {
      *o++ = *p++;
    }
  }
  *o = '\0';
  return out;
}

static void send_kill(lsb_chan *c) {
  char *line;
  if (c->kill_sent || !c->op.S || !c->kill) return;
  if (c->pgid <= 0) {
    c->kill_wanted = 1; /* when the marker comes */
    return;
  }
  line = kill_line(c);
  if (!line || lsb_ssh_kill_group(c->op.S, line) != 0) {
    /* the command is not killed: say so, never a quiet end */
    if (!lsb_err_isset(&c->err))
      lsb_err_set(&c->err, "ENOMEM", "out of memory: the kill of the command on %s was not sent",
                  c->op.S->cfg.label);
    free(line);
    return;
  }
  c->kill_sent = 1;
  free(line);
}

static void on_hard_end(uv_timer_t *t) {
  lsb_chan *c = t->data;
  /* the process group outlived TERM, KILL and a grace: stop waiting */
  if (!lsb_err_isset(&c->err))
    lsb_err_set(&c->err, "ETIMEDOUT", "the remote command did not end after it was killed");
  finish(c, NULL);
  lsb_ssh_kick(c->op.S);
}

static void on_timeout(uv_timer_t *t) {
  lsb_chan *c = t->data;
  if (c->state >= C_CLOSE || !c->op.S) return;
  c->timed_out = 1;
  if (c->state == C_QUEUED) {
    finish(c, NULL);
    chan_release(c);
    return;
  }
  /* The command has had its time: what it still sends (over SSH up to a
   * whole channel window, megabytes of it behind a consumer that paused
   * the channel) is drained here instead of queued, so the stream ends
   * when the remote group is dead, not after a backlog of lines. */
  c->discard = 1;
  if (c->paused) {
    c->paused = 0;
    lsb_ssh_op_paused(&c->op, 0);
  }
  send_kill(c);
  uv_timer_start(&c->timer, on_hard_end, lsb_ms(c->grace + 5), 0);
  lsb_ssh_kick(c->op.S);
}

static void on_retry(uv_timer_t *t) {
  lsb_chan *c = t->data;
  c->op.slot_wait = 0;
  if (c->op.S) lsb_ssh_pump(c->op.S);
}

/* stderr: the marker line first */
static void feed_stderr(lsb_chan *c, const char *p, size_t n) {
  if (!c->mark_done) {
    while (n > 0 && !c->mark_done) {
      char ch = *p++;
      n--;
      if (ch == '\n' || c->mark_len == sizeof c->mark - 1) {
        size_t ml = strlen(c->pgid_mark);
        c->mark[c->mark_len] = '\0';
        c->mark_done = 1;
        if (c->mark_len > ml && strncmp(c->mark, c->pgid_mark, ml) == 0) {
          c->pgid = strtol(c->mark + ml, NULL, 10);
          if (c->kill_wanted) send_kill(c);
        } else {
          /* not ours (a shell that printed first): pass it on */
          if (c->s) lsb_stream_feed(c->s, 2, c->mark, c->mark_len);
          if (ch == '\n' && c->s) lsb_stream_feed(c->s, 2, "\n", 1);
          else if (c->s) lsb_stream_feed(c->s, 2, &ch, 1);
        }
      } else {
        c->mark[c->mark_len++] = ch;
      }
    }
    if (n == 0) return;
  }
  if (c->s && !c->discard) lsb_stream_feed(c->s, 2, p, n);
}

static void chan_lost(lsb_ssh_op *op, const lsb_err *err) {
  lsb_chan *c = (lsb_chan *)op;
  /* a session closed by Lua (still READY, unlike a lost one): the running
   * command is killed by a kill op, which the closing session sends before
   * it disconnects */
  if (!op->is_kill && op->S && op->S->state == LSB_SSH_READY && c->state > C_QUEUED &&
      c->state < C_CLOSE) {
    send_kill(c);
    if (c->kill_wanted && !c->kill_sent) {
      /* the command runs but its group id (the marker line) is still on
       * its way (the exec's reply, a jump host's hops): the op stays,
       * counted as a kill so that the session drains for it, reading
       * until the marker comes (its kill goes out then, send_kill) and the
       * channel ends; the consumer's stream ends now */
      op->is_kill = 1;
      c->discard = 1;
      finish(c, err);
      return;
    }
  }
  c->ch = NULL; /* the session frees it */
  finish(c, err);
  chan_release(c);
}

static int fail_chan(lsb_chan *c, const char *what) {
  lsb_ssh_session *S = c->op.S;
  int rc = libssh2_session_last_errno(S->ssh);
  if (lsb_ssh_fatal(rc)) {
    lsb_ssh_lost(S, rc, NULL);
    return 1;
  }
  if (!lsb_err_isset(&c->err))
    lsb_err_set(&c->err, rc == LIBSSH2_ERROR_ALLOC ? "ENOMEM" : "ECHANNEL", "%s on %s failed: %s",
                what, S->cfg.label, lsb_ssh_errmsg(S));
  finish(c, NULL);
  c->state = c->ch ? C_CLOSE : C_DONE;
  if (!c->ch) chan_release(c);
  return 1;
}

static lsb_chan *chan_new(lsb_ssh_session *S, const char *cmd);

/* One round trip per command: while a command starts, the channel of the
 * next one is opened ahead (the spare), so that a session running commands
 * one after another pays only the exec's round trip for each, not the
 * channel open's too. Only when nothing else waits for a channel (the slot
 * is theirs), within the server's known limit (the last slot stays for
 * kills), never on a kill helper, a session Lua let go of, or one that
 * carries a jump host's tunnels (a session through one has spares). A refusal
 * (MaxSessions) turns spares off for the session; a failure costs nothing
 * (the next command opens its own channel). */
static void want_spare(lsb_ssh_session *S) {
  lsb_chan *c;
  if (S->spare || S->spare_opening || S->spare_off || S->is_helper || S->lua_gone ||
      S->state != LSB_SSH_READY)
    return;
  if (S->chan_limit > 1 && S->nchannels >= S->chan_limit - 1) return;
  for (const lsb_ssh_op *o = S->ops_head; o; o = o->next)
    if (!o->has_channel || o->is_tunnel) return; /* a jump host's session: no spare */
  c = chan_new(S, "");
  if (!c) return; /* only a speed-up */
  c->is_spare = 1;
  c->mark_done = 1;
  S->spare_opening = 1;
  lsb_ssh_add_op(S, &c->op);
  if (S->pumping) S->repump = 1;
  else lsb_ssh_kick(S);
}

/* the spare op: open the channel and leave it to the session */
static int spare_pump(lsb_chan *c) {
  lsb_ssh_session *S = c->op.S;
  if (S->state != LSB_SSH_READY || S->spare ||
      (S->chan_limit > 1 && S->nchannels >= S->chan_limit - 1)) {
    chan_release(c); /* not wanted any more */
    return 1;
  }
  if (!lsb_ssh_may_open(S, &c->op)) return 0;
  c->ch = libssh2_channel_open_ex(S->ssh, "session", sizeof "session" - 1, LSB_SSH_WINDOW,
                                 LSB_SSH_PACKET, NULL, 0);
  if (!c->ch) {
    int rc = libssh2_session_last_errno(S->ssh);
    if (rc == LIBSSH2_ERROR_EAGAIN) return 0;
    lsb_ssh_opened(S, &c->op, 0);
    if (lsb_ssh_fatal(rc)) {
      lsb_ssh_lost(S, rc, NULL);
      return 1;
    }
    S->spare_off = 1; /* MaxSessions (or a server that will not): no more */
    chan_release(c);
    return 1;
  }
  lsb_ssh_opened(S, &c->op, 1);
  S->spare = c->ch; /* still counted in nchannels, now by the session */
  c->ch = NULL;
  c->op.has_channel = 0;
  chan_release(c);
  return 1;
}

/* returns 1 when something moved */
static int chan_pump(lsb_ssh_op *op) {
  lsb_chan *c = (lsb_chan *)op;
  lsb_ssh_session *S = op->S;
  int progress = 0;
  ssize_t n;
  for (;;) {
    switch (c->state) {
      case C_QUEUED:
        if (c->is_spare) return spare_pump(c) | progress;
        if (S->spare && !c->no_spare && S->opener != op && S->state <= LSB_SSH_DRAINING) {
          /* the channel opened ahead: no open round trip */
          c->ch = S->spare;
          S->spare = NULL;
          op->has_channel = 1; /* the count moves with it */
          c->from_spare = 1;
          /* the server may have closed it while it waited (ChannelTimeout),
           * unread while the session was idle: a read takes in what came
           * (libssh2 reads the transport for any channel), then a closed
           * spare is dropped */
          n = libssh2_channel_read_ex(c->ch, 0, c->ctx->readbuf, sizeof c->ctx->readbuf);
          if (n < 0 && n != LIBSSH2_ERROR_EAGAIN && lsb_ssh_fatal((int)n)) {
            lsb_ssh_lost(S, (int)n, NULL);
            return 1;
          }
          c->state = n != LIBSSH2_ERROR_EAGAIN || libssh2_channel_eof(c->ch) ? C_DROP : C_EXEC;
          progress = 1;
          break;
        }
        if (!lsb_ssh_may_open(S, op)) return progress;
        c->ch = libssh2_channel_open_ex(S->ssh, "session", sizeof "session" - 1,
                                       LSB_SSH_WINDOW, LSB_SSH_PACKET, NULL, 0);
        if (!c->ch) {
          int rc = libssh2_session_last_errno(S->ssh);
          if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
          lsb_ssh_opened(S, op, 0);
          if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE && op->is_kill &&
              (S->nchannels > 0 || S->state == LSB_SSH_DRAINING)) {
            /* every channel is taken (by the commands to be killed, maybe;
             * when draining, the commands were let go of but the server
             * still holds their channels): the kill goes over a second
             * connection instead of waiting */
            lsb_ssh_session *H = lsb_ssh_helper(S);
            if (H && lsb_ssh_kill_group(H, c->cmd) == 0) {
              chan_release(c);
              return 1;
            }
          }
          if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE &&
              c->open_retries < (S->nchannels > 0 ? 200 : 8)) {
            /* MaxSessions reached: wait for a channel to close, or retry */
            if (S->nchannels > 0 && S->open_seq == S->close_seq &&
                lsb_now() - S->last_close > 0.05 &&
                (S->chan_limit == 0 || S->nchannels < S->chan_limit))
              S->chan_limit = S->nchannels;
            c->open_retries++;
            op->slot_wait = 1;
            if (S->nchannels == 0) {
              if (!uv_is_active((uv_handle_t *)&c->timer)) {
                uv_timer_start(&c->timer, on_retry, 25u * (unsigned)c->open_retries, 0);
              } else {
                /* the timer counts the command's timeout: retry on the next
                 * loop turn (nothing else would wake this op) */
                op->slot_wait = 0;
                lsb_ssh_kick(S);
              }
            }
            return 0;
          }
          return fail_chan(c, "opening a channel");
        }
        lsb_ssh_opened(S, op, 1);
        c->open_retries = 0;
        c->state = C_EXEC;
        progress = 1;
        break;
      case C_EXEC: {
        int rc = libssh2_channel_exec(c->ch, c->cmd);
        /* the exec request is out: the next command's channel opens now,
         * in the same round trip */
        if (rc == LIBSSH2_ERROR_EAGAIN || rc == 0) want_spare(S);
        if (rc == LIBSSH2_ERROR_EAGAIN && c->from_spare && libssh2_channel_eof(c->ch)) {
          /* the server closed the spare as the exec went out */
          c->state = C_DROP;
          progress = 1;
          break;
        }
        if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
        if (rc != 0 && c->from_spare && !lsb_ssh_fatal(libssh2_session_last_errno(S->ssh))) {
          /* refused on the spare: once more on a channel of its own */
          c->state = C_DROP;
          progress = 1;
          break;
        }
        if (rc != 0) return fail_chan(c, "starting the command");
        if (c->s) lsb_stream_progress(c->s, LSB_STAGE_EXECUTING, -1, -1, -1, "executing");
        c->state = C_IO;
        progress = 1;
        break;
      }
      case C_IO: {
        int moved = 0;
        /* stdin, then EOF */
        while (c->stdin_off < c->stdin_len) {
          n = libssh2_channel_write(c->ch, c->stdin_buf + c->stdin_off,
                                    c->stdin_len - c->stdin_off);
          if (n == LIBSSH2_ERROR_EAGAIN) break;
          if (n < 0) {
            if (lsb_ssh_fatal((int)n)) return fail_chan(c, "writing stdin");
            c->stdin_off = c->stdin_len; /* the command closed its stdin */
            break;
          }
          c->stdin_off += (size_t)n;
          moved = 1;
        }
        if (c->stdin_off >= c->stdin_len && !c->eof_sent) {
          int rc = libssh2_channel_send_eof(c->ch);
          if (rc == 0 || (rc != LIBSSH2_ERROR_EAGAIN && !lsb_ssh_fatal(rc))) {
            c->eof_sent = 1;
            moved = 1;
            if (c->stdin_buf) {
              memset(c->stdin_buf, 0, c->stdin_len);
              free(c->stdin_buf);
              c->stdin_buf = NULL;
              c->stdin_len = c->stdin_off = 0;
            }
          } else if (rc != LIBSSH2_ERROR_EAGAIN) {
            return fail_chan(c, "sending EOF");
          }
        }
        if (c->paused && c->s) return progress | moved;
        /* stdout and stderr, each until it would block */
        for (int stream_id = 0; stream_id < 2; stream_id++) {
          for (;;) {
            if (lsb_ssh_over_budget(S)) return progress;
            n = libssh2_channel_read_ex(c->ch, stream_id == 0 ? 0 : SSH_EXTENDED_DATA_STDERR,
                                        c->ctx->readbuf, sizeof c->ctx->readbuf);
            if (n == LIBSSH2_ERROR_EAGAIN || n == 0) break;
            if (n < 0) return fail_chan(c, "reading output");
            moved = 1;
            lsb_ssh_moved(S, (size_t)n);
            S->last_rx = lsb_now(); /* read here, not only on a poll event */
            if (stream_id == 0) {
              if (c->s && !c->discard) lsb_stream_feed(c->s, 1, c->ctx->readbuf, (size_t)n);
            } else {
              feed_stderr(c, c->ctx->readbuf, (size_t)n);
            }
            if (c->paused && c->s) return 1;
          }
        }
        if (!c->eof_sent && c->stdin_off < c->stdin_len && libssh2_channel_eof(c->ch) &&
            libssh2_channel_window_write(c->ch) == 0) {
          /* it ended without reading all its stdin: the window will never
           * open again (checked after the reads, which may have just taken
           * in the server's EOF while our write waited) */
          c->stdin_off = c->stdin_len;
          progress = 1;
          break;
        }
        if (libssh2_channel_eof(c->ch) && c->eof_sent) {
          c->state = C_CLOSE;
          progress = 1;
          break;
        }
        return progress | moved;
      }
      case C_CLOSE: {
        int rc = libssh2_channel_close(c->ch);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
        if (rc == 0 && c->s) {
          char *sig = NULL;
          size_t siglen = 0;
          lsb_result *r = &c->s->result;
          libssh2_channel_get_exit_signal(c->ch, &sig, &siglen, NULL, NULL, NULL, NULL);
          if (sig && siglen) {
            snprintf(r->signal, sizeof r->signal, "%.*s", (int)siglen, sig);
            r->has_rc = 1;
            r->rc = 128 + lsb_signum(r->signal);
          } else {
            r->has_rc = 1;
            r->rc = libssh2_channel_get_exit_status(c->ch);
            /* killed by us (timeout, cancel), but a wrapper -- the server's
             * timeout(1), a shell -- exited with 128+n for the signal: say
             * the signal, as the local connection does */
            if (c->kill_sent && r->rc > 128 && r->rc < 128 + 65)
              lsb_signame(r->rc - 128, r->signal, sizeof r->signal);
          }
          if (sig) libssh2_free(S->ssh, sig);
        } else if (rc != 0 && lsb_ssh_fatal(rc)) {
          lsb_ssh_lost(S, rc, NULL);
          return 1;
        }
        if (!c->mark_done && c->mark_len && c->s) {
          /* a short stderr without the marker: it is output */
          lsb_stream_feed(c->s, 2, c->mark, c->mark_len);
        }
        finish(c, NULL);
        c->state = C_FREE;
        progress = 1;
        break;
      }
      case C_DROP: {
        int rc = libssh2_channel_free(c->ch);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
        c->ch = NULL;
        lsb_ssh_channel_closed(S, op);
        c->from_spare = 0;
        c->no_spare = 1;
        c->state = C_QUEUED;
        if (c->cancelled || c->timed_out) {
          finish(c, NULL);
          chan_release(c);
          return 1;
        }
        progress = 1;
        break;
      }
      case C_FREE: {
        int rc = libssh2_channel_free(c->ch);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
        c->ch = NULL;
        chan_release(c);
        return 1;
      }
      default:
        return progress;
    }
  }
}

static void chan_pause(void *ud) {
  lsb_chan *c = ud;
  c->paused = 1;
  lsb_ssh_op_paused(&c->op, 1);
}

static void chan_resume(void *ud) {
  lsb_chan *c = ud;
  c->paused = 0;
  lsb_ssh_op_paused(&c->op, 0);
  /* From the next loop turn, never here: this runs inside pop(), and a
   * pump here would refill the queue before the consumer ever finds it
   * empty, so it would never return to the loop (timeouts, other tasks,
   * keepalives all starved by a fast command). */
  if (c->op.S) lsb_ssh_kick(c->op.S);
}

/* the consumer is done with the command: a queued one goes, a running one
 * is killed (what is left is read and dropped until the channel ends) */
static void chan_stop(lsb_chan *c) {
  c->cancelled = 1;
  if (c->removed) return;
  if (c->state == C_QUEUED) {
    chan_release(c);
    return;
  }
  if (c->state < C_CLOSE) {
    send_kill(c);
    lsb_ssh_kick(c->op.S);
  }
}

static void chan_cancel(void *ud) {
  lsb_chan *c = ud;
  lsb_stream *s = c->s;
  c->s = NULL;
  c->paused = 0; /* what is left is read and dropped */
  lsb_ssh_op_paused(&c->op, 0);
  if (s) lsb_stream_detach(s);
  chan_stop(c);
}

/* the stream ends now with `err` (finish unpauses); the command is killed */
static void chan_abort(void *ud, const lsb_err *err) {
  lsb_chan *c = ud;
  finish(c, err);
  chan_stop(c);
}

static const lsb_producer_ops chan_ops = {chan_pause, chan_resume, chan_cancel, chan_abort};

static lsb_chan *chan_new(lsb_ssh_session *S, const char *cmd) {
  lsb_chan *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->cmd = strdup(cmd);
  if (!c->cmd) {
    free(c);
    return NULL;
  }
  c->ctx = S->ctx;
  c->op.pump = chan_pump;
  c->op.lost = chan_lost;
  uv_timer_init(S->ctx->loop, &c->timer);
  c->timer.data = c;
  return c;
}

static void chan_drop(lsb_chan *c) {
  /* on_timer_closed frees c and its strings */
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

int lsb_ssh_exec(lsb_ssh_session *S, lsb_stream *s, const lsb_ssh_exec_opts *o) {
  lsb_chan *c;
  if (o->pgid_mark && strlen(o->pgid_mark) > LSB_SSH_MARK_MAX) return UV_EINVAL;
  c = chan_new(S, o->cmd);
  if (!c) return UV_ENOMEM;
  if ((o->pgid_mark && !(c->pgid_mark = strdup(o->pgid_mark))) ||
      (o->kill && !(c->kill = strdup(o->kill)))) {
    chan_drop(c);
    return UV_ENOMEM;
  }
  c->mark_done = !c->pgid_mark;
  if (o->has_stdin && o->stdin_len) {
    c->stdin_buf = malloc(o->stdin_len);
    if (!c->stdin_buf) {
      chan_drop(c);
      return UV_ENOMEM;
    }
    memcpy(c->stdin_buf, o->stdin_data, o->stdin_len);
    c->stdin_len = o->stdin_len;
  }
  c->timeout = o->timeout;
  c->grace = o->grace > 0 ? o->grace : 2.0;
  c->s = s;
  lsb_stream_attach(s, &chan_ops, c);
  lsb_ssh_add_op(S, &c->op);
  uv_update_time(S->ctx->loop);
  if (c->timeout > 0 && lsb_ms(c->timeout) != UINT64_MAX) /* inf: none */
    uv_timer_start(&c->timer, on_timeout, lsb_ms(c->timeout), 0);
  lsb_ssh_pump(S);
  return 0;
}

/* the remote kill: a channel without a stream, running the kill line */
int lsb_ssh_kill_group(lsb_ssh_session *S, const char *line) {
  lsb_chan *c = chan_new(S, line);
  if (!c) return UV_ENOMEM;
  c->mark_done = 1;
  c->op.is_kill = 1;
  lsb_ssh_add_op(S, &c->op);
  lsb_ssh_kick(S);
  return 0;
}
