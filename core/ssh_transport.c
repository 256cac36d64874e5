/* Jump host tunnels and ProxyCommand processes: see ssh_transport.h. */
#include "ssh_transport.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* a direct-tcpip channel of a jump host's session <-> a socketpair end */

/* Per direction: what was read and not written yet.  Small, since a jump
 * host may carry a thousand sessions; the SSH window (2 MiB, libssh2's
 * default for direct-tcpip) and the socketpair's buffer hold the rest. */
#define TUN_BUF 16384

enum { T_OPEN, T_IO, T_CLOSE, T_FREE, T_DONE };

typedef struct lsb_tunnel {
  lsb_ssh_op op;          /* first: the session sees the op */
  uv_poll_t poll;         /* on fd; closing it closes fd and frees this */
  int fd;
  int poll_events;
  LIBSSH2_CHANNEL *ch;
  lsb_ssh_session *inner; /* the session carried; NULL once it is gone */
  char *host;
  int port;
  int state;
  char up[TUN_BUF];       /* fd -> channel */
  size_t up_len, up_off;
  char down[TUN_BUF];     /* channel -> fd */
  size_t down_len, down_off;
  unsigned fd_eof : 1, eof_sent : 1, wr_shut : 1, removed : 1, blocked : 1;
} lsb_tunnel;

static void tun_on_poll(uv_poll_t *h, int status, int events);

static void tun_closed(uv_handle_t *h) {
  lsb_tunnel *t = h->data;
  close(t->fd);
  free(t->host);
  free(t);
}

static void tun_update_poll(lsb_tunnel *t) {
  int ev = 0;
  if (t->removed) return;
  if (t->state == T_IO) {
    if (t->up_len == 0 && !t->fd_eof) ev |= UV_READABLE;
    if (t->down_off < t->down_len) ev |= UV_WRITABLE;
  }
  if (ev == t->poll_events) return;
  if (ev) uv_poll_start(&t->poll, ev, tun_on_poll);
  else uv_poll_stop(&t->poll);
  t->poll_events = ev;
}

/* the op is over: leave the session and the inner one, free later */
static void tun_release(lsb_tunnel *t) {
  if (t->removed) return;
  t->removed = 1;
  t->state = T_DONE;
  if (t->inner) t->inner->tunnel = NULL;
  t->inner = NULL;
  if (t->op.S) lsb_ssh_remove_op(&t->op);
  uv_close((uv_handle_t *)&t->poll, tun_closed);
}

/* the inner session fails (connecting) or is lost with this */
static void tun_fail(lsb_tunnel *t, const char *name, const char *fmt, ...) LSB_PRINTF(3, 4);
static void tun_fail(lsb_tunnel *t, const char *name, const char *fmt, ...) {
  char buf[700];
  va_list ap;
  lsb_ssh_session *inner = t->inner;
  if (!inner) return;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  inner->tunnel = NULL;
  t->inner = NULL;
  lsb_ssh_transport_failed(inner, name, buf);
}

/* write what `down` holds to fd; 0 when it would block (or fd is gone) */
static int tun_flush_down(lsb_tunnel *t) {
  while (t->down_off < t->down_len) {
    ssize_t n = write(t->fd, t->down + t->down_off, t->down_len - t->down_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      /* EPIPE, ECONNRESET: the inner session closed its end */
      t->fd_eof = 1;
      t->down_off = t->down_len = 0;
      return 0;
    }
    t->down_off += (size_t)n;
  }
  t->down_off = t->down_len = 0;
  return 1;
}

