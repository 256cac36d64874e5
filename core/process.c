#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addchdir_np, POSIX_SPAWN_SETSID */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Processes are started with posix_spawn (vfork speed, whatever the size of
 * the Lua process) in a session and process group of their own, and their
 * exit is watched through a pidfd polled on the loop. Where pidfd_open is
 * missing (Linux < 5.3, valgrind), a SIGCHLD watcher per process stands in:
 * each delivery checks this child alone with waitid(WNOHANG). */

typedef struct lsb_proc {
  union {
    uv_poll_t poll;     /* on the pidfd: readable once the child exited */
    uv_signal_t signal; /* SIGCHLD, when there is no pidfd */
  } exit_w;
  int pidfd;            /* -1 when watching SIGCHLD */
  uv_pipe_t pipes[3]; /* stdin, stdout, stderr */
  uv_timer_t timer;
  uv_idle_t kick;      /* reading goes on next turn (the turn's budget) */
  uv_write_t wreq;
  lsb_ctx *ctx;
  struct lsb_proc *next, *prev; /* ctx->procs */
  lsb_stream *s;       /* NULL once released */
  char *stdin_buf;
  int handles;         /* handles not closed yet */
  int pid;
  double timeout, grace;
  int64_t status;
  int term_signal;
  unsigned exited : 1, eof1 : 1, eof2 : 1, stdin_open : 1,
      finished : 1, cancelled : 1, timed_out : 1, killed : 1;
} lsb_proc;

static void on_close(uv_handle_t *h) {
  lsb_proc *p = h->data;
  if (h == (uv_handle_t *)&p->exit_w && p->pidfd >= 0) {
    close(p->pidfd);
    p->pidfd = -1;
  }
  if (--p->handles > 0) return;
  lsb_ctx *ctx = p->ctx;
  if (p->s) lsb_stream_detach(p->s);
  if (p->prev) p->prev->next = p->next;
  else ctx->procs = p->next;
  if (p->next) p->next->prev = p->prev;
  free(p->stdin_buf);
  free(p);
  lsb_ctx_check_done(ctx);
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
  close_handle(p, (uv_handle_t *)&p->kick);
  close_handle(p, (uv_handle_t *)&p->pipes[1]);
  close_handle(p, (uv_handle_t *)&p->pipes[2]);
  if (p->stdin_open) {
    p->stdin_open = 0;
    close_handle(p, (uv_handle_t *)&p->pipes[0]);
  }
}

/* End the stream with what is known. Normally the child exited and both
 * pipes reached EOF; after a timeout the stream may end without them. */
static void finish(lsb_proc *p) {
  lsb_result *r;
  p->finished = 1;
  close_io(p);
  if (p->exited) close_handle(p, (uv_handle_t *)&p->exit_w);
  else p->cancelled = 1; /* check_exit reaps it later, then closes */
  if (!p->s) return;
  r = &p->s->result;
  if (!p->exited) {
    r->has_rc = 0;
  } else if (p->term_signal) {
    r->has_rc = 1;
    r->rc = 128 + p->term_signal;
    lsb_signame(p->term_signal, r->signal, sizeof r->signal);
  } else {
    r->has_rc = 1;
    r->rc = p->status;
  }
  r->timed_out = p->timed_out;
  if (p->timed_out) {
    lsb_err e = {{0}, NULL};
    lsb_err_set(&e, "ETIMEDOUT", "command timed out after %gs", p->timeout);
    lsb_stream_finish(p->s, &e);
    lsb_err_free(&e);
  } else {
    lsb_stream_finish(p->s, NULL);
  }
}

static void maybe_finish(lsb_proc *p) {
  if (!p->finished && p->exited && p->eof1 && p->eof2) finish(p);
}

/* Has the child exited? Reap it and finish, or wait for the next wake-up. */
static void check_exit(lsb_proc *p) {
  siginfo_t info;
  if (p->exited) return;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG) != 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    info.si_code = CLD_EXITED; /* reaped elsewhere: nothing more to learn */
    info.si_status = 255;
  } else if (info.si_pid == 0) {
    return; /* not exited yet */
  }
  if (p->pidfd >= 0) uv_poll_stop(&p->exit_w.poll);
  else uv_signal_stop(&p->exit_w.signal);
  p->exited = 1;
  if (info.si_code == CLD_EXITED) p->status = info.si_status;
  else p->term_signal = info.si_status;
  if (p->cancelled) {
    close_handle(p, (uv_handle_t *)&p->exit_w);
    return;
  }
  maybe_finish(p);
}

static void on_pidfd(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  check_exit(h->data);
}

