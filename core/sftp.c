#include "sftp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"

#define XFER_BUF (1024 * 1024)

enum { F_INIT, F_OPEN, F_STAT, F_XFER, F_STATVFS, F_CLOSE, F_SHUTDOWN, F_FSYNC, F_DONE };

typedef struct lsb_xfer {
  lsb_ssh_op op;
  lsb_stream *s;
  uv_timer_t timer;   /* only for freeing after the loop lets go */
  uv_fs_t fsync_req;  /* get: the local file flushed on the thread pool */
  LIBSSH2_SFTP *sftp;
  LIBSSH2_SFTP_HANDLE *h;
  int get, fd, state;
  char *content;      /* put of a string */
  size_t content_len;
  char *remote;
  long mode;
  char *buf;
  size_t buf_len, buf_off; /* put: bytes in buf, bytes acked */
  double done, total;
  int last_pct;
  double last_ev;
  lsb_sha256 sha;
  lsb_err err;        /* ends the stream with this instead of done */
  const char *failed_op; /* "write", "close": the put step that failed */
  unsigned removed : 1, eof : 1, retried : 1, fsyncing : 1, closed : 1;
} lsb_xfer;

static void on_closed(uv_handle_t *h) {
  lsb_xfer *x = h->data;
  x->closed = 1;
  if (x->fsyncing) return; /* on_fsynced frees it */
  if (x->fd >= 0) close(x->fd);
  free(x->content);
  free(x->remote);
  free(x->buf);
  lsb_err_free(&x->err);
  free(x);
}

/* end the stream (once): with `err`, else the transfer's own error, if any */
static void finish(lsb_xfer *x, const lsb_err *err) {
  if (!x->s) return;
  if (!err || !lsb_err_isset(err)) err = &x->err;
  if (!lsb_err_isset(err)) {
    char msg[80];
    memcpy(msg, "sha256:", 7);
    lsb_sha256_hex(&x->sha, msg + 7);
    x->s->result.has_rc = 1;
    x->s->result.rc = 0;
    lsb_stream_progress(x->s, LSB_STAGE_TRANSFERRING, 100, x->done,
                        x->total >= 0 ? x->total : x->done, msg);
  }
  lsb_stream_finish(x->s, err);
  lsb_stream_detach(x->s);
  x->s = NULL;
}

static void release(lsb_xfer *x) {
  if (x->removed) return;
  x->removed = 1;
  x->state = F_DONE;
  if (x->s) {
    lsb_err e = {{0}, NULL};
    lsb_err_set(&e, "ECANCELED", "transfer ended");
    finish(x, &e);
    lsb_err_free(&e);
  }
  lsb_ssh_remove_op(&x->op);
  uv_close((uv_handle_t *)&x->timer, on_closed);
}

static void xfer_lost(lsb_ssh_op *op, const lsb_err *err) {
  lsb_xfer *x = (lsb_xfer *)op;
  /* The session frees the SFTP channel, but not what hangs on it: the open
   * handle with its pipelined requests (a put's chunks in flight) and the
   * replies queued. The socket is shut down (lsb_ssh_lost): closing them
   * fails at once, and frees them. */
  if (x->h) libssh2_sftp_close_handle(x->h);
  if (x->sftp) libssh2_sftp_shutdown(x->sftp);
  x->sftp = NULL;
  x->h = NULL;
  finish(x, err);
  release(x);
}

static void progress(lsb_xfer *x, int force) {
  int pct = x->total > 0 ? (int)(x->done * 100 / x->total) : 0;
  double now = lsb_now();
  if (!x->s) return;
  if (!force && pct == x->last_pct && now - x->last_ev < 0.25) return;
  x->last_pct = pct;
  x->last_ev = now;
  lsb_stream_progress(x->s, LSB_STAGE_TRANSFERRING,
                      x->total > 0 ? x->done * 100 / x->total : -1, x->done,
                      x->total, "transferring");
}