static int tun_pump(lsb_ssh_op *op) {
  lsb_tunnel *t = (lsb_tunnel *)op;
  lsb_ssh_session *S = op->S;
  int progress = 0;
  ssize_t n;
  for (;;) {
    switch (t->state) {
      case T_OPEN:
        if (!t->inner && S->opener != op) { /* nobody wants it any more */
          tun_release(t);
          return 1;
        }
        if (!lsb_ssh_may_open(S, op)) return progress;
        t->ch = libssh2_channel_direct_tcpip_ex(S->ssh, t->host, t->port, "127.0.0.1", 22);
        if (!t->ch) {
          int rc = libssh2_session_last_errno(S->ssh);
          if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
          lsb_ssh_opened(S, op, 0);
          if (lsb_ssh_fatal(rc)) {
            lsb_ssh_lost(S, rc, NULL); /* tun_lost says so to the inner one */
            return 1;
          }
          tun_fail(t, "ECONNREFUSED", "jump host %s cannot open a connection to %s:%d: %s",
                   S->cfg.label, t->host, t->port, lsb_ssh_errmsg(S));
          tun_release(t);
          return 1;
        }
        /* not counted among the channels of MaxSessions (session channels) */
        lsb_ssh_opened(S, op, 0);
        t->state = t->inner ? T_IO : T_CLOSE;
        progress = 1;
        break;
      case T_IO: {
        int moved = 0;
        /* up: the inner session's bytes into the channel */
        for (;;) {
          while (t->up_off < t->up_len) {
            n = libssh2_channel_write(t->ch, t->up + t->up_off, t->up_len - t->up_off);
            if (n == LIBSSH2_ERROR_EAGAIN) break;
            if (n < 0) {
              if (lsb_ssh_fatal((int)n)) {
                lsb_ssh_lost(S, (int)n, NULL);
                return 1;
              }
              /* the channel failed: the far end is gone */
              t->up_off = t->up_len = 0;
              t->fd_eof = 1;
              break;
            }
            t->up_off += (size_t)n;
            moved = 1;
          }
          if (t->up_off < t->up_len) break;
          t->up_off = t->up_len = 0;
          if (t->fd_eof) break;
          n = read(t->fd, t->up, sizeof t->up);
          if (n > 0) {
            t->up_len = (size_t)n;
            continue;
          }
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
          t->fd_eof = 1; /* the inner session closed its end (or it failed) */
          break;
        }
        /* down: the channel's bytes to the inner session */
        for (;;) {
          if (!tun_flush_down(t)) break;
          if (t->fd_eof) break;
          if (lsb_ssh_over_budget(S)) {
            tun_update_poll(t);
            return progress | moved;
          }
          n = libssh2_channel_read(t->ch, t->down, sizeof t->down);
          if (n == LIBSSH2_ERROR_EAGAIN || n == 0) break;
          if (n < 0) {
            if (lsb_ssh_fatal((int)n)) {
              lsb_ssh_lost(S, (int)n, NULL);
              return 1;
            }
            t->fd_eof = 1;
            break;
          }
          t->down_len = (size_t)n;
          lsb_ssh_moved(S, (size_t)n);
          S->last_rx = lsb_now();
          moved = 1;
        }
        /* backpressure: the inner session is behind, the channel is not
         * read until fd is writable again (the window fills, the far end
         * stops) */
        if ((t->down_off < t->down_len) != t->blocked) {
          t->blocked = t->down_off < t->down_len;
          lsb_ssh_op_paused(op, t->blocked);
        }
        if (!t->wr_shut && t->down_len == 0 && libssh2_channel_eof(t->ch)) {
          shutdown(t->fd, SHUT_WR); /* the far end closed: the inner one reads EOF */
          t->wr_shut = 1;
          moved = 1;
        }
        if (t->fd_eof && !t->eof_sent) {
          int rc = libssh2_channel_send_eof(t->ch);
          if (rc == LIBSSH2_ERROR_EAGAIN) {
            tun_update_poll(t);
            return progress | moved;
          }
          t->eof_sent = 1;
          moved = 1;
        }
        if (t->fd_eof) {
          /* the inner session is gone (it never half-closes) */
          if (t->blocked) {
            t->blocked = 0;
            lsb_ssh_op_paused(op, 0);
          }
          t->state = T_CLOSE;
          progress = 1;
          break;
        }
        tun_update_poll(t);
        return progress | moved;
      }
      case T_CLOSE: {
        int rc = libssh2_channel_close(t->ch);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
        if (rc != 0 && lsb_ssh_fatal(rc)) {
          lsb_ssh_lost(S, rc, NULL);
          return 1;
        }
        t->state = T_FREE;
        progress = 1;
        break;
      }
      case T_FREE: {
        int rc = libssh2_channel_free(t->ch);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progress;
        t->ch = NULL;
        tun_release(t);
        return 1;
      }
      default:
        return progress;
    }
  }
}

/* the jump host's session is lost or closed: so is the inner one */
static void tun_lost(lsb_ssh_op *op, const lsb_err *err) {
  lsb_tunnel *t = (lsb_tunnel *)op;
  lsb_ssh_session *S = op->S;
  t->ch = NULL; /* the session frees it */
  if (S && err && lsb_err_isset(err))
    tun_fail(t, strcmp(err->name, "ECANCELED") == 0 ? "ECONNRESET" : err->name,
             "jump host %s: %s", S->cfg.label, lsb_err_text(err));
  else if (S)
    tun_fail(t, "ECONNRESET", "jump host %s: connection closed", S->cfg.label);
  tun_release(t);
}

static void tun_on_poll(uv_poll_t *h, int status, int events) {
  lsb_tunnel *t = h->data;
  (void)events;
  if (status < 0) { /* the socketpair failed: the inner side is gone */
    t->fd_eof = 1;
    uv_poll_stop(&t->poll);
    t->poll_events = 0;
  }
  if (t->blocked && (events & UV_WRITABLE) && tun_flush_down(t)) {
    t->blocked = 0;
    lsb_ssh_op_paused(&t->op, 0);
  }
  if (t->op.S) lsb_ssh_pump(t->op.S);
  if (!t->removed) tun_update_poll(t);
}

