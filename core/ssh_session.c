#include "ssh_session.h"
#include "ssh_transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NOREF (-2)

static void pump_connect(lsb_ssh_session *S);
static void try_connect(lsb_ssh_session *S);
static void teardown(lsb_ssh_session *S);

const char *lsb_ssh_state_name(int state) {
  switch (state) {
    case LSB_SSH_RESOLVING:
    case LSB_SSH_CONNECTING:
    case LSB_SSH_HANDSHAKE:
    case LSB_SSH_AUTH: return "connecting";
    case LSB_SSH_HOSTKEY: return "hostkey";
    case LSB_SSH_READY: return "ready";
    case LSB_SSH_FAILED: return "failed";
    case LSB_SSH_LOST: return "lost";
    default: return "closed";
  }
}

int lsb_ssh_ready(const lsb_ssh_session *S) {
  return S->state == LSB_SSH_HOSTKEY || S->state >= LSB_SSH_READY;
}

void lsb_ssh_config_free(lsb_ssh_config *c) {
  free(c->host);
  free(c->label);
  free(c->user);
  free(c->known_hosts);
  free(c->agent_path);
  free(c->proxy_command);
  if (c->password) {
    memset(c->password, 0, strlen(c->password));
    free(c->password);
  }
  for (int i = 0; i < c->nids; i++) {
    free(c->ids[i].path);
    if (c->ids[i].passphrase) {
      memset(c->ids[i].passphrase, 0, strlen(c->ids[i].passphrase));
      free(c->ids[i].passphrase);
    }
  }
  free(c->ids);
  memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ */
/* errors */

int lsb_ssh_fatal(int rc) {
  switch (rc) {
    case LIBSSH2_ERROR_SOCKET_NONE:
    case LIBSSH2_ERROR_BANNER_RECV:
    case LIBSSH2_ERROR_BANNER_SEND:
    case LIBSSH2_ERROR_INVALID_MAC:
    case LIBSSH2_ERROR_KEX_FAILURE:
    case LIBSSH2_ERROR_SOCKET_SEND:
    case LIBSSH2_ERROR_DECRYPT:
    case LIBSSH2_ERROR_SOCKET_DISCONNECT:
    case LIBSSH2_ERROR_PROTO:
    case LIBSSH2_ERROR_SOCKET_TIMEOUT:
    case LIBSSH2_ERROR_SOCKET_RECV:
    case LIBSSH2_ERROR_TIMEOUT:
    case LIBSSH2_ERROR_ENCRYPT:
    case LIBSSH2_ERROR_BAD_SOCKET:
      return 1;
    default:
      return 0;
  }
}

const char *lsb_ssh_errmsg(lsb_ssh_session *S) {
  char *msg = NULL;
  if (!S->ssh) return "no session";
  libssh2_session_last_error(S->ssh, &msg, NULL, 0);
  return msg && *msg ? msg : "unknown error";
}

/* ------------------------------------------------------------------ */
/* the poll and the timers */

static void handle_done(lsb_ssh_session *S) {
  lsb_ctx *ctx = S->ctx;
  if (--S->handles > 0) return;
  if (S->ctx_prev) S->ctx_prev->ctx_next = S->ctx_next;
  else ctx->sessions = S->ctx_next;
  if (S->ctx_next) S->ctx_next->ctx_prev = S->ctx_prev;
  lsb_waitable_unlink(&S->w);
  lsb_ssh_config_free(&S->cfg);
  free(S->pin);
  free(S->auth_methods);
  free(S->key_b64);
  lsb_err_free(&S->error);
  lsb_err_free(&S->kh_err);
  free(S);
  lsb_ctx_check_done(ctx);
}

static void on_handle_closed(uv_handle_t *h) { handle_done(h->data); }

/* a poll handle owns its socket: both go together */
typedef struct {
  uv_poll_t h;
  int fd;
} lsb_poll;

static void on_poll_closed(uv_handle_t *h) {
  lsb_poll *p = (lsb_poll *)h;
  lsb_ssh_session *S = h->data;
  close(p->fd);
  free(p);
  handle_done(S);
}

static void close_poll(lsb_ssh_session *S) {
  if (!S->poll) return;
  uv_close((uv_handle_t *)S->poll, on_poll_closed);
  S->poll = NULL;
  S->fd = -1;
  S->poll_events = 0;
}

/* Every op is a paused channel or waits for a channel slot: nothing may be
 * read now (a readable socket would wake us again and again for nothing). */
static int all_paused(const lsb_ssh_session *S) {
  if (!S->ops_head) return 0;
  for (const lsb_ssh_op *o = S->ops_head; o; o = o->next)
    if (!o->paused && !o->slot_wait) return 0;
  return 1;
}

/* Input is read only through an op (libssh2 has no call that reads the
 * transport without a channel): with no op, or every op paused, the socket
 * is watched for the peer's close only (UV_DISCONNECT), else the level-
 * triggered poll would fire again and again with nobody reading (a server's
 * hostkeys-00 message after auth, a keepalive, data of a paused channel). */
static int reading(const lsb_ssh_session *S) {
  return S->ops_head && !all_paused(S);
}

static int busy(const lsb_ssh_session *S) {
  return S->ops_head != NULL || S->state < LSB_SSH_READY ||
         S->state == LSB_SSH_HOSTKEY;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void update_poll(lsb_ssh_session *S) {
  int ev = 0, dir;
  if (S->fd < 0 || S->torn_down || S->state == LSB_SSH_RESOLVING) return;
  if (S->state == LSB_SSH_CONNECTING) {
    ev = UV_WRITABLE;
  } else if (S->state == LSB_SSH_HOSTKEY || S->state >= LSB_SSH_FAILED || S->eof_held) {
    ev = 0;
  } else {
    ev = S->state < LSB_SSH_READY || reading(S) ? UV_READABLE : UV_DISCONNECT;
    dir = S->ssh ? libssh2_session_block_directions(S->ssh) : 0;
    /* not while every op is paused: none of them would call libssh2 to
     * send the rest (a window adjust that met a full socket), and a
     * writable socket would wake us again and again; the resumed op does */
    if ((dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) && !all_paused(S)) ev |= UV_WRITABLE;
  }
  if (!S->poll) return;
  if (ev != S->poll_events) {
    if (ev) uv_poll_start(S->poll, ev, on_poll);
    else uv_poll_stop(S->poll);
    S->poll_events = ev;
  }
  if (busy(S)) uv_ref((uv_handle_t *)S->poll);
  else uv_unref((uv_handle_t *)S->poll);
}

/* A ProxyCommand's EOF (or reset) waits for its exit status and stderr,
 * which say why (lsb_ssh_proxy_report): 1 when held. */
static int proxy_held(lsb_ssh_session *S) {
  if (!S->eof_held && !lsb_ssh_proxy_hold_eof(S)) return 0;
  S->eof_held = 1;
  if (S->poll && S->poll_events) uv_poll_stop(S->poll);
  S->poll_events = 0;
  return 1;
}

/* libssh2 reads the socket through this: a pump takes at most
 * LSB_SSH_RECV_BUDGET bytes (see ssh_session.h), then it would block. */
static LIBSSH2_RECV_FUNC(ssh_recv) {
  lsb_ssh_session *S = *abstract;
  ssize_t n;
  if (S->pumping) {
    if (S->rx_left == 0) return -EAGAIN;
    if (length > S->rx_left) length = S->rx_left;
  }
  n = recv(socket, buffer, length, flags);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && proxy_held(S))
    return -EAGAIN;
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) S->rx_errno = errno;
    return -errno;
  }
  if (n == 0 && length > 0) {
    if (proxy_held(S)) return -EAGAIN;
    S->rx_eof = 1;
  }
  if (S->pumping) S->rx_left -= (size_t)n;
  return n;
}