/* an error: remember it, then close what is open */
static int fail(lsb_xfer *x, const char *what) {
  lsb_ssh_session *S = x->op.S;
  int rc = libssh2_session_last_errno(S->ssh);
  const char *name = rc == LIBSSH2_ERROR_ALLOC ? "ENOMEM" : "EIO";
  const char *detail = lsb_ssh_errmsg(S);
  if (lsb_ssh_fatal(rc)) {
    lsb_ssh_lost(S, rc, NULL);
    return 1;
  }
  if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && x->sftp) {
    unsigned long st = libssh2_sftp_last_error(x->sftp);
    switch (st) {
      case LIBSSH2_FX_NO_SUCH_FILE:
      case LIBSSH2_FX_NO_SUCH_PATH: name = "ENOENT"; detail = "no such file or directory"; break;
      case LIBSSH2_FX_PERMISSION_DENIED:
      case LIBSSH2_FX_WRITE_PROTECT: name = "EACCES"; detail = "permission denied"; break;
      case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
      case LIBSSH2_FX_QUOTA_EXCEEDED: name = "ENOSPC"; detail = "no space left"; break;
      case LIBSSH2_FX_NOT_A_DIRECTORY: name = "ENOTDIR"; detail = "not a directory"; break;
      default: detail = "SFTP failure"; break;
    }
  }
  if (!lsb_err_isset(&x->err))
    lsb_err_set(&x->err, name, "sftp %s '%s' on %s: %s", what, x->remote,
                S->cfg.label, detail);
  if (!x->get && x->sftp && strcmp(name, "EIO") == 0 && x->s) {
    /* OpenSSH's server says only "failure" for a full disk: ask it how
     * much room is left (statvfs@openssh.com) before the error goes out */
    x->failed_op = what;
    x->state = F_STATVFS;
    return 1;
  }
  finish(x, NULL);
  x->state = x->h ? F_CLOSE : x->sftp ? F_SHUTDOWN : F_DONE;
  if (x->state == F_DONE) release(x);
  return 1;
}

/* After a failed write of a put: the answer of statvfs@openssh.com tells a
 * full file system (fewer bytes available than are left to write, or no
 * inode left) from any other failure, which stays EIO. 1: it is ENOSPC. */
static int no_space(lsb_xfer *x, const LIBSSH2_SFTP_STATVFS *st) {
  double avail = (double)st->f_bavail * (double)(st->f_frsize ? st->f_frsize : st->f_bsize);
  double left = x->total - x->done;
  if (st->f_blocks == 0) return 0; /* a file system without blocks (/proc) */
  if (st->f_files > 0 && st->f_favail == 0) return 1;
  return avail < (left > 0 ? left : 1);
}

static int statvfs_step(lsb_xfer *x) {
  lsb_ssh_session *S = x->op.S;
  LIBSSH2_SFTP_STATVFS st;
  int rc = libssh2_sftp_statvfs(x->sftp, x->remote, strlen(x->remote), &st);
  if (rc == LIBSSH2_ERROR_EAGAIN) return 0;
  if (rc != 0 && lsb_ssh_fatal(libssh2_session_last_errno(S->ssh))) {
    lsb_ssh_lost(S, libssh2_session_last_errno(S->ssh), NULL);
    return 1;
  }
  /* rc != 0: the server does not offer it; what we know stays EIO */
  if (rc == 0 && no_space(x, &st)) {
    double avail = (double)st.f_bavail * (double)(st.f_frsize ? st.f_frsize : st.f_bsize);
    lsb_err_set(&x->err, "ENOSPC",
                "no space left on %s:%s (sftp %s failed; %.0f bytes free, %.0f more to write)",
                S->cfg.label, x->remote, x->failed_op, avail, x->total - x->done);
  }
  finish(x, NULL);
  x->state = x->h ? F_CLOSE : F_SHUTDOWN;
  return 1;
}

static int local_fail(lsb_xfer *x, const char *what, int err) {
  if (!lsb_err_isset(&x->err)) lsb_err_set_errno(&x->err, err, "%s", what);
  finish(x, NULL);
  x->state = x->h ? F_CLOSE : F_SHUTDOWN;
  return 1;
}