int lsb_ssh_tunnel_start(lsb_ssh_session *via, lsb_ssh_session *inner, int fd,
                         const char *host, int port) {
  lsb_tunnel *t = calloc(1, sizeof *t);
  int rc;
  if (!t || !(t->host = strdup(host))) {
    free(t);
    close(fd);
    return UV_ENOMEM;
  }
  t->fd = fd;
  t->port = port;
  if ((rc = uv_poll_init_socket(via->ctx->loop, &t->poll, fd)) != 0) {
    close(fd);
    free(t->host);
    free(t);
    return rc;
  }
  t->poll.data = t;
  uv_unref((uv_handle_t *)&t->poll); /* the sessions' polls keep the loop */
  t->op.pump = tun_pump;
  t->op.lost = tun_lost;
  t->op.is_tunnel = 1;
  t->inner = inner;
  inner->tunnel = t;
  inner->tunneled = 1;
  lsb_ssh_add_op(via, &t->op);
  lsb_ssh_kick(via);
  return 0;
}

lsb_ssh_session *lsb_ssh_tunnel_via(lsb_ssh_session *S) {
  return S->tunnel && !S->tunnel->removed ? S->tunnel->op.S : NULL;
}

/* ------------------------------------------------------------------ */
/* ProxyCommand */

#define PROXY_ERR 1024 /* the last bytes of its stderr kept */

typedef struct lsb_proxy {
  uv_process_t proc;
  uv_pipe_t err;          /* its stderr */
  uv_timer_t timer;       /* SIGKILL after SIGHUP; how long an EOF waits */
  lsb_ssh_session *S;     /* NULL once the session is gone */
  char *cmd;
  char errbuf[PROXY_ERR];
  size_t errlen;
  int handles;            /* open uv handles: freed at 0 */
  int64_t status;
  int term_signal;
  unsigned exited : 1, err_eof : 1, reported : 1, proc_open : 1, err_open : 1,
      killed : 1;
} lsb_proxy;

static void proxy_free_if_done(lsb_proxy *p) {
  if (p->handles > 0) return;
  free(p->cmd);
  free(p);
}

static void proxy_handle_closed(uv_handle_t *h) {
  lsb_proxy *p = h->data;
  p->handles--;
  proxy_free_if_done(p);
}

static void proxy_close_err(lsb_proxy *p) {
  if (!p->err_open) return;
  p->err_open = 0;
  uv_close((uv_handle_t *)&p->err, proxy_handle_closed);
}

static void proxy_close_all(lsb_proxy *p) {
  proxy_close_err(p);
  if (p->proc_open) {
    p->proc_open = 0;
    uv_close((uv_handle_t *)&p->proc, proxy_handle_closed);
  }
  if (!uv_is_closing((uv_handle_t *)&p->timer))
    uv_close((uv_handle_t *)&p->timer, proxy_handle_closed);
}

/* tell the session what became of the command: its status and stderr */
static void proxy_report(lsb_proxy *p) {
  char buf[PROXY_ERR + 200], how[64];
  size_t n;
  char *e;
  lsb_ssh_session *S = p->S;
  if (p->reported || !S) return;
  p->reported = 1;
  /* the stderr's last lines, trimmed and on one line */
  p->errbuf[p->errlen < PROXY_ERR ? p->errlen : PROXY_ERR - 1] = '\0';
  e = p->errbuf;
  while (*e == '\n' || *e == '\r' || *e == ' ') e++;
  n = strlen(e);
  while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == '\r' || e[n - 1] == ' ')) e[--n] = '\0';
  for (char *c = e; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
  if (!p->exited) snprintf(how, sizeof how, "closed the connection");
  else if (p->term_signal) snprintf(how, sizeof how, "was killed by signal %d", p->term_signal);
  else snprintf(how, sizeof how, "exited with status %d", (int)p->status);
  snprintf(buf, sizeof buf, "ProxyCommand '%s' %s%s%s", p->cmd, how, *e ? ": " : "", e);
  S->eof_held = 0; /* still linked: the session's teardown kills it */
  uv_timer_stop(&p->timer);
  uv_unref((uv_handle_t *)&p->timer);
  lsb_ssh_transport_failed(S, "ECONNRESET", buf);
}

static void proxy_on_timer(uv_timer_t *t) {
  lsb_proxy *p = t->data;
  if (p->S) { /* the EOF waited long enough for the exit */
    proxy_report(p);
    return;
  }
  /* detached: SIGHUP was not enough */
  if (!p->exited && p->proc_open) uv_kill(-p->proc.pid, SIGKILL);
}