/* A ProxyCommand's session writes through this: a write to a command that
 * exited (EPIPE) waits, like its EOF, for the exit status and stderr. */
static LIBSSH2_SEND_FUNC(ssh_send) {
  lsb_ssh_session *S = *abstract;
  ssize_t n = send(socket, buffer, length, flags | MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && proxy_held(S))
    return -EAGAIN;
  return n < 0 ? -errno : n;
}

/* What the socket said when libssh2 reports a failed read, else NULL. */
static const char *rx_failure(const lsb_ssh_session *S) {
  if (S->rx_errno) return uv_strerror(uv_translate_sys_error(S->rx_errno));
  if (S->rx_eof) return "the server closed the connection";
  return NULL;
}

static void on_kick(uv_idle_t *h) {
  uv_idle_stop(h);
  lsb_ssh_pump(h->data);
}

void lsb_ssh_op_paused(lsb_ssh_op *op, int paused) {
  lsb_ssh_session *S = op->S;
  op->paused = paused ? 1 : 0;
  if (!S) return;
  if (!paused) S->last_rx = lsb_now(); /* silence while paused was ours */
  if (!S->pumping) update_poll(S);
}

void lsb_ssh_kick(lsb_ssh_session *S) {
  if (!S->torn_down && !uv_is_active((uv_handle_t *)&S->kick))
    uv_idle_start(&S->kick, on_kick);
}

static void fail_connect(lsb_ssh_session *S, const char *name, const char *fmt, ...)
    LSB_PRINTF(3, 4);
static void fail_connect(lsb_ssh_session *S, const char *name, const char *fmt, ...) {
  va_list ap;
  if (S->state >= LSB_SSH_READY) return;
  va_start(ap, fmt);
  lsb_err_setv(&S->error, name, fmt, ap);
  va_end(ap);
  S->state = LSB_SSH_FAILED;
  uv_timer_stop(&S->timer);
  if (S->poll) uv_poll_stop(S->poll);
  S->poll_events = 0;
  lsb_waitable_wake(&S->w);
  if (S->is_helper) {
    /* its kills are lost (the commands end with their own timeouts); it
     * closes at the end of this pump, or of the next one */
    S->helper_end = 1;
    if (!S->pumping) lsb_ssh_kick(S);
  }
}

/* A resource error (no file descriptor, no memory, no buffer, no local
 * port): never taken for an address or a host that does not answer. */
static int resource_errno(int err) {
  return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS ||
         err == EAGAIN || err == EADDRNOTAVAIL;
}

/* fail with the errno's own name and the call that hit it:
 * "EMFILE: socket() for user@web1:22: Too many open files" */
static void fail_errno(lsb_ssh_session *S, int err, const char *call) {
  char name[24];
  fail_connect(S, lsb_errno_name(err, name, sizeof name), "%s for %s: %s%s", call,
               S->cfg.label, strerror(err),
               err == EMFILE ? " (the open file limit of this process: raise it with `ulimit -n`)" : "");
}

/* The name of a failed TCP connect: its own for the usual reasons, else
 * ECONNRESET (the task layer reads every ECONN* as unreachable). */
static const char *connect_err_name(int err) {
  switch (err) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    default: return "ECONNRESET";
  }
}

static void on_keepalive(uv_timer_t *t);

static void on_timer(uv_timer_t *t) {
  lsb_ssh_session *S = t->data;
  char secs[32];
  if (S->state >= LSB_SSH_READY) return;
  snprintf(secs, sizeof secs, "%g", S->cfg.connect_timeout);
  fail_connect(S, "ETIMEDOUT", "connection to %s timed out after %ss",
               S->cfg.label, secs);
}

/* Keepalives, OpenSSH's way (ServerAliveInterval, ServerAliveCountMax):
 * after `keepalive` seconds without a byte from the server a keepalive is
 * sent, then one each interval; after `keepalive_count_max` intervals
 * without an answer, at (count_max + 1) intervals of silence, the
 * connection is lost.  The timer is one-shot, due when the silence reaches
 * its next whole interval.  libssh2 sends a keepalive only when its own
 * interval (whole seconds, 1 counting as 2) passed since the last one, so
 * below 2 s some intervals send nothing; the loss needs a keepalive that
 * went out at least an interval ago and was not answered: never a server
 * that was not asked, or not given the time to answer. */
static void keepalive_in(lsb_ssh_session *S, double secs) {
  uint64_t ms = lsb_ms(secs);
  if (ms < 10) ms = 10;
  S->ka_due = lsb_now() + (double)ms / 1000;
  uv_timer_start(&S->timer, on_keepalive, ms, 0);
}

static unsigned ka_libssh2_interval(const lsb_ssh_session *S) {
  return (unsigned)(S->cfg.keepalive < 1 ? 1 : S->cfg.keepalive);
}

static void on_keepalive(uv_timer_t *t) {
  lsb_ssh_session *S = t->data;
  double iv = S->cfg.keepalive, now = lsb_now(), silent;
  int n, next = 0;
  if (S->state != LSB_SSH_READY && S->state != LSB_SSH_DRAINING) return;
  /* Silence is the server's only when we listened: not without ops, not
   * while every op is paused (the socket is not watched), and not when the
   * timer itself ran late (this thread was blocked, by a consumer that does
   * not return to the loop). */
  if (!S->ops_head || all_paused(S) || now - S->ka_due > iv) S->last_rx = now;
  if (S->last_rx > S->ka_sent_at) S->ka_unanswered = 0; /* heard since the last one */
  silent = now - S->last_rx;
  n = (int)((silent + 0.002) / iv); /* whole intervals of silence */
  keepalive_in(S, (n + 1) * iv - silent);
  if (!S->ops_head || n < 1) return;
  if (n > S->cfg.keepalive_count_max && S->ka_unanswered > 0 &&
      now - S->ka_sent_at + 0.002 >= iv) {
    char buf[160];
    snprintf(buf, sizeof buf, "no answer to keepalives for %.1fs (%d sent, keepalive %gs)", silent,
             S->ka_unanswered, iv);
    lsb_ssh_lost(S, LIBSSH2_ERROR_SOCKET_TIMEOUT, buf);
    return;
  }
  {
    /* libssh2's own rule (keepalive.c), to know whether it sent one */
    unsigned ki = ka_libssh2_interval(S);
    time_t wall = time(NULL);
    int sends = S->ka_wall_sent + (time_t)(ki == 1 ? 2 : ki) <= wall;
    int rc = libssh2_keepalive_send(S->ssh, &next);
    if (rc != 0 && lsb_ssh_fatal(rc)) {
      lsb_ssh_lost(S, rc, NULL);
      return;
    }
    if (rc == 0 && sends) {
      S->ka_wall_sent = wall;
      S->ka_sent_at = now;
      S->ka_unanswered++;
    }
  }
  lsb_ssh_pump(S);
}

