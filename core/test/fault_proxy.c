/* fault_proxy: a TCP proxy that breaks connections on command, for the
 * fault-injection specs (spec/helpers/proxy.lua starts it).
 *
 *   fault_proxy TARGET_PORT [TARGET_HOST]
 *
 * Listens on 127.0.0.1 (a free port), forwards every connection to
 * TARGET_HOST (127.0.0.1):TARGET_PORT, and prints "port N" and "pid N" on
 * stdout. Commands come one a line on stdin, each answered "ok CMD" (or
 * "error ...") once it is in force:
 *   forward          forward both ways at full speed (the start)
 *   stall            stop forwarding both ways; the connections stay open
 *   drip N MS        forward at most N bytes every MS milliseconds, each way
 *   reset            RST both sides of every open connection (the next
 *                    connections are forwarded as the mode says)
 *   pause_accept     stop accepting: new connections wait in the backlog
 *                    (the TCP handshake completes, nothing answers)
 *   accept           accept again (and take the waiting ones)
 *   count            "ok count N": connections accepted so far, and open
 * The proxy exits when its stdin closes (the spec process is gone).
 * Plain POSIX and poll(2), no libuv: it must not share a bug with the core. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 64
#define BUF 65536

typedef struct {
  int fd[2];            /* 0: the client, 1: the server */
  char buf[2][BUF];     /* buf[i]: read from fd[i], to write to fd[1 - i] */
  size_t len[2];
  int eof[2];           /* fd[i] sent EOF (its data still goes out) */
  int shut[2];          /* fd[1 - i] was shut down for writing */
  long tokens[2];       /* drip: bytes fd[i]'s data may still move now */
} conn;

static conn *conns[MAXC];
static enum { FORWARD, STALL, DRIP } mode = FORWARD;
static long drip_bytes, drip_ms;
static int accepting = 1;
static long accepted;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

/* close both sides; with rst, as a reset (SO_LINGER 0) */
static void drop(int k, int rst) {
  conn *c = conns[k];
  for (int i = 0; i < 2; i++) {
    if (rst) {
      struct linger l = {1, 0};
      setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c->fd[i]);
  }
  free(c);
  conns[k] = NULL;
}

static int connect_target(const char *host, int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
      connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void take(int lfd, const char *host, int port) {
  int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), sfd, one = 1, k;
  conn *c;
  if (cfd < 0) return;
  accepted++;
  for (k = 0; k < MAXC && conns[k]; k++) {}
  sfd = k < MAXC ? connect_target(host, port) : -1;
  c = sfd >= 0 ? calloc(1, sizeof *c) : NULL;
  if (!c) {
    if (sfd >= 0) close(sfd);
    close(cfd);
    return;
  }
  setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd[0] = cfd;
  c->fd[1] = sfd;
  c->tokens[0] = c->tokens[1] = drip_bytes;
  conns[k] = c;
}

/* Move what the mode allows on connection k; returns 1 when it is over
 * (both sides sent EOF and got everything), -1 when a side failed. */
