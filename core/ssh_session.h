/* SSH sessions on the libuv loop: one non-blocking libssh2 session per TCP
 * socket, watched by one uv_poll shared by every operation (exec channel,
 * SFTP transfer, remote kill) of the session.
 *
 * The session pump runs on every poll event: it advances connect ->
 * handshake -> host key (a pause: Lua decides) -> auth, then every operation
 * until each one would block (EAGAIN).  Channel opens go one at a time, in
 * FIFO order (libssh2 keeps the state of one open per session).
 *
 * Ownership: the session is reference-counted; the Lua userdata holds one
 * reference and every operation one.  The libssh2 objects are torn down when
 * the last reference goes (or on close()), and the memory is freed after the
 * close callbacks of the uv handles. */
#ifndef LSB_SSH_SESSION_H
#define LSB_SSH_SESSION_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <time.h>
#include <uv.h>

#include "ctx.h"
#include "stream.h"

enum lsb_ssh_state {
  LSB_SSH_RESOLVING,
  LSB_SSH_CONNECTING,
  LSB_SSH_HANDSHAKE,
  LSB_SSH_HOSTKEY,   /* waiting for Lua to accept the host key */
  LSB_SSH_AUTH,
  LSB_SSH_READY,
  LSB_SSH_DRAINING,  /* closed by Lua; remote kills still being sent */
  LSB_SSH_FAILED,    /* connect failed */
  LSB_SSH_LOST,      /* was ready, the connection broke */
  LSB_SSH_CLOSED
};

typedef struct lsb_ssh_session lsb_ssh_session;
typedef struct lsb_ssh_op lsb_ssh_op;

/* An operation of a session (exec channel, SFTP transfer, remote kill). */
struct lsb_ssh_op {
  lsb_ssh_op *next, *prev;
  lsb_ssh_session *S;
  /* advance as far as possible; returns 1 when something happened */
  int (*pump)(lsb_ssh_op *op);
  /* the session is gone (lost or closed): drop every libssh2 pointer (the
   * session frees them), end the stream with `err`, release the op */
  void (*lost)(lsb_ssh_op *op, const lsb_err *err);
  unsigned is_kill : 1;   /* a remote kill: keeps a closing session alive */
  unsigned has_channel : 1; /* holds an open channel (counts for MaxSessions) */
  unsigned slot_wait : 1; /* open refused: wait for another channel to close */
  unsigned paused : 1;    /* its consumer is behind: it reads nothing now */
  /* a jump host's tunnel (ssh_transport.c): like a kill, it keeps a closing
   * session alive (DRAINING) until the session it carries is done */
  unsigned is_tunnel : 1;
};

typedef struct lsb_ssh_identity {
  char *path;
  char *passphrase;
} lsb_ssh_identity;

typedef struct lsb_ssh_config {
  char *host;       /* what to connect to (after ssh_config HostName) */
  char *label;      /* "user@host:port" for messages */
  int port;
  char *user;
  char *known_hosts; /* NULL: none */
  char *password;   /* NULL: no password auth */
  int agent;        /* try ssh-agent */
  char *agent_path; /* its socket; NULL: SSH_AUTH_SOCK */
  lsb_ssh_identity *ids;
  int nids;
  double connect_timeout; /* seconds */
  double keepalive;       /* seconds, 0: off */
  int keepalive_count_max; /* keepalives unanswered in a row before the loss */
  char *proxy_command; /* run by /bin/sh -c: its stdin/stdout carry the session */
} lsb_ssh_config;

struct lsb_tunnel;
struct lsb_proxy;

struct lsb_ssh_session {
  lsb_waitable w;   /* woken when connect reaches a decision point */
  lsb_ctx *ctx;
  lsb_ssh_session *ctx_next, *ctx_prev; /* ctx->sessions, for the last teardown */
  lsb_ssh_config cfg;
  int state;
  int refs;
  int handles;      /* uv handles not closed yet */
  int fd;
  uv_poll_t *poll;  /* with the socket fd; NULL before connect */
  uv_timer_t timer; /* connect timeout, then keepalive */
  /* a deferred pump (resume after backpressure, the rest of a budget...):
   * an idle handle runs once per loop turn, where a 0 ms timer started from
   * its own callback would run again in the same turn (libuv 1.44) */
  uv_idle_t kick;
  uv_getaddrinfo_t gai;
  struct addrinfo *addrs, *cur_addr;
  int poll_events;
  LIBSSH2_SESSION *ssh;
  LIBSSH2_AGENT *agent;
  struct libssh2_agent_publickey *agent_id;
  int auth_step, auth_id;
  char *auth_methods;
  char tried[256];  /* auth methods tried, for the message */
  /* host key, after the handshake */
  char fingerprint[64]; /* "SHA256:..." */
  const char *key_type; /* "ssh-ed25519" ... */
  char *key_b64;
  const char *key_state; /* "match" | "unknown" | "changed" */
  lsb_err error;    /* why it failed or was lost */
  lsb_ssh_op *ops_head, *ops_tail;
  lsb_ssh_op *opener; /* the op allowed to open a channel now */
  int nchannels;      /* ops holding an open channel */
  int chan_limit;     /* channels the server allows (learned when it first
                       * refused one: its MaxSessions), 0 while unknown */
  /* a channel opened ahead (ssh_channel.c): the next command's exec goes
   * on it at once, so a command costs one round trip, not two; counted in
   * nchannels. spare_off: the server refused it (MaxSessions), no more. */
  LIBSSH2_CHANNEL *spare;
  unsigned spare_opening : 1, spare_off : 1;
  unsigned close_seq; /* channels closed so far */
  unsigned open_seq;  /* close_seq when the current open began: a refusal
                       * teaches the limit only if no close came between,
                       * nor just before (the server frees a closed slot a
                       * little after it says the channel is closed) */
  double last_close;  /* when a channel last closed */
  double last_rx;     /* when the socket was last readable */
  size_t pump_bytes;  /* data moved by the ops in this pump */
  double ka_due;      /* when the keepalive timer is due */
  double ka_sent_at;  /* when the last keepalive went out */
  time_t ka_wall_sent; /* the same in libssh2's clock (time(), whole seconds) */
  int ka_unanswered;  /* keepalives sent since the server was last heard */
  lsb_err kh_err;     /* known_hosts could not be read (not: is missing) */
  size_t rx_left;     /* bytes this pump may still take from the socket */
  int rx_errno;       /* the socket's last read error (ECONNRESET...), or 0 */
  int rx_eof;         /* the server closed the connection */
  unsigned gai_active : 1, pumping : 1, repump : 1, teardown_pending : 1,
      lua_gone : 1, torn_down : 1, gai_res : 1, is_helper : 1, helper_end : 1;
  /* A second connection to the same server that only sends remote kills,
   * for when every channel of the first is taken (MaxSessions) by the
   * commands to be killed; it accepts only the first one's host key (pin)
   * and closes once its kills are out. */
  struct lsb_ssh_session *helper, *parent;
  char *pin;
  /* The transport when it is not a TCP socket (ssh_transport.c): the fd is
   * one end of a socketpair whose other end a direct-tcpip channel of a
   * jump host's session (tunnel) or a ProxyCommand (proxy) carries. */
  struct lsb_tunnel *tunnel; /* NULL: TCP, a proxy, or the tunnel is gone */
  struct lsb_proxy *proxy;
  unsigned tunneled : 1, eof_held : 1, final : 1;
};