static void start_keepalive(lsb_ssh_session *S) {
  uv_timer_stop(&S->timer);
  if (S->cfg.keepalive > 0 && S->cfg.keepalive < 86400 * 365) { /* else: off */
    libssh2_keepalive_config(S->ssh, 1, ka_libssh2_interval(S));
    keepalive_in(S, S->cfg.keepalive);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  lsb_ssh_session *S = h->data;
  if (status < 0) S->poll_events = 0; /* libuv stopped the handle */
  if (status < 0 && proxy_held(S)) return;
  if (status < 0 && S->state != LSB_SSH_CONNECTING) {
    /* libuv says EBADF for any socket error (EPOLLERR): the socket's own
     * error says what happened (a reset: "connection reset by peer") */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(S->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
      status = uv_translate_sys_error(err);
    if (S->state < LSB_SSH_READY) {
      fail_connect(S, "ECONNRESET", "connection to %s failed: %s", S->cfg.label,
                   uv_strerror(status));
    } else {
      lsb_ssh_lost(S, LIBSSH2_ERROR_SOCKET_RECV, uv_strerror(status));
    }
    return;
  }
  if (events & UV_READABLE) S->last_rx = lsb_now();
  if ((events & UV_DISCONNECT) && !(S->poll_events & UV_READABLE) &&
      (S->state == LSB_SSH_READY || S->state == LSB_SSH_DRAINING)) {
    /* idle (or all paused) and the server closed the connection: the next
     * execute reconnects instead of failing */
    lsb_ssh_lost(S, LIBSSH2_ERROR_SOCKET_DISCONNECT, "the server closed the connection");
    return;
  }
  if (S->state == LSB_SSH_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(S->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      if (resource_errno(err)) {
        fail_errno(S, err, "connect()");
        return;
      }
      if (S->cur_addr && S->cur_addr->ai_next) {
        S->cur_addr = S->cur_addr->ai_next;
        try_connect(S);
        return;
      }
      fail_connect(S, connect_err_name(err), "cannot connect to %s: %s", S->cfg.label,
                   strerror(err));
      return;
    }
    S->state = LSB_SSH_HANDSHAKE;
  }
  lsb_ssh_pump(S);
}

/* ------------------------------------------------------------------ */
/* host key algorithms: the types known for the host first (like OpenSSH) */

static const struct {
  int kbit;
  const char *alg;
} known_algs[] = {
    {LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519"},
    {LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256"},
    {LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384"},
    {LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521"},
    {LIBSSH2_KNOWNHOST_KEY_SSHRSA, "rsa-sha2-512"}, /* libssh2 >= 1.11 */
    {LIBSSH2_KNOWNHOST_KEY_SSHRSA, "rsa-sha2-256"},
    {LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa"},
    {LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss"},
};

/* Load an OpenSSH known_hosts file line by line: a line libssh2 cannot
 * parse (a marker, a key type it does not know) is skipped instead of
 * ending the read, as libssh2_knownhost_readfile does. */
static int load_known_hosts(LIBSSH2_KNOWNHOSTS *kh, const char *path) {
  FILE *f = fopen(path, "re");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int err = 0;
  /* a file that is not there is empty (OpenSSH's way); one that is there
   * and cannot be read (EACCES, EISDIR, EMFILE, ENOMEM...) is never taken
   * for an empty one: its errno is returned */
  if (!f) return errno == ENOENT ? 0 : errno;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (libssh2_knownhost_readline(kh, line, (size_t)n, LIBSSH2_KNOWNHOST_FILE_OPENSSH) ==
        LIBSSH2_ERROR_ALLOC) {
      err = ENOMEM;
      break;
    }
  }
  if (!err && !feof(f)) err = errno ? errno : EIO; /* getline failed */
  free(line);
  fclose(f);
  return err;
}

/* known_hosts could not be read: the host key's state is "unreadable" and
 * this is why (the first reason found) */
static void known_hosts_failed(lsb_ssh_session *S, int err, const char *what) {
  if (lsb_err_isset(&S->kh_err)) return;
  if (what) lsb_err_set(&S->kh_err, "ENOMEM", "%s (known_hosts %s)", what, S->cfg.known_hosts);
  else lsb_err_set_errno(&S->kh_err, err, "cannot read known_hosts %s", S->cfg.known_hosts);
}

/* Without this the server's first choice among libssh2's algorithms is
 * verified, and a host known (say) only by its RSA key reads as "unknown"
 * when it also has an ed25519 key.  The known types of `host` (plain and
 * hashed entries) are asked for a dummy key: any entry of that type for the
 * host answers MISMATCH. */
static void prefer_known_host_keys(lsb_ssh_session *S) {
  LIBSSH2_KNOWNHOSTS *kh;
  const char **algs = NULL;
  int nalgs, known = 0;
  size_t cap = 1;
  char *pref;
  int err;
  if (!S->cfg.known_hosts) return;
  kh = libssh2_knownhost_init(S->ssh);
  if (!kh) {
    known_hosts_failed(S, ENOMEM, "out of memory");
    return;
  }
  if ((err = load_known_hosts(kh, S->cfg.known_hosts)) != 0) {
    known_hosts_failed(S, err, NULL);
    libssh2_knownhost_free(kh);
    return;
  }
  for (size_t i = 0; i < sizeof known_algs / sizeof known_algs[0]; i++) {
    int rc = libssh2_knownhost_checkp(kh, S->cfg.host, S->cfg.port, "AAAA", 4,
                                      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                          LIBSSH2_KNOWNHOST_KEYENC_BASE64 |
                                          known_algs[i].kbit,
                                      NULL);
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH || rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
      known |= 1 << i;
  }
  libssh2_knownhost_free(kh);
  if (!known) return;
  nalgs = libssh2_session_supported_algs(S->ssh, LIBSSH2_METHOD_HOSTKEY, &algs);
  if (nalgs <= 0) { /* out of memory: the key might read as unknown */
    known_hosts_failed(S, ENOMEM, "out of memory ordering the host key types");
    return;
  }
  for (int i = 0; i < nalgs; i++) cap += strlen(algs[i]) + 1;
  pref = malloc(cap);
  if (pref) {
    size_t n = 0;
    /* pass 0: the known types, pass 1: the rest, each in libssh2's order */
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < nalgs; i++) {
        int is_known = 0;
        for (size_t j = 0; j < sizeof known_algs / sizeof known_algs[0]; j++)
          if ((known & (1 << j)) && strcmp(algs[i], known_algs[j].alg) == 0) is_known = 1;
        if (is_known != (pass == 0)) continue;
        n += (size_t)snprintf(pref + n, cap - n, "%s%s", n ? "," : "", algs[i]);
      }
    }
    libssh2_session_method_pref(S->ssh, LIBSSH2_METHOD_HOSTKEY, pref);
    free(pref);
  } else {
    known_hosts_failed(S, ENOMEM, "out of memory ordering the host key types");
  }
  libssh2_free(S->ssh, (void *)algs);
}

/* ------------------------------------------------------------------ */
/* connect */

/* the session's poll on fd (it owns fd from here); 0, or -1 when it failed
 * the connect */
static int attach_fd(lsb_ssh_session *S, int fd) {
  lsb_poll *p = malloc(sizeof *p);
  int rc;
  if (!p) {
    close(fd);
    fail_connect(S, "ENOMEM", "cannot connect to %s: out of memory", S->cfg.label);
    return -1;
  }
  p->fd = fd;
  if ((rc = uv_poll_init_socket(S->ctx->loop, &p->h, fd)) != 0) {
    close(fd);
    free(p);
    fail_connect(S, uv_err_name(rc), "uv_poll_init_socket() for %s: %s", S->cfg.label,
                 uv_strerror(rc));
    return -1;
  }
  p->h.data = S;
  S->poll = &p->h;
  S->fd = fd;
  S->handles++;
  return 0;
}

/* The session over a socketpair whose other end `via`'s direct-tcpip
 * channel (a jump host) or the ProxyCommand carries: the handshake starts
 * at once, the bytes wait in the socketpair until the far end is there. */
static void start_transport(lsb_ssh_session *S, lsb_ssh_session *via) {
  int sv[2], rc, fl;
  /* the child's end stays blocking (a ProxyCommand reads and writes it as
   * its stdin and stdout); ours is made non-blocking */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (via ? SOCK_NONBLOCK : 0), 0, sv) != 0) {
    fail_errno(S, errno, "socketpair()");
    return;
  }
  fl = fcntl(sv[0], F_GETFL);
  if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) != 0) {
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    fail_errno(S, err, "fcntl()");
    return;
  }
  if (attach_fd(S, sv[0]) != 0) {
    close(sv[1]);
    return;
  }
  S->state = LSB_SSH_HANDSHAKE;
  if (via) {
    if (via->state != LSB_SSH_READY) {
      close(sv[1]);
      fail_connect(S, "ECONNRESET", "cannot connect to %s: jump host %s is not connected",
                   S->cfg.label, via->cfg.label);
      return;
    }
    rc = lsb_ssh_tunnel_start(via, S, sv[1], S->cfg.host, S->cfg.port);
    if (rc != 0) {
      fail_connect(S, uv_err_name(rc), "cannot connect to %s through jump host %s: %s",
                   S->cfg.label, via->cfg.label, uv_strerror(rc));
      return;
    }
  } else {
    rc = lsb_ssh_proxy_start(S, S->cfg.proxy_command, sv[1]);
    if (rc != 0) {
      fail_connect(S, uv_err_name(rc), "cannot run ProxyCommand '%s' for %s: %s",
                   S->cfg.proxy_command, S->cfg.label, uv_strerror(rc));
      return;
    }
  }
  update_poll(S);
  lsb_ssh_kick(S); /* the handshake sends first */
}

void lsb_ssh_transport_failed(lsb_ssh_session *S, const char *name, const char *text) {
  if (S->state < LSB_SSH_READY || S->state == LSB_SSH_HOSTKEY)
    fail_connect(S, name, "cannot connect to %s: %s", S->cfg.label, text);
  else
    lsb_ssh_lost(S, LIBSSH2_ERROR_SOCKET_DISCONNECT, text);
}

static void try_connect(lsb_ssh_session *S) {
  struct addrinfo *ai = S->cur_addr;
  int one = 1;
  close_poll(S); /* a previous address failed */
  for (; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      int err = errno;
      /* an address family this machine lacks (no IPv6): the next address */
      if (err == EAFNOSUPPORT || err == EPROTONOSUPPORT) continue;
      fail_errno(S, err, "socket()"); /* EMFILE, ENFILE, ENOMEM, ENOBUFS... */
      return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      int err = errno;
      close(fd);
      if (resource_errno(err)) {
        fail_errno(S, err, "connect()");
        return;
      }
      if (!ai->ai_next) {
        fail_connect(S, connect_err_name(err), "cannot connect to %s: %s", S->cfg.label,
                     strerror(err));
        return;
      }
      continue;
    }
    S->cur_addr = ai;
    if (attach_fd(S, fd) != 0) return;
    S->state = LSB_SSH_CONNECTING;
    S->poll_events = 0;
    update_poll(S);
    return;
  }
  fail_connect(S, "EHOSTUNREACH", "cannot connect to %s: no usable address",
               S->cfg.label);
}