static void proxy_on_exit(uv_process_t *h, int64_t status, int sig) {
  lsb_proxy *p = h->data;
  p->exited = 1;
  p->status = status;
  p->term_signal = sig;
  p->proc_open = 0;
  uv_close((uv_handle_t *)&p->proc, proxy_handle_closed);
  if (p->S && p->err_eof) proxy_report(p);
  else if (p->S) uv_timer_start(&p->timer, proxy_on_timer, 200, 0); /* stderr a little later */
  if (!p->S) proxy_close_all(p);
}

static void proxy_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  lsb_proxy *p = h->data;
  (void)hint;
  if (p->errlen > PROXY_ERR / 2) { /* keep the last half */
    memmove(p->errbuf, p->errbuf + p->errlen - PROXY_ERR / 2, PROXY_ERR / 2);
    p->errlen = PROXY_ERR / 2;
  }
  buf->base = p->errbuf + p->errlen;
  buf->len = PROXY_ERR - 1 - p->errlen;
}

static void proxy_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  lsb_proxy *p = st->data;
  (void)buf;
  if (n > 0) {
    p->errlen += (size_t)n;
    return;
  }
  if (n == 0) return;
  p->err_eof = 1; /* EOF or an error: nothing more comes */
  proxy_close_err(p);
  if (p->S && p->exited) proxy_report(p);
  if (!p->S && p->exited) proxy_close_all(p);
}

int lsb_ssh_proxy_start(lsb_ssh_session *S, const char *cmd, int fd) {
  lsb_proxy *p = calloc(1, sizeof *p);
  uv_process_options_t o;
  uv_stdio_container_t io[3];
  char *args[4];
  int rc;
  if (!p || !(p->cmd = strdup(cmd))) {
    free(p);
    close(fd);
    return UV_ENOMEM;
  }
  uv_pipe_init(S->ctx->loop, &p->err, 0);
  uv_timer_init(S->ctx->loop, &p->timer);
  p->err.data = p->timer.data = p->proc.data = p;
  p->handles = 2;
  p->err_open = 1;
  memset(&o, 0, sizeof o);
  args[0] = "sh";
  args[1] = "-c";
  args[2] = p->cmd;
  args[3] = NULL;
  io[0].flags = UV_INHERIT_FD;
  io[0].data.fd = fd;
  io[1].flags = UV_INHERIT_FD;
  io[1].data.fd = fd;
  io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  io[2].data.stream = (uv_stream_t *)&p->err;
  o.file = "/bin/sh";
  o.args = args;
  o.stdio = io;
  o.stdio_count = 3;
  o.exit_cb = proxy_on_exit;
  o.flags = UV_PROCESS_DETACHED; /* a process group of its own, killed whole */
  rc = uv_spawn(S->ctx->loop, &p->proc, &o);
  close(fd); /* the child has it */
  if (rc != 0) {
    p->exited = 1;
    proxy_close_all(p);
    return rc;
  }
  p->handles++;
  p->proc_open = 1;
  uv_unref((uv_handle_t *)&p->proc);
  uv_unref((uv_handle_t *)&p->err);
  uv_unref((uv_handle_t *)&p->timer);
  uv_read_start((uv_stream_t *)&p->err, proxy_alloc, proxy_on_read);
  p->S = S;
  S->proxy = p;
  return 0;
}

int lsb_ssh_proxy_hold_eof(lsb_ssh_session *S) {
  lsb_proxy *p = S->proxy;
  if (!p || p->reported) return 0;
  /* until the report, the timer keeps the loop (the session's poll is
   * stopped): 1 s for a command that closed its stdout and still runs,
   * 200 ms for the stderr of one that exited */
  if (!uv_is_active((uv_handle_t *)&p->timer))
    uv_timer_start(&p->timer, proxy_on_timer, p->exited ? 200 : 1000, 0);
  uv_ref((uv_handle_t *)&p->timer);
  return 1;
}

void lsb_ssh_transport_detach(lsb_ssh_session *S, int final) {
  lsb_proxy *p = S->proxy;
  if (S->tunnel) {
    lsb_tunnel *t = S->tunnel;
    t->inner = NULL;
    S->tunnel = NULL;
    /* not open yet and not opening: it goes now; else it closes its
     * channel when it reads the EOF of the fd, closed with the session */
    if (t->state == T_OPEN && t->op.S && t->op.S->opener != &t->op) tun_release(t);
    else if (t->op.S) lsb_ssh_kick(t->op.S);
  }
  if (!p) return;
  S->proxy = NULL;
  p->S = NULL;
  uv_timer_stop(&p->timer);
  if (!p->exited && p->proc_open) {
    uv_kill(-p->proc.pid, SIGHUP); /* as OpenSSH does */
    if (!final) {
      uv_timer_start(&p->timer, proxy_on_timer, 2000, 0); /* then SIGKILL */
      return;
    }
    uv_kill(-p->proc.pid, SIGKILL);
  }
  if (final || p->exited) proxy_close_all(p);
}