static void on_fsynced(uv_fs_t *req) {
  lsb_xfer *x = req->data;
  ssize_t rc = req->result;
  uv_fs_req_cleanup(req);
  x->fsyncing = 0;
  if (x->closed) { /* released meanwhile (connection lost, closed) */
    on_closed((uv_handle_t *)&x->timer);
    return;
  }
  lsb_ssh_op_paused(&x->op, 0);
  if (rc < 0) local_fail(x, "writing the local file", (int)-rc);
  finish(x, NULL);
  release(x);
}

static int xfer_pump(lsb_ssh_op *op) {
  lsb_xfer *x = (lsb_xfer *)op;
  lsb_ssh_session *S = op->S;
  int progressed = 0;
  ssize_t n;
  for (;;) {
    switch (x->state) {
      case F_INIT:
        if (!lsb_ssh_may_open(S, op)) return progressed;
        x->sftp = libssh2_sftp_init(S->ssh);
        if (!x->sftp) {
          int rc = libssh2_session_last_errno(S->ssh);
          if (rc == LIBSSH2_ERROR_EAGAIN) return progressed;
          lsb_ssh_opened(S, op, 0);
          if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE && S->nchannels > 0) {
            op->slot_wait = 1; /* MaxSessions: after a channel closes */
            return 0;
          }
          return fail(x, "start");
        }
        lsb_ssh_opened(S, op, 1);
        x->state = F_OPEN;
        progressed = 1;
        break;
      case F_OPEN:
        x->h = libssh2_sftp_open_ex(
            x->sftp, x->remote, (unsigned)strlen(x->remote),
            x->get ? LIBSSH2_FXF_READ
                   : LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
            x->mode, LIBSSH2_SFTP_OPENFILE);
        if (!x->h) {
          if (libssh2_session_last_errno(S->ssh) == LIBSSH2_ERROR_EAGAIN) return progressed;
          return fail(x, "open");
        }
        x->state = x->get ? F_STAT : F_XFER;
        if (!x->get) progress(x, 1);
        progressed = 1;
        break;
      case F_STAT: {
        LIBSSH2_SFTP_ATTRIBUTES a;
        int rc = libssh2_sftp_fstat_ex(x->h, &a, 0);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progressed;
        if (rc != 0) return fail(x, "stat");
        x->total = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? (double)a.filesize : -1;
        x->state = F_XFER;
        progress(x, 1);
        progressed = 1;
        break;
      }
      case F_XFER:
        if (!x->s) { /* cancelled */
          x->state = F_CLOSE;
          break;
        }
        if (lsb_ssh_over_budget(S)) return progressed;
        if (x->get) {
          n = libssh2_sftp_read(x->h, x->buf, XFER_BUF);
          if (n == LIBSSH2_ERROR_EAGAIN) return progressed;
          if (n < 0) return fail(x, "read");
          S->last_rx = lsb_now();
          if (n == 0) {
            x->state = F_CLOSE;
            progressed = 1;
            break;
          }
          for (ssize_t off = 0; off < n;) {
            ssize_t w = write(x->fd, x->buf + off, (size_t)(n - off));
            if (w < 0) return local_fail(x, "writing the local file", errno);
            off += w;
          }
          lsb_sha256_update(&x->sha, x->buf, (size_t)n);
          lsb_ssh_moved(S, (size_t)n);
          x->done += (double)n;
          progress(x, 0);
          progressed = 1;
        } else {
          if (x->buf_off >= x->buf_len) {
            /* refill */
            if (x->fd >= 0) {
              n = read(x->fd, x->buf, XFER_BUF);
              if (n < 0) return local_fail(x, "reading the local file", errno);
              x->buf_len = (size_t)n;
            } else {
              size_t left = x->content_len - (size_t)x->done;
              x->buf_len = left < XFER_BUF ? left : XFER_BUF;
              memcpy(x->buf, x->content + (size_t)x->done, x->buf_len);
            }
            x->buf_off = 0;
            if (x->buf_len == 0) {
              x->state = F_CLOSE;
              progressed = 1;
              break;
            }
            lsb_sha256_update(&x->sha, x->buf, x->buf_len);
          }
          n = libssh2_sftp_write(x->h, x->buf + x->buf_off, x->buf_len - x->buf_off);
          if (n == LIBSSH2_ERROR_EAGAIN) return progressed;
          if (n < 0) return fail(x, "write");
          S->last_rx = lsb_now(); /* the server acknowledged */
          x->buf_off += (size_t)n;
          lsb_ssh_moved(S, (size_t)n);
          x->done += (double)n;
          progress(x, 0);
          progressed = 1;
        }
        break;
      case F_STATVFS:
        if (!statvfs_step(x)) return progressed;
        if (x->state == F_DONE || !x->op.S) return 1; /* lost meanwhile */
        progressed = 1;
        break;
      case F_CLOSE: {
        int rc = libssh2_sftp_close_handle(x->h);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progressed;
        x->h = NULL;
        if (rc != 0 && !lsb_err_isset(&x->err)) {
          x->state = F_SHUTDOWN; /* the data may not be complete */
          return fail(x, "close");
        }
        x->state = F_SHUTDOWN;
        progressed = 1;
        break;
      }
      case F_SHUTDOWN: {
        int rc = libssh2_sftp_shutdown(x->sftp);
        if (rc == LIBSSH2_ERROR_EAGAIN) return progressed;
        x->sftp = NULL;
        lsb_ssh_channel_closed(S, op);
        x->fsync_req.data = x;
        if (x->fd >= 0 && x->get && !lsb_err_isset(&x->err) &&
            uv_fs_fsync(S->ctx->loop, &x->fsync_req, x->fd, on_fsynced) == 0) {
          /* on the thread pool: a big file's flush must not hold the loop;
           * paused meanwhile: it reads nothing from the socket */
          x->fsyncing = 1;
          x->state = F_FSYNC;
          lsb_ssh_op_paused(op, 1);
          return 1;
        }
        finish(x, NULL);
        release(x);
        return 1;
      }
      default: /* F_FSYNC: on_fsynced goes on */
        return progressed;
    }
  }
}