static int move(int k, const short rev[2]) {
  conn *c = conns[k];
  for (int i = 0; i < 2; i++) {
    int to = 1 - i;
    if (rev[i] & POLLERR) return -1; /* a reset: pass it on */
    if ((rev[i] & POLLHUP) && !(rev[i] & POLLIN)) c->eof[i] = 1;
    if ((rev[i] & POLLIN) && !c->eof[i] && c->len[i] < BUF) {
      size_t room = BUF - c->len[i];
      ssize_t n;
      if (mode == DRIP && (size_t)c->tokens[i] < room) room = (size_t)c->tokens[i];
      n = room ? recv(c->fd[i], c->buf[i] + c->len[i], room, 0) : 0;
      if (room && n == 0) c->eof[i] = 1;
      if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
      if (n > 0) {
        c->len[i] += (size_t)n;
        if (mode == DRIP) c->tokens[i] -= n;
      }
    }
    if (c->len[i] && (rev[to] & POLLOUT)) {
      ssize_t n = send(c->fd[to], c->buf[i], c->len[i], MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
      if (n > 0) {
        memmove(c->buf[i], c->buf[i] + n, c->len[i] - (size_t)n);
        c->len[i] -= (size_t)n;
      }
    }
    if (c->eof[i] && !c->len[i] && !c->shut[i]) {
      shutdown(c->fd[to], SHUT_WR);
      c->shut[i] = 1;
    }
  }
  return c->shut[0] && c->shut[1] ? 1 : 0;
}

static void command(char *line) {
  long a, b;
  line[strcspn(line, "\r\n")] = 0;
  if (!strcmp(line, "forward")) {
    mode = FORWARD;
  } else if (!strcmp(line, "stall")) {
    mode = STALL;
  } else if (sscanf(line, "drip %ld %ld", &a, &b) == 2 && a > 0 && b > 0) {
    mode = DRIP;
    drip_bytes = a;
    drip_ms = b;
    for (int k = 0; k < MAXC; k++)
      if (conns[k]) conns[k]->tokens[0] = conns[k]->tokens[1] = a;
  } else if (!strcmp(line, "reset")) {
    for (int k = 0; k < MAXC; k++)
      if (conns[k]) drop(k, 1);
  } else if (!strcmp(line, "pause_accept")) {
    accepting = 0;
  } else if (!strcmp(line, "accept")) {
    accepting = 1;
  } else if (!strcmp(line, "count")) {
    int open = 0;
    for (int k = 0; k < MAXC; k++) open += conns[k] != NULL;
    say("ok count %ld %d", accepted, open);
    return;
  } else {
    say("error unknown command: %s", line);
    return;
  }
  say("ok %s", line);
}

int main(int argc, char **argv) {
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";
  int port = argc > 1 ? atoi(argv[1]) : 0, lfd, one = 1;
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  char line[256];
  size_t llen = 0;
  double next_refill = 0;
  if (port <= 0) {
    fprintf(stderr, "usage: fault_proxy TARGET_PORT [TARGET_HOST]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
    perror("fault_proxy: listen");
    return 1;
  }
  say("port %d", ntohs(a.sin_port));
  say("pid %d", (int)getpid());
  for (;;) {
    struct pollfd p[2 + 2 * MAXC];
    int map[MAXC], n = 2, timeout = -1;
    p[0] = (struct pollfd){0, POLLIN, 0};
    p[1] = (struct pollfd){lfd, accepting ? POLLIN : 0, 0};
    if (mode == DRIP) {
      double t = now_ms();
      if (t >= next_refill) {
        for (int k = 0; k < MAXC; k++)
          if (conns[k]) conns[k]->tokens[0] = conns[k]->tokens[1] = drip_bytes;
        next_refill = t + (double)drip_ms;
      }
      timeout = (int)(next_refill - t) + 1;
    }
    for (int k = 0; k < MAXC; k++) {
      conn *c = conns[k];
      map[k] = -1;
      if (!c) continue;
      map[k] = n;
      for (int i = 0; i < 2; i++) {
        short ev = 0;
        int may_read = mode != STALL && !c->eof[i] && c->len[i] < BUF &&
                       (mode != DRIP || c->tokens[i] > 0);
        if (may_read) ev |= POLLIN;
        if (mode != STALL && c->len[1 - i]) ev |= POLLOUT;
        p[n++] = (struct pollfd){c->fd[i], ev, 0};
      }
    }
    if (poll(p, (nfds_t)n, timeout) < 0) {
      if (errno == EINTR) continue;
      perror("fault_proxy: poll");
      return 1;
    }
    if (p[0].revents) {
      ssize_t r = read(0, line + llen, sizeof line - 1 - llen);
      if (r <= 0) break; /* the spec is gone */
      llen += (size_t)r;
      line[llen] = 0;
      for (char *nl; (nl = strchr(line, '\n')) != NULL;) {
        *nl = 0;
        command(line);
        llen -= (size_t)(nl + 1 - line);
        memmove(line, nl + 1, llen + 1);
      }
      if (llen == sizeof line - 1) llen = 0; /* a line too long: dropped */
      continue; /* the mode may have changed: poll again */
    }
    if (p[1].revents & POLLIN) take(lfd, host, port);
    for (int k = 0; k < MAXC; k++) {
      short rev[2];
      int r;
      if (!conns[k] || map[k] < 0) continue;
      rev[0] = p[map[k]].revents;
      rev[1] = p[map[k] + 1].revents;
      if (mode == STALL) {
        /* nothing moves; a side that fails (poll would report it again and
         * again) is passed on as a reset */
        if ((rev[0] | rev[1]) & (POLLERR | POLLHUP)) drop(k, 1);
        continue;
      }
      if ((r = move(k, rev)) != 0) drop(k, r < 0);
    }
  }
  for (int k = 0; k < MAXC; k++)
    if (conns[k]) drop(k, 0);
  close(lfd);
  return 0;
}