static void on_sigchld(uv_signal_t *h, int signum) {
  (void)signum;
  check_exit(h->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  lsb_proc *p = h->data;
  (void)hint;
  /* libuv pairs each alloc with its read callback: one shared buffer */
  buf->base = p->ctx->readbuf;
  buf->len = sizeof p->ctx->readbuf;
}

static void read_both(lsb_proc *p, int on);

/* The turn's budget is spent (ctx.h): the pipes wait for the next turn. */
static void on_kick(uv_idle_t *h) {
  lsb_proc *p = h->data;
  uv_idle_stop(h);
  if (p->s && !p->s->q.paused && !p->finished) read_both(p, 1);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  lsb_proc *p = st->data;
  int fd = st == (uv_stream_t *)&p->pipes[1] ? 1 : 2;
  (void)buf;
  if (n > 0) {
    if (p->s) lsb_stream_feed(p->s, fd, p->ctx->readbuf, (size_t)n);
    lsb_turn_moved(p->ctx);
    if (lsb_turn_spent(p->ctx) && !p->finished) {
      read_both(p, 0);
      uv_idle_start(&p->kick, on_kick);
    }
    return;
  }
  if (n == 0) return; /* EAGAIN */
  /* EOF or a read error: this side is over */
  uv_read_stop(st);
  if (fd == 1) p->eof1 = 1;
  else p->eof2 = 1;
  maybe_finish(p);
}

/* Timeout: SIGTERM to the group, SIGKILL after the grace period, and after
 * one more grace period end the stream anyway: a descendant that left the
 * group (setsid, a daemon) may hold the pipes open forever. */
static void on_timer(uv_timer_t *t) {
  lsb_proc *p = t->data;
  if (!p->timed_out) {
    p->timed_out = 1;
    signal_group(p, SIGTERM);
    uv_timer_start(&p->timer, on_timer, lsb_ms(p->grace), 0);
  } else if (!p->killed) {
    p->killed = 1;
    signal_group(p, SIGKILL);
    uv_timer_start(&p->timer, on_timer, lsb_ms(p->grace), 0);
  } else if (!p->finished) {
    finish(p);
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

static void read_both(lsb_proc *p, int on) {
  for (int i = 1; i <= 2; i++) {
    uv_stream_t *st = (uv_stream_t *)&p->pipes[i];
    if (i == 1 ? p->eof1 : p->eof2) continue;
    if (on) uv_read_start(st, on_alloc, on_read);
    else uv_read_stop(st);
  }
}

static void proc_pause(void *ud) { read_both(ud, 0); }

static void proc_resume(void *ud) { read_both(ud, 1); }

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
  if (p->exited) close_handle(p, (uv_handle_t *)&p->exit_w);
  /* else check_exit reaps the child, then closes the handle */
}

/* conn:close() of the local connection: the group is killed and the stream
 * ends now with `err` (the exit is reaped later, as after a cancel) */
static void proc_abort(void *ud, const lsb_err *err) {
  lsb_proc *p = ud;
  lsb_stream *s = p->s;
  if (p->finished || !s) return;
  p->s = NULL;
  p->cancelled = 1;
  p->finished = 1;
  signal_group(p, SIGKILL);
  close_io(p);
  if (p->exited) close_handle(p, (uv_handle_t *)&p->exit_w);
  lsb_stream_finish(s, err);
  lsb_stream_detach(s);
}

static const lsb_producer_ops proc_ops = {proc_pause, proc_resume, proc_cancel, proc_abort};

static int make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
  return 0;
}

static void close_fds(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* posix_spawn with stdio on the pipes, in a new session, default signals. */
static int spawn_child(const lsb_spawn_opts *o, int in_fd, int out_fd,
                       int err_fd, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t all, none;
  int rc;
  if ((rc = posix_spawn_file_actions_init(&fa)) != 0) return -rc;
  if ((rc = posix_spawnattr_init(&attr)) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return -rc;
  }
  /* each step can run out of memory: the child is never started half set up */
  if (in_fd >= 0) rc = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  else rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  if (!rc && o->cwd) rc = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
  sigfillset(&all);
  sigemptyset(&none);
  if (!rc) rc = posix_spawnattr_setsigdefault(&attr, &all); /* SIGPIPE ignored here, not there */
  if (!rc) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (!rc)
    rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                             POSIX_SPAWN_SETSIGMASK);
  if (!rc && strchr(o->argv[0], '/'))
    rc = posix_spawn(pid, o->argv[0], &fa, &attr, o->argv, o->env ? o->env : environ);
  else if (!rc)
    rc = posix_spawnp(pid, o->argv[0], &fa, &attr, o->argv, o->env ? o->env : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return -rc;
}

int lsb_process_spawn(lsb_ctx *ctx, lsb_stream *s, const lsb_spawn_opts *o,
                      int *pid_out, const char **call) {
  int fds[6] = {-1, -1, -1, -1, -1, -1}; /* stdin r/w, stdout r/w, stderr r/w */
  lsb_proc *p;
  pid_t pid;
  int rc, i;
  /* everything that can run out of memory or descriptors comes before the
   * child exists */
  *call = "malloc()";
  p = calloc(1, sizeof *p);
  if (!p) return UV_ENOMEM;
  if (o->has_stdin && o->stdin_len > 0) {
    p->stdin_buf = malloc(o->stdin_len);
    if (!p->stdin_buf) {
      free(p);
      return UV_ENOMEM;
    }
    memcpy(p->stdin_buf, o->stdin_data, o->stdin_len);
  }
  *call = "pipe()";
  if ((o->has_stdin && (rc = make_pipe(&fds[0])) != 0) ||
      (rc = make_pipe(&fds[2])) != 0 || (rc = make_pipe(&fds[4])) != 0) {
    close_fds(fds, 6);
    free(p->stdin_buf);
    free(p);
    return uv_translate_sys_error(-rc);
  }
  *call = NULL;
  rc = spawn_child(o, fds[0], fds[3], fds[5], &pid);
  /* the child's ends belong to the child now */
  if (fds[0] >= 0) close(fds[0]);
  close(fds[3]);
  close(fds[5]);
  fds[0] = fds[3] = fds[5] = -1;
  if (rc != 0) {
    close_fds(fds, 6);
    free(p->stdin_buf);
    free(p);
    return uv_translate_sys_error(-rc);
  }
  p->ctx = ctx;
  p->next = ctx->procs;
  if (ctx->procs) ctx->procs->prev = p;
  ctx->procs = p;
  p->pid = pid;
  p->timeout = o->timeout;
  p->grace = o->grace > 0 ? o->grace : 2.0;
  /* where it fails (ENOSYS: Linux < 5.3, valgrind; the specs' no_pidfd
   * wrapper), SIGCHLD stands in */
  p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  p->exit_w.poll.data = p->timer.data = p->kick.data = p->wreq.data = p;
  if (p->pidfd >= 0) uv_poll_init(ctx->loop, &p->exit_w.poll, p->pidfd);
  else uv_signal_init(ctx->loop, &p->exit_w.signal);
  uv_timer_init(ctx->loop, &p->timer);
  uv_idle_init(ctx->loop, &p->kick);
  p->handles = 3;
  for (i = 0; i < 3; i++) {
    int fd = i == 0 ? fds[1] : fds[2 * i];
    p->pipes[i].data = p;
    if (fd < 0) continue;
    uv_pipe_init(ctx->loop, &p->pipes[i], 0);
    uv_pipe_open(&p->pipes[i], fd);
    p->handles++;
  }
  p->stdin_open = o->has_stdin;
  p->s = s;
  lsb_stream_attach(s, &proc_ops, p);
  if (pid_out) *pid_out = pid;
  if (p->pidfd >= 0) {
    uv_poll_start(&p->exit_w.poll, UV_READABLE, on_pidfd);
  } else {
    uv_signal_start(&p->exit_w.signal, on_sigchld, SIGCHLD);
    check_exit(p); /* it may have exited before the watcher started */
  }
  lsb_stream_progress(s, LSB_STAGE_EXECUTING, -1, -1, -1, "executing");
  uv_read_start((uv_stream_t *)&p->pipes[1], on_alloc, on_read);
  uv_read_start((uv_stream_t *)&p->pipes[2], on_alloc, on_read);
  if (o->has_stdin) {
    if (p->stdin_buf) {
      uv_buf_t b = uv_buf_init(p->stdin_buf, (unsigned)o->stdin_len);
      if (uv_write(&p->wreq, (uv_stream_t *)&p->pipes[0], &b, 1, on_written) != 0)
        on_written(&p->wreq, -1);
    } else {
      p->stdin_open = 0;
      close_handle(p, (uv_handle_t *)&p->pipes[0]);
    }
  }
  if (p->timeout > 0) {
    uv_update_time(ctx->loop); /* the loop may have idled: count from now */
    uv_timer_start(&p->timer, on_timer, lsb_ms(p->timeout), 0);
  }
  return 0;
}

void lsb_process_teardown_all(lsb_ctx *ctx) {
  for (lsb_proc *p = ctx->procs; p; p = p->next) {
    /* killed already (its stream was finalized); not waited for any more */
    close_io(p);
    close_handle(p, (uv_handle_t *)&p->exit_w);
    if (p->pipes[0].loop) close_handle(p, (uv_handle_t *)&p->pipes[0]); /* stdin */
  }
}