/* A name that does not resolve is ENOENT; the resolver's own failures
 * (EMFILE, ENOMEM: EAI_SYSTEM, EAI_MEMORY) keep their names. */
static void fail_resolve(lsb_ssh_session *S, int status) {
  const char *name = uv_err_name(status);
  if (status == UV_EAI_MEMORY) status = UV_ENOMEM;
  if (status == UV_ENOMEM || strncmp(name, "EAI_", 4) != 0) {
    fail_connect(S, uv_err_name(status), "getaddrinfo() for %s: %s", S->cfg.label,
                 uv_strerror(status));
    return;
  }
  fail_connect(S, "ENOENT", "cannot resolve host of %s: %s", S->cfg.label,
               uv_strerror(status));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  lsb_ssh_session *S = req->data;
  S->gai_active = 0;
  if (S->torn_down) {
    if (res) uv_freeaddrinfo(res);
    handle_done(S);
    return;
  }
  S->handles--;
  S->gai_res = 1;
  if (status < 0) {
    fail_resolve(S, status);
    return;
  }
  S->addrs = res;
  S->cur_addr = res;
  if (S->state == LSB_SSH_FAILED) return; /* the connect timeout came first */
  try_connect(S);
}

lsb_ssh_session *lsb_ssh_connect(lsb_ctx *ctx, lsb_ssh_config *cfg) {
  return lsb_ssh_connect_via(ctx, cfg, NULL);
}

