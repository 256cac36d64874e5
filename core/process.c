#include "process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lsb_proc {
  uv_process_t proc;
  uv_pipe_t pipes[3]; /* stdin, stdout, stderr */
  uv_timer_t timer;
  uv_write_t wreq;
  lsb_ctx *ctx;
  lsb_stream *s;       /* NULL once released */
  char *stdin_buf;
  int handles;         /* handles not closed yet */
  int pid;
  double timeout, grace;
  int64_t status;
  int term_signal;
  unsigned spawned : 1, exited : 1, eof1 : 1, eof2 : 1, stdin_open : 1,
      finished : 1, cancelled : 1, timed_out : 1, killed : 1;
} lsb_proc;

static void on_close(uv_handle_t *h) {
  lsb_proc *p = h->data;
  if (--p->handles > 0) return;
  if (p->s) lsb_stream_detach(p->s);
  free(p->stdin_buf);
  free(p);
}

static void close_handle(lsb_proc *p, uv_handle_t *h) {
  if (!uv_is_closing(h)) uv_close(h, on_close);
}

static void signal_group(lsb_proc *p, int sig) {
  if (p->pid > 0) {
    /* the group outlives its leader while a grandchild holds it */
    if (uv_kill(-p->pid, sig) != 0 && !p->exited) uv_kill(p->pid, sig);
  }
}

static void close_io(lsb_proc *p) {
  close_handle(p, (uv_handle_t *)&p->timer);
  close_handle(p, (uv_handle_t *)&p->pipes[1]);
  close_handle(p, (uv_handle_t *)&p->pipes[2]);
  if (p->stdin_open) {
    p->stdin_open = 0;
    close_handle(p, (uv_handle_t *)&p->pipes[0]);
  }
}

static void maybe_finish(lsb_proc *p) {
  char msg[96];
  lsb_result *r;
  if (p->finished || !p->exited || !p->eof1 || !p->eof2) return;
  p->finished = 1;
  close_io(p);
  close_handle(p, (uv_handle_t *)&p->proc);
  if (!p->s) return;
  r = &p->s->result;
  if (p->term_signal) {
    r->has_rc = 1;
    r->rc = 128 + p->term_signal;
    lsb_signame(p->term_signal, r->signal, sizeof r->signal);
  } else {
    r->has_rc = 1;
    r->rc = p->status;
  }
  r->timed_out = p->timed_out;
  if (p->timed_out) {
    snprintf(msg, sizeof msg, "ETIMEDOUT: command timed out after %gs",
             p->timeout);
    lsb_stream_finish(p->s, msg);
  } else {
    lsb_stream_finish(p->s, NULL);
  }
}

static void on_proc_exit(uv_process_t *proc, int64_t status, int term_signal) {
  lsb_proc *p = proc->data;
  p->exited = 1;
  p->status = status;
  p->term_signal = term_signal;
  if (p->cancelled) {
    close_handle(p, (uv_handle_t *)&p->proc);
    return;
  }
  maybe_finish(p);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  lsb_proc *p = h->data;
  (void)hint;
  /* libuv pairs each alloc with its read callback: one shared buffer */
  buf->base = p->ctx->readbuf;
  buf->len = sizeof p->ctx->readbuf;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  lsb_proc *p = st->data;
  int fd = st == (uv_stream_t *)&p->pipes[1] ? 1 : 2;
  (void)buf;
  if (n > 0) {
    if (p->s) lsb_stream_feed(p->s, fd, p->ctx->readbuf, (size_t)n);
    return;
  }
  if (n == 0) return; /* EAGAIN */
  /* EOF or a read error: this side is over */
  uv_read_stop(st);
  if (fd == 1) p->eof1 = 1;
  else p->eof2 = 1;
  maybe_finish(p);
}

static void on_timer(uv_timer_t *t) {
  lsb_proc *p = t->data;
  if (!p->timed_out) {
    p->timed_out = 1;
    signal_group(p, SIGTERM);
    uv_timer_start(&p->timer, on_timer, (uint64_t)(p->grace * 1000), 0);
  } else if (!p->killed) {
    p->killed = 1;
    signal_group(p, SIGKILL);
  }
}

static void on_written(uv_write_t *req, int status) {
  lsb_proc *p = req->data;
  (void)status; /* EPIPE: the child did not want its stdin */
  free(p->stdin_buf);
  p->stdin_buf = NULL;
  if (p->stdin_open) {
    p->stdin_open = 0;
    close_handle(p, (uv_handle_t *)&p->pipes[0]);
  }
}