/* Start connecting; returns NULL on out of memory (cfg is moved in). */
lsb_ssh_session *lsb_ssh_connect(lsb_ctx *ctx, lsb_ssh_config *cfg);
/* The same through `via` (a ready session: the jump host), whose
 * direct-tcpip channel to cfg->host:cfg->port carries the session; with
 * via NULL and cfg->proxy_command set, through that command. */
lsb_ssh_session *lsb_ssh_connect_via(lsb_ctx *ctx, lsb_ssh_config *cfg, lsb_ssh_session *via);
/* The transport failed (the jump host's channel, the ProxyCommand): the
 * connect fails, or the connection is lost, with `name` and `text`. */
void lsb_ssh_transport_failed(lsb_ssh_session *S, const char *name, const char *text);
/* Lua accepted the host key: go on with authentication. */
void lsb_ssh_accept_host_key(lsb_ssh_session *S);
/* Lua closed the session: end every operation, tear down (kills first). */
void lsb_ssh_close(lsb_ssh_session *S);
/* The Lua userdata is gone (gc): the session lives on for running ops. */
void lsb_ssh_release_lua(lsb_ssh_session *S);
/* The Lua state closes: end every session of ctx now (their handles close
 * on the next turns of the loop). */
void lsb_ssh_teardown_all(lsb_ctx *ctx);
const char *lsb_ssh_state_name(int state);
/* A waitable can be told apart: ready when not connecting any more */
int lsb_ssh_ready(const lsb_ssh_session *S);

/* for the operations */
void lsb_ssh_add_op(lsb_ssh_session *S, lsb_ssh_op *op);
void lsb_ssh_remove_op(lsb_ssh_op *op); /* drops the op's session reference */
void lsb_ssh_pump(lsb_ssh_session *S);
void lsb_ssh_kick(lsb_ssh_session *S);  /* pump on the next loop turn */
/* The session for kills that S cannot open a channel for (see helper); NULL
 * when it cannot be started. */
lsb_ssh_session *lsb_ssh_helper(lsb_ssh_session *S);
/* One pump moves at most about LSB_SSH_PUMP_BUDGET bytes of data, then
 * leaves the rest to the next loop turn, so that a fast transfer or command
 * never holds the loop (timers, other hosts, the consumer) for long. An op
 * counts what it moved; when lsb_ssh_over_budget() says so, it stops and
 * reports no progress (a kick is already scheduled). */
#define LSB_SSH_PUMP_BUDGET (1024 * 1024)
/* and takes at most this much from the socket: libssh2 decrypts whatever
 * the socket holds (up to a channel window) in one read call, which must
 * stay short too; what is left makes the socket readable on the next turn */
#define LSB_SSH_RECV_BUDGET (256 * 1024)
void lsb_ssh_moved(lsb_ssh_session *S, size_t n);
int lsb_ssh_over_budget(lsb_ssh_session *S);
/* An op's consumer fell behind (paused = 1) or caught up (0). */
void lsb_ssh_op_paused(lsb_ssh_op *op, int paused);
/* May `op` open a channel now (FIFO)?  Takes the slot when it is free. */
int lsb_ssh_may_open(lsb_ssh_session *S, lsb_ssh_op *op);
void lsb_ssh_opened(lsb_ssh_session *S, lsb_ssh_op *op, int ok);
void lsb_ssh_channel_closed(lsb_ssh_session *S, lsb_ssh_op *op);
/* a libssh2 error code that means the connection is broken */
int lsb_ssh_fatal(int rc);
/* the session is broken: end everything with an error */
void lsb_ssh_lost(lsb_ssh_session *S, int rc, const char *what);
const char *lsb_ssh_errmsg(lsb_ssh_session *S);

void lsb_ssh_config_free(lsb_ssh_config *cfg);

/* the remote kill of a process group: run `line` (the channel's kill line,
 * its pgid filled in) on a channel of its own (ssh_channel.c) */
int lsb_ssh_kill_group(lsb_ssh_session *S, const char *line);

#endif