lsb_ssh_session *lsb_ssh_connect_via(lsb_ctx *ctx, lsb_ssh_config *cfg, lsb_ssh_session *via) {
  lsb_ssh_session *S = calloc(1, sizeof *S);
  struct addrinfo hints;
  char port[16];
  int rc;
  if (!S) return NULL;
  S->ctx = ctx;
  S->ctx_next = ctx->sessions;
  if (ctx->sessions) ctx->sessions->ctx_prev = S;
  ctx->sessions = S;
  S->w.ctx = ctx;
  S->w.waiter_ref = NOREF;
  S->cfg = *cfg;
  memset(cfg, 0, sizeof *cfg);
  if (S->cfg.keepalive_count_max < 1) S->cfg.keepalive_count_max = 3;
  S->fd = -1;
  S->refs = 1;
  S->state = LSB_SSH_RESOLVING;
  S->last_rx = lsb_now();
  uv_update_time(ctx->loop); /* the loop may have slept: timers count from now */
  uv_timer_init(ctx->loop, &S->timer);
  uv_idle_init(ctx->loop, &S->kick);
  S->timer.data = S->kick.data = S;
  S->handles = 2;
  uv_unref((uv_handle_t *)&S->timer);
  if (S->cfg.connect_timeout > 0 && lsb_ms(S->cfg.connect_timeout) != UINT64_MAX)
    uv_timer_start(&S->timer, on_timer, lsb_ms(S->cfg.connect_timeout), 0);
  S->ssh = libssh2_session_init_ex(NULL, NULL, NULL, S);
  if (!S->ssh) {
    fail_connect(S, "ENOMEM", "cannot create an SSH session for %s", S->cfg.label);
    return S;
  }
  libssh2_session_set_blocking(S->ssh, 0);
  libssh2_session_callback_set(S->ssh, LIBSSH2_CALLBACK_RECV, (void *)ssh_recv);
  prefer_known_host_keys(S);
  if (via || S->cfg.proxy_command) {
    if (!via) libssh2_session_callback_set(S->ssh, LIBSSH2_CALLBACK_SEND, (void *)ssh_send);
    start_transport(S, via);
    return S;
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(port, sizeof port, "%d", S->cfg.port);
  {
    /* numeric addresses skip the resolver */
    struct addrinfo *res = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(S->cfg.host, port, &hints, &res) == 0) {
      S->addrs = res;
      S->cur_addr = res;
      try_connect(S);
      return S;
    }
    hints.ai_flags = AI_NUMERICSERV;
  }
  S->gai.data = S;
  rc = uv_getaddrinfo(ctx->loop, &S->gai, on_resolved, S->cfg.host, port, &hints);
  if (rc != 0) {
    fail_resolve(S, rc);
    return S;
  }
  S->gai_active = 1;
  S->handles++; /* the request counts as a handle until its callback */
  return S;
}

/* ------------------------------------------------------------------ */
/* handshake, host key, auth */

static const char *hostkey_name(int type, int *kbit) {
  switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: *kbit = LIBSSH2_KNOWNHOST_KEY_SSHRSA; return "ssh-rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS: *kbit = LIBSSH2_KNOWNHOST_KEY_SSHDSS; return "ssh-dss";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: *kbit = LIBSSH2_KNOWNHOST_KEY_ECDSA_256; return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: *kbit = LIBSSH2_KNOWNHOST_KEY_ECDSA_384; return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: *kbit = LIBSSH2_KNOWNHOST_KEY_ECDSA_521; return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_ED25519: *kbit = LIBSSH2_KNOWNHOST_KEY_ED25519; return "ssh-ed25519";
    default: *kbit = LIBSSH2_KNOWNHOST_KEY_UNKNOWN; return "unknown";
  }
}

static void check_host_key(lsb_ssh_session *S) {
  size_t len = 0;
  int type = 0, kbit = 0;
  const char *key = libssh2_session_hostkey(S->ssh, &len, &type);
  const unsigned char *hash =
      (const unsigned char *)libssh2_hostkey_hash(S->ssh, LIBSSH2_HOSTKEY_HASH_SHA256);
  S->key_type = hostkey_name(type, &kbit);
  if (!key || !hash) {
    fail_connect(S, "EHOSTKEY", "no host key from %s", S->cfg.label);
    return;
  }
  memcpy(S->fingerprint, "SHA256:", 7);
  lsb_base64_encode(hash, 32, S->fingerprint + 7, 0);
  S->key_b64 = malloc(LSB_BASE64_LEN(len) + 1);
  if (!S->key_b64) {
    fail_connect(S, "ENOMEM", "out of memory checking the host key of %s", S->cfg.label);
    return;
  }
  lsb_base64_encode((const unsigned char *)key, len, S->key_b64, 1);
  S->key_state = "unknown";
  if (S->cfg.known_hosts && !lsb_err_isset(&S->kh_err)) {
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(S->ssh);
    int err;
    if (!kh) {
      known_hosts_failed(S, ENOMEM, "out of memory");
    } else if ((err = load_known_hosts(kh, S->cfg.known_hosts)) != 0) {
      known_hosts_failed(S, err, NULL);
      libssh2_knownhost_free(kh);
    } else {
      struct libssh2_knownhost *found = NULL;
      int rc = libssh2_knownhost_checkp(kh, S->cfg.host, S->cfg.port, key, len,
                                        LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                            LIBSSH2_KNOWNHOST_KEYENC_RAW | kbit,
                                        &found);
      if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) S->key_state = "match";
      else if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) S->key_state = "changed";
      else if (rc == LIBSSH2_KNOWNHOST_CHECK_FAILURE)
        known_hosts_failed(S, ENOMEM, "out of memory checking the host key");
      libssh2_knownhost_free(kh);
    }
  }
  /* never "unknown" for a host whose entries could not be read: that would
   * refuse a known host (strict) or trust any key for it (accept-new) */
  if (lsb_err_isset(&S->kh_err)) S->key_state = "unreadable";
  if (S->pin) { /* a helper: the key of the connection it helps, or none */
    if (strcmp(S->pin, S->fingerprint) != 0) {
      fail_connect(S, "EHOSTKEY", "the host key of %s changed (%s)", S->cfg.label,
                   S->fingerprint);
      return;
    }
    S->state = LSB_SSH_AUTH;
    S->auth_step = 0;
    S->repump = 1;
    return;
  }
  S->state = LSB_SSH_HOSTKEY;
  lsb_waitable_wake(&S->w);
}

void lsb_ssh_accept_host_key(lsb_ssh_session *S) {
  if (S->state != LSB_SSH_HOSTKEY) return;
  S->state = LSB_SSH_AUTH;
  S->auth_step = 0;
  lsb_ssh_pump(S);
}

static void kbd_callback(const char *name, int name_len, const char *instr,
                         int instr_len, int num_prompts,
                         const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
                         LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses,
                         void **abstract) {
  lsb_ssh_session *S = *abstract;
  (void)name; (void)name_len; (void)instr; (void)instr_len; (void)prompts;
  for (int i = 0; i < num_prompts; i++) {
    const char *pw = S->cfg.password ? S->cfg.password : "";
    responses[i].text = strdup(pw);
    responses[i].length = responses[i].text ? (unsigned)strlen(pw) : 0;
  }
}

static void tried(lsb_ssh_session *S, const char *what, const char *detail) {
  size_t n = strlen(S->tried);
  snprintf(S->tried + n, sizeof S->tried - n, "%s%s%s%s%s", n ? ", " : "", what,
           detail ? " " : "", detail ? detail : "", "");
}

/* S->auth_methods is NULL while the methods list was not asked for (A_LIST
 * skipped: publickey is tried first, see auth_pump): publickey counts as
 * offered then; the others are looked up once the list is there. */
static int has_method(lsb_ssh_session *S, const char *m) {
  const char *p = S->auth_methods;
  size_t ml = strlen(m);
  if (!p && strcmp(m, "publickey") == 0) return 1;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == ml && strncmp(p, m, l) == 0) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

enum { A_LIST, A_AGENT, A_AGENT_ID, A_KEYS, A_LIST_LATE, A_PASSWORD, A_KBD, A_FAILED };

/* Whether authentication starts with a public key (a key file or an agent to
 * ask): then the methods list ("none" request: one round trip) is skipped,
 * as OpenSSH's ssh does, and asked for only when the keys are refused. */