static void proc_pause(void *ud) {
  lsb_proc *p = ud;
  if (!p->eof1) uv_read_stop((uv_stream_t *)&p->pipes[1]);
  if (!p->eof2) uv_read_stop((uv_stream_t *)&p->pipes[2]);
}

static void proc_resume(void *ud) {
  lsb_proc *p = ud;
  if (!p->eof1) uv_read_start((uv_stream_t *)&p->pipes[1], on_alloc, on_read);
  if (!p->eof2) uv_read_start((uv_stream_t *)&p->pipes[2], on_alloc, on_read);
}

static void proc_cancel(void *ud) {
  lsb_proc *p = ud;
  lsb_stream *s = p->s;
  p->s = NULL;
  lsb_stream_detach(s);
  if (p->finished) return;
  p->cancelled = 1;
  p->finished = 1;
  signal_group(p, SIGKILL);
  close_io(p);
  if (p->exited) close_handle(p, (uv_handle_t *)&p->proc);
  /* else on_proc_exit reaps the child, then closes the handle */
}

static const lsb_producer_ops proc_ops = {proc_pause, proc_resume, proc_cancel};

int lsb_process_spawn(lsb_ctx *ctx, lsb_stream *s, const lsb_spawn_opts *o,
                      int *pid) {
  uv_process_options_t opts;
  uv_stdio_container_t stdio[3];
  lsb_proc *p = calloc(1, sizeof *p);
  int rc, i;
  if (!p) return UV_ENOMEM;
  p->ctx = ctx;
  p->timeout = o->timeout;
  p->grace = o->grace > 0 ? o->grace : 2.0;
  if (o->has_stdin && o->stdin_len > 0) {
    p->stdin_buf = malloc(o->stdin_len);
    if (!p->stdin_buf) {
      free(p);
      return UV_ENOMEM;
    }
    memcpy(p->stdin_buf, o->stdin_data, o->stdin_len);
  }
  p->proc.data = p->timer.data = p->wreq.data = p;
  for (i = 0; i < 3; i++) {
    p->pipes[i].data = p;
    if (i > 0 || o->has_stdin) {
      uv_pipe_init(ctx->loop, &p->pipes[i], 0);
      p->handles++;
    }
  }
  uv_timer_init(ctx->loop, &p->timer);
  p->handles += 2; /* timer, process (closed on every path) */
  p->stdin_open = o->has_stdin;

  memset(&opts, 0, sizeof opts);
  stdio[0].flags = o->has_stdin ? (UV_CREATE_PIPE | UV_READABLE_PIPE) : UV_IGNORE;
  stdio[0].data.stream = (uv_stream_t *)&p->pipes[0];
  for (i = 1; i < 3; i++) {
    stdio[i].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[i].data.stream = (uv_stream_t *)&p->pipes[i];
  }
  opts.exit_cb = on_proc_exit;
  opts.file = o->argv[0];
  opts.args = o->argv;
  opts.env = o->env;
  opts.cwd = o->cwd;
  opts.stdio = stdio;
  opts.stdio_count = 3;
  opts.flags = UV_PROCESS_DETACHED; /* setsid(): a process group of its own */

  /* attach first: the close callbacks release this reference */
  p->s = s;
  lsb_stream_attach(s, &proc_ops, p);
  rc = uv_spawn(ctx->loop, &p->proc, &opts);
  if (rc != 0) {
    p->s = NULL;
    lsb_stream_detach(s);
    p->finished = 1;
    close_io(p);
    close_handle(p, (uv_handle_t *)&p->proc);
    return rc;
  }
  p->spawned = 1;
  p->pid = p->proc.pid;
  if (pid) *pid = p->pid;
  lsb_stream_progress(s, LSB_STAGE_EXECUTING, -1, -1, -1, "executing");
  uv_read_start((uv_stream_t *)&p->pipes[1], on_alloc, on_read);
  uv_read_start((uv_stream_t *)&p->pipes[2], on_alloc, on_read);
  if (o->has_stdin) {
    if (o->stdin_len > 0) {
      uv_buf_t b = uv_buf_init(p->stdin_buf, (unsigned)o->stdin_len);
      if (uv_write(&p->wreq, (uv_stream_t *)&p->pipes[0], &b, 1, on_written) != 0)
        on_written(&p->wreq, -1);
    } else {
      p->stdin_open = 0;
      close_handle(p, (uv_handle_t *)&p->pipes[0]);
    }
  }
  if (p->timeout > 0)
    uv_timer_start(&p->timer, on_timer, (uint64_t)(p->timeout * 1000 + 0.5), 0);
  return 0;
}