static void x_pause(void *ud) { (void)ud; }
static void x_resume(void *ud) { (void)ud; }
static void x_cancel(void *ud) {
  lsb_xfer *x = ud;
  lsb_stream *s = x->s;
  x->s = NULL;
  if (s) lsb_stream_detach(s);
  if (x->removed) return;
  if (x->state == F_INIT && !x->sftp) {
    release(x);
    return;
  }
  if (x->op.S) lsb_ssh_kick(x->op.S);
}

/* the stream ends now with `err`; the transfer stops as on a cancel */
static void x_abort(void *ud, const lsb_err *err) {
  lsb_xfer *x = ud;
  finish(x, err);
  if (x->removed) return;
  if (x->state == F_INIT && !x->sftp) {
    release(x);
    return;
  }
  if (x->op.S) lsb_ssh_kick(x->op.S);
}

static const lsb_producer_ops xfer_ops = {x_pause, x_resume, x_cancel, x_abort};

int lsb_sftp_start(lsb_ssh_session *S, lsb_stream *s, const lsb_sftp_opts *o) {
  lsb_xfer *x = calloc(1, sizeof *x);
  if (!x) return UV_ENOMEM;
  x->fd = o->local_fd;
  x->get = o->get;
  x->mode = o->mode;
  x->remote = strdup(o->remote_path);
  x->buf = malloc(XFER_BUF);
  if (!o->get && o->local_fd < 0) {
    x->content = malloc(o->content_len ? o->content_len : 1);
    if (x->content) memcpy(x->content, o->content, o->content_len);
    x->content_len = o->content_len;
  }
  x->total = o->get ? -1 : o->local_fd >= 0 ? o->local_size : (double)o->content_len;
  x->last_pct = -1;
  lsb_sha256_init(&x->sha);
  uv_timer_init(S->ctx->loop, &x->timer);
  x->timer.data = x;
  if (!x->remote || !x->buf || (!o->get && o->local_fd < 0 && !x->content)) {
    x->fd = -1; /* the caller still owns it */
    uv_close((uv_handle_t *)&x->timer, on_closed);
    return UV_ENOMEM;
  }
  x->op.pump = xfer_pump;
  x->op.lost = xfer_lost;
  x->s = s;
  lsb_stream_attach(s, &xfer_ops, x);
  lsb_ssh_add_op(S, &x->op);
  lsb_ssh_pump(S);
  return 0;
}