static int pubkey_first(const lsb_ssh_session *S) {
  return S->cfg.nids > 0 || (S->cfg.agent && (S->cfg.agent_path || getenv("SSH_AUTH_SOCK")));
}

/* 0 when the key file can be read (or is not there: libssh2 says so),
 * else why not (EACCES, EISDIR, EMFILE, ENFILE, ENOMEM...) */
static int key_file_error(const char *path) {
  char b;
  int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  if (read(fd, &b, 1) < 0) err = errno;
  close(fd);
  return err;
}

static void fail_key(lsb_ssh_session *S, int err, const char *path) {
  char name[24];
  fail_connect(S, lsb_errno_name(err, name, sizeof name), "cannot read key file %s for %s: %s",
               path, S->cfg.label, strerror(err));
}

static void auth_ok(lsb_ssh_session *S) {
  if (S->agent) {
    libssh2_agent_disconnect(S->agent);
    libssh2_agent_free(S->agent);
    S->agent = NULL;
  }
  S->state = LSB_SSH_READY;
  start_keepalive(S);
  lsb_waitable_wake(&S->w);
}

/* What one authentication attempt's libssh2 result means: AUTH_REFUSED when
 * the server refused it (try the next key or method), else what auth_pump
 * returns: 0 when it would block, 1 when authentication is over (accepted, or
 * the connection was lost, reported). */
#define AUTH_REFUSED (-1)
static int auth_outcome(lsb_ssh_session *S, int rc) {
  if (rc == LIBSSH2_ERROR_EAGAIN) return 0;
  if (rc == 0) {
    auth_ok(S);
    return 1;
  }
  if (lsb_ssh_fatal(rc)) {
    fail_connect(S, "ECONNRESET", "connection to %s lost during authentication: %s",
                 S->cfg.label, lsb_ssh_errmsg(S));
    return 1;
  }
  return AUTH_REFUSED;
}

/* one step of authentication; returns 0 when it would block */
static int auth_pump(lsb_ssh_session *S) {
  const char *user = S->cfg.user;
  unsigned ulen = (unsigned)strlen(user);
  int rc;
  for (;;) {
    switch (S->auth_step) {
      case A_LIST:
      case A_LIST_LATE: {
        char *list;
        if (S->auth_step == A_LIST && pubkey_first(S)) {
          S->auth_step = A_AGENT;
          break;
        }
        list = libssh2_userauth_list(S->ssh, user, ulen);
        if (!list) {
          if (libssh2_userauth_authenticated(S->ssh)) {
            auth_ok(S);
            return 1;
          }
          rc = libssh2_session_last_errno(S->ssh);
          if (rc == LIBSSH2_ERROR_EAGAIN) return 0;
          fail_connect(S, "EAUTH", "authentication with %s failed: %s", S->cfg.label,
                       lsb_ssh_errmsg(S));
          return 1;
        }
        S->auth_methods = strdup(list);
        if (!S->auth_methods) {
          fail_connect(S, "ENOMEM", "out of memory authenticating with %s", S->cfg.label);
          return 1;
        }
        S->auth_step = S->auth_step == A_LIST_LATE ? A_PASSWORD : A_AGENT;
        break;
      }
      case A_AGENT: {
        int agent_rc;
        S->auth_step = A_KEYS;
        S->auth_id = 0;
        if (S->cfg.agent && has_method(S, "publickey") &&
            (S->cfg.agent_path || getenv("SSH_AUTH_SOCK"))) {
          S->agent = libssh2_agent_init(S->ssh);
          if (!S->agent) {
            fail_connect(S, "ENOMEM", "out of memory authenticating with %s", S->cfg.label);
            return 1;
          }
          if (S->cfg.agent_path) libssh2_agent_set_identity_path(S->agent, S->cfg.agent_path);
          errno = 0;
          agent_rc = libssh2_agent_connect(S->agent);
          if (agent_rc != 0 && resource_errno(errno)) {
            fail_errno(S, errno, "socket() to ssh-agent");
            return 1;
          }
          if (agent_rc == 0 && libssh2_agent_list_identities(S->agent) == 0) {
            S->agent_id = NULL;
            if (libssh2_agent_get_identity(S->agent, &S->agent_id, NULL) == 0)
              S->auth_step = A_AGENT_ID;
            else tried(S, "ssh-agent", "(no keys)");
          } else {
            tried(S, "ssh-agent", "(unreachable)");
          }
        }
        break;
      }
      case A_AGENT_ID:
        rc = auth_outcome(S, libssh2_agent_userauth(S->agent, user, S->agent_id));
        if (rc != AUTH_REFUSED) return rc;
        {
          struct libssh2_agent_publickey *prev = S->agent_id;
          if (libssh2_agent_get_identity(S->agent, &S->agent_id, prev) != 0) {
            tried(S, "ssh-agent", "(keys refused)");
            S->auth_step = A_KEYS;
          }
        }
        break;
      case A_KEYS:
        if (S->auth_id >= S->cfg.nids || !has_method(S, "publickey")) {
          /* the keys were refused before the list was asked for: ask now
           * (password, keyboard-interactive, the failure message need it) */
          S->auth_step = S->auth_methods ? A_PASSWORD : A_LIST_LATE;
          break;
        }
        {
          lsb_ssh_identity *id = &S->cfg.ids[S->auth_id];
          int file_rc, err;
          if ((err = key_file_error(id->path)) != 0) {
            fail_key(S, err, id->path);
            return 1;
          }
          file_rc = libssh2_userauth_publickey_fromfile_ex(S->ssh, user, ulen, NULL, id->path,
                                                           id->passphrase);
          /* why libssh2 could not read it: ours to name, when it is the file */
          if (file_rc == LIBSSH2_ERROR_FILE && (err = key_file_error(id->path)) != 0) {
            fail_key(S, err, id->path);
            return 1;
          }
          rc = auth_outcome(S, file_rc);
          if (rc != AUTH_REFUSED) return rc;
          tried(S, file_rc == LIBSSH2_ERROR_FILE ? "unreadable key (wrong passphrase?)" : "key",
                id->path);
          S->auth_id++;
        }
        break;
      case A_PASSWORD:
        if (!S->cfg.password || !has_method(S, "password")) {
          S->auth_step = A_KBD;
          break;
        }
        rc = auth_outcome(S, libssh2_userauth_password_ex(S->ssh, user, ulen, S->cfg.password,
                                                          (unsigned)strlen(S->cfg.password),
                                                          NULL));
        if (rc != AUTH_REFUSED) return rc;
        tried(S, "password", NULL);
        S->auth_step = A_KBD;
        break;
      case A_KBD:
        if (!S->cfg.password || !has_method(S, "keyboard-interactive")) {
          S->auth_step = A_FAILED;
          break;
        }
        rc = auth_outcome(S, libssh2_userauth_keyboard_interactive_ex(S->ssh, user, ulen,
                                                                      kbd_callback));
        if (rc != AUTH_REFUSED) return rc;
        tried(S, "keyboard-interactive", NULL);
        S->auth_step = A_FAILED;
        break;
      default: {
        char detail[400];
        snprintf(detail, sizeof detail, "tried %s; server accepts %s",
                 S->tried[0] ? S->tried : "nothing (no key, agent or password)",
                 S->auth_methods ? S->auth_methods : "?");
        fail_connect(S, "EAUTH", "authentication as %s failed (%s)", S->cfg.label, detail);
        return 1;
      }
    }
  }
}

static void pump_connect(lsb_ssh_session *S) {
  int rc;
  if (S->state == LSB_SSH_HANDSHAKE) {
    rc = libssh2_session_handshake(S->ssh, S->fd);
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
    if (rc != 0) {
      fail_connect(S, rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV
                          ? "ECONNRESET" : "EPROTO",
                   "SSH handshake with %s failed: %s", S->cfg.label, lsb_ssh_errmsg(S));
      return;
    }
    check_host_key(S);
    return;
  }
  if (S->state == LSB_SSH_AUTH) auth_pump(S);
}

/* ------------------------------------------------------------------ */
/* operations */

void lsb_ssh_add_op(lsb_ssh_session *S, lsb_ssh_op *op) {
  op->S = S;
  if (op->is_kill && S->ops_head) {
    /* a kill goes first: it must not wait behind queued commands for a
     * channel slot that only its own victims' end would free */
    op->prev = NULL;
    op->next = S->ops_head;
    S->ops_head->prev = op;
    S->ops_head = op;
    S->refs++;
    return;
  }
  op->next = NULL;
  op->prev = S->ops_tail;
  if (S->ops_tail) S->ops_tail->next = op;
  else {
    S->ops_head = op;
    S->last_rx = lsb_now();
  }
  S->ops_tail = op;
  S->refs++;
}

static void unref(lsb_ssh_session *S) {
  if (--S->refs > 0) return;
  if (S->pumping) S->teardown_pending = 1;
  else teardown(S);
}

void lsb_ssh_remove_op(lsb_ssh_op *op) {
  lsb_ssh_session *S = op->S;
  if (!S) return;
  if (op->prev) op->prev->next = op->next;
  else S->ops_head = op->next;
  if (op->next) op->next->prev = op->prev;
  else S->ops_tail = op->prev;
  op->next = op->prev = NULL;
  if (S->opener == op) S->opener = NULL;
  if (op->has_channel) lsb_ssh_channel_closed(S, op);
  op->S = NULL;
  if (S->state == LSB_SSH_DRAINING) {
    int kills = 0;
    for (lsb_ssh_op *o = S->ops_head; o; o = o->next) kills += o->is_kill | o->is_tunnel;
    if (!kills) S->teardown_pending = 1;
  }
  if (S->is_helper && !S->ops_head && !S->lua_gone) {
    if (S->pumping) S->helper_end = 1;
    else lsb_ssh_kick(S); /* lsb_ssh_pump ends it */
  }
  unref(S);
}

int lsb_ssh_may_open(lsb_ssh_session *S, lsb_ssh_op *op) {
  if (op->slot_wait) return 0;
  /* once the server's limit is known, the last slot is kept for kills: a
   * cancelled command must not wait for a channel that only its own end
   * (or the end of the commands queued beside it) would free */
  if (!op->is_kill && !op->is_tunnel && S->chan_limit > 1 && S->nchannels >= S->chan_limit - 1) {
    op->slot_wait = 1; /* until a channel closes */
    return 0;
  }
  if (S->opener && S->opener != op) return 0;
  if (!S->opener) S->open_seq = S->close_seq;
  S->opener = op;
  return 1;
}

void lsb_ssh_opened(lsb_ssh_session *S, lsb_ssh_op *op, int ok) {
  if (S->opener == op) S->opener = NULL;
  if (ok) {
    op->has_channel = 1;
    S->nchannels++;
    if (S->chan_limit && S->nchannels > S->chan_limit) S->chan_limit = S->nchannels;
  }
}

void lsb_ssh_channel_closed(lsb_ssh_session *S, lsb_ssh_op *op) {
  if (!op->has_channel) return;
  op->has_channel = 0;
  S->nchannels--;
  S->close_seq++;
  S->last_close = lsb_now();
  /* a slot is free: the refused opens try again */
  for (lsb_ssh_op *o = S->ops_head; o; o = o->next) o->slot_wait = 0;
  lsb_ssh_kick(S);
}

static int dup_str(char **dst, const char *src) {
  *dst = src ? strdup(src) : NULL;
  return src && !*dst ? -1 : 0;
}

static int config_copy(lsb_ssh_config *d, const lsb_ssh_config *s) {
  int bad = 0;
  memset(d, 0, sizeof *d);
  d->port = s->port;
  d->agent = s->agent;
  d->connect_timeout = s->connect_timeout;
  bad |= dup_str(&d->proxy_command, s->proxy_command);
  bad |= dup_str(&d->host, s->host) | dup_str(&d->label, s->label) |
         dup_str(&d->user, s->user) | dup_str(&d->known_hosts, s->known_hosts) |
         dup_str(&d->password, s->password) | dup_str(&d->agent_path, s->agent_path);
  if (s->nids > 0) {
    d->ids = calloc((size_t)s->nids, sizeof *d->ids);
    if (!d->ids) bad = -1;
    else d->nids = s->nids;
    for (int i = 0; d->ids && i < s->nids; i++)
      bad |= dup_str(&d->ids[i].path, s->ids[i].path) |
             dup_str(&d->ids[i].passphrase, s->ids[i].passphrase);
  }
  if (bad) lsb_ssh_config_free(d);
  return bad;
}

lsb_ssh_session *lsb_ssh_helper(lsb_ssh_session *S) {
  lsb_ssh_config cfg;
  lsb_ssh_session *H, *via = lsb_ssh_tunnel_via(S);
  char *pin;
  if (S->tunneled && !via) return NULL; /* its jump host is gone */
  if (S->helper) /* one that failed or was lost is on its way out */
    return S->helper->helper_end || S->helper->state > LSB_SSH_READY ? NULL : S->helper;
  if (S->is_helper || !S->fingerprint[0]) return NULL;
  pin = strdup(S->fingerprint);
  if (!pin || config_copy(&cfg, &S->cfg) != 0) {
    free(pin);
    return NULL;
  }
  if (!(cfg.connect_timeout > 0 && cfg.connect_timeout <= 10)) cfg.connect_timeout = 10;
  /* the parent's keepalive: a server that stops answering ends it too */
  cfg.keepalive = S->cfg.keepalive > 0 ? S->cfg.keepalive : 15;
  cfg.keepalive_count_max = S->cfg.keepalive_count_max > 0 ? S->cfg.keepalive_count_max : 3;
  H = lsb_ssh_connect_via(S->ctx, &cfg, via); /* cfg is moved in */
  lsb_ssh_config_free(&cfg);
  if (!H) {
    free(pin);
    return NULL;
  }
  H->pin = pin;
  H->is_helper = 1;
  if (H->state == LSB_SSH_FAILED) {
    lsb_ssh_close(H);
    return NULL;
  }
  H->parent = S;
  S->helper = H;
  return H;
}

void lsb_ssh_moved(lsb_ssh_session *S, size_t n) {
  S->pump_bytes += n;
  lsb_turn_moved(S->ctx);
}

/* the pump's own budget, and the turn's (ctx.h): many sessions at once */
int lsb_ssh_over_budget(lsb_ssh_session *S) {
  if (S->pump_bytes < LSB_SSH_PUMP_BUDGET && !lsb_turn_spent(S->ctx)) return 0;
  lsb_ssh_kick(S);
  return 1;
}

void lsb_ssh_pump(lsb_ssh_session *S) {
  if (S->torn_down) return;
  if (S->pumping) {
    S->repump = 1;
    return;
  }
  S->pumping = 1;
  S->pump_bytes = 0;
  S->rx_left = LSB_SSH_RECV_BUDGET;
  do {
    S->repump = 0;
    if (S->state < LSB_SSH_READY && S->state != LSB_SSH_HOSTKEY) {
      pump_connect(S);
      if (S->state == LSB_SSH_READY) S->repump = 1;
    } else if (S->state == LSB_SSH_READY || S->state == LSB_SSH_DRAINING) {
      int progress;
      do {
        lsb_ssh_op *op = S->ops_head, *next;
        progress = 0;
        while (op && S->state <= LSB_SSH_DRAINING) {
          next = op->next;
          progress |= op->pump(op);
          op = next;
        }
      } while (progress && S->state <= LSB_SSH_DRAINING);
    }
  } while (S->repump && !S->teardown_pending);
  S->pumping = 0;
  if (S->is_helper && !S->lua_gone &&
      (S->helper_end || (!S->ops_head && S->state >= LSB_SSH_READY))) {
    S->helper_end = 0;
    lsb_ssh_close(S); /* its kills are out (or lost) */
    return;
  }
  if (S->teardown_pending) {
    teardown(S);
    return;
  }
  update_poll(S);
}

/* the connection broke: every op ends with an error.  The names start with
 * ECONN (ECONNRESET: the socket failed or closed; ECONNABORTED: the server
 * stopped answering keepalives), which the task layer reads as
 * "unreachable"; never ETIMEDOUT, which is a command's own timeout. */
void lsb_ssh_lost(lsb_ssh_session *S, int rc, const char *what) {
  const char *name = rc == LIBSSH2_ERROR_SOCKET_TIMEOUT || rc == LIBSSH2_ERROR_TIMEOUT
                         ? "ECONNABORTED" : "ECONNRESET";
  if (S->state != LSB_SSH_READY && S->state != LSB_SSH_DRAINING) return;
  S->state = LSB_SSH_LOST;
  if (!what && rc == LIBSSH2_ERROR_SOCKET_RECV) what = rx_failure(S);
  lsb_err_set(&S->error, name, "connection to %s lost: %s", S->cfg.label,
              what ? what : lsb_ssh_errmsg(S));
  uv_timer_stop(&S->timer);
  if (S->poll) {
    uv_poll_stop(S->poll);
    uv_unref((uv_handle_t *)S->poll);
  }
  S->poll_events = 0;
  /* nothing more goes over it: what the ops close now fails at once (a
   * stalled link would only say EAGAIN), and they free what they hold */
  if (S->fd >= 0) shutdown(S->fd, SHUT_RDWR);
  S->refs++; /* the ops release theirs while we walk */
  while (S->ops_head) S->ops_head->lost(S->ops_head, &S->error);
  lsb_waitable_wake(&S->w);
  unref(S);
}

/* ------------------------------------------------------------------ */
/* the end */

static void free_ssh(lsb_ssh_session *S) {
  if (S->agent) {
    libssh2_agent_disconnect(S->agent);
    libssh2_agent_free(S->agent);
    S->agent = NULL;
  }
  if (!S->ssh) return;
  if (S->state == LSB_SSH_READY || S->state == LSB_SSH_DRAINING ||
      S->state == LSB_SSH_AUTH || S->state == LSB_SSH_HOSTKEY)
    libssh2_session_disconnect(S->ssh, "closed by luasible");
  /* nothing may block from here: the peer is gone for libssh2 */
  if (S->fd >= 0) shutdown(S->fd, SHUT_RDWR);
  libssh2_session_set_blocking(S->ssh, 1);
  libssh2_session_free(S->ssh);
  S->ssh = NULL;
}

static void teardown(lsb_ssh_session *S) {
  if (S->torn_down) return;
  S->torn_down = 1;
  if (S->parent) S->parent->helper = NULL;
  if (S->helper) S->helper->parent = NULL; /* it goes on with its kills */
  S->parent = S->helper = NULL;
  S->teardown_pending = 0;
  lsb_ssh_transport_detach(S, S->final);
  /* ops still there (close with running ops): they end now */
  if (S->ops_head) {
    lsb_err e = {{0}, NULL};
    lsb_err_set(&e, "ECANCELED", "connection closed");
    S->refs++;
    while (S->ops_head) S->ops_head->lost(S->ops_head, &e);
    S->refs--;
    lsb_err_free(&e);
  }
  if (S->state != LSB_SSH_FAILED && S->state != LSB_SSH_LOST) S->state = LSB_SSH_CLOSED;
  free_ssh(S);
  if (S->addrs) {
    if (S->gai_res) uv_freeaddrinfo(S->addrs);
    else freeaddrinfo(S->addrs);
    S->addrs = NULL;
  }
  lsb_waitable_wake(&S->w);
  if (S->gai_active) uv_cancel((uv_req_t *)&S->gai); /* its callback ends it */
  close_poll(S);
  uv_close((uv_handle_t *)&S->timer, on_handle_closed);
  uv_close((uv_handle_t *)&S->kick, on_handle_closed);
}

static void on_drain_timeout(uv_timer_t *t) {
  lsb_ssh_session *S = t->data;
  teardown(S);
}

void lsb_ssh_close(lsb_ssh_session *S) {
  int kills = 0;
  if (S->lua_gone) return;
  S->lua_gone = 1;
  if (S->state == LSB_SSH_READY) {
    /* end the operations; their remote kills go out before we leave */
    lsb_err e = {{0}, NULL};
    lsb_err_set(&e, "ECANCELED", "connection closed");
    S->refs++;
    for (lsb_ssh_op *op = S->ops_head, *next; op; op = next) {
      next = op->next;
      if (!op->is_kill && !op->is_tunnel) op->lost(op, &e);
    }
    S->refs--;
    lsb_err_free(&e);
    for (lsb_ssh_op *o = S->ops_head; o; o = o->next) kills += o->is_kill | o->is_tunnel;
    if (kills) {
      S->state = LSB_SSH_DRAINING;
      uv_timer_stop(&S->timer);
      uv_timer_start(&S->timer, on_drain_timeout, 3000, 0);
      uv_ref((uv_handle_t *)&S->timer);
      lsb_ssh_kick(S);
    }
  }
  S->refs--;
  if (!kills || S->refs == 0) teardown(S);
}

void lsb_ssh_teardown_all(lsb_ctx *ctx) {
  for (lsb_ssh_session *S = ctx->sessions; S; S = S->ctx_next) {
    S->lua_gone = 1;
    S->final = 1;
    teardown(S);
  }
}

void lsb_ssh_release_lua(lsb_ssh_session *S) {
  if (S->lua_gone) return;
  S->lua_gone = 1;
  unref(S);
}
