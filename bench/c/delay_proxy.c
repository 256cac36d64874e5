/* delay_proxy: a TCP proxy that adds a fixed one-way delay, to measure at a
 * round-trip time this kernel cannot give (no netem).
 *
 *   delay_proxy TARGET_PORT ONE_WAY_MS [TARGET_HOST]
 *
 * Listens on 127.0.0.1 (a free port), prints "port N" on stdout, forwards
 * every connection to TARGET_HOST (127.0.0.1):TARGET_PORT; every byte read
 * from either side is written to the other ONE_WAY_MS milliseconds later
 * (so the round trip gains 2 * ONE_WAY_MS), in order, without a bandwidth
 * limit. Exits when its stdin closes. Plain POSIX and poll(2): it shares no
 * code with what it measures. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 512
#define BUF 65536

typedef struct chunk {
  struct chunk *next;
  double due;
  size_t len, off;
  char data[];
} chunk;

typedef struct {
  int fd[2];           /* 0: the client, 1: the server */
  chunk *head[2], *tail[2]; /* read from fd[i], to write to fd[1 - i] */
  int eof[2];          /* fd[i] sent EOF */
  double eof_due[2];
  int shut[2];         /* fd[1 - i] shut down for writing */
} conn;

static conn *conns[MAXC];
static double delay_ms;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void drop(int i) {
  conn *c = conns[i];
  for (int d = 0; d < 2; d++) {
    close(c->fd[d]);
    while (c->head[d]) {
      chunk *n = c->head[d]->next;
      free(c->head[d]);
      c->head[d] = n;
    }
  }
  free(c);
  conns[i] = NULL;
}

int main(int argc, char **argv) {
  struct sockaddr_in a, t;
  socklen_t al = sizeof a;
  int lfd, one = 1;
  static char buf[BUF];
  if (argc < 3) {
    fprintf(stderr, "usage: delay_proxy TARGET_PORT ONE_WAY_MS [TARGET_HOST]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  delay_ms = atof(argv[2]);
  memset(&t, 0, sizeof t);
  t.sin_family = AF_INET;
  t.sin_port = htons((unsigned short)atoi(argv[1]));
  inet_pton(AF_INET, argc > 3 ? argv[3] : "127.0.0.1", &t.sin_addr);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 128) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) != 0) {
    perror("delay_proxy: listen");
    return 1;
  }
  printf("port %d\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    struct pollfd p[2 + 2 * MAXC];
    int idx[2 + 2 * MAXC], n = 0, timeout = -1;
    double now = now_ms();
    p[n].fd = 0, p[n].events = POLLIN, idx[n++] = -1;
    p[n].fd = lfd, p[n].events = POLLIN, idx[n++] = -1;
    for (int i = 0; i < MAXC; i++) {
      conn *c = conns[i];
      if (!c) continue;
      for (int d = 0; d < 2; d++) {
        short ev = 0;
        chunk *h = c->head[1 - d]; /* what goes out on fd[d] */
        if (!c->eof[d]) ev |= POLLIN;
        if (h) {
          if (h->due <= now) ev |= POLLOUT;
          else {
            int w = (int)(h->due - now) + 1;
            if (timeout < 0 || w < timeout) timeout = w;
          }
        } else if (c->eof[1 - d] && !c->shut[1 - d]) {
          if (c->eof_due[1 - d] <= now) {
            shutdown(c->fd[d], SHUT_WR);
            c->shut[1 - d] = 1;
          } else {
            int w = (int)(c->eof_due[1 - d] - now) + 1;
            if (timeout < 0 || w < timeout) timeout = w;
          }
        }
        p[n].fd = c->fd[d], p[n].events = ev, idx[n++] = i * 2 + d;
      }
    }
    if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) return 1;
    if (p[0].revents) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) return 0;
    }
    if (p[1].revents & POLLIN) {
      int cfd = accept(lfd, NULL, NULL), sfd, slot = -1;
      for (int i = 0; i < MAXC && cfd >= 0; i++)
        if (!conns[i]) {
          slot = i;
          break;
        }
      if (cfd >= 0 && slot < 0) close(cfd);
      if (cfd >= 0 && slot >= 0) {
        sfd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(sfd, (struct sockaddr *)&t, sizeof t) != 0) {
          close(cfd);
          close(sfd);
        } else {
          conn *c = calloc(1, sizeof *c);
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          c->fd[0] = cfd;
          c->fd[1] = sfd;
          conns[slot] = c;
        }
      }
    }
    now = now_ms();
    for (int k = 2; k < n; k++) {
      int i = idx[k] / 2, d = idx[k] % 2;
      conn *c = conns[i];
      if (!c || !p[k].revents) continue;
      if (p[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = read(c->fd[d], buf, sizeof buf);
        if (r > 0) {
          chunk *ch = malloc(sizeof *ch + (size_t)r);
          memcpy(ch->data, buf, (size_t)r);
          ch->len = (size_t)r;
          ch->off = 0;
          ch->due = now + delay_ms;
          ch->next = NULL;
          if (c->tail[d]) c->tail[d]->next = ch;
          else c->head[d] = ch;
          c->tail[d] = ch;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          c->eof[d] = 1;
          c->eof_due[d] = now + delay_ms;
          if (c->eof[0] && c->eof[1] && !c->head[0] && !c->head[1]) {
            drop(i);
            continue;
          }
        }
      }
      if (p[k].revents & POLLOUT) {
        chunk *h = c->head[1 - d];
        while (h && h->due <= now) {
          ssize_t w = write(c->fd[d], h->data + h->off, h->len - h->off);
          if (w < 0) {
            if (errno != EAGAIN) {
              drop(i);
              c = NULL;
            }
            break;
          }
          h->off += (size_t)w;
          if (h->off < h->len) break;
          c->head[1 - d] = h->next;
          if (!h->next) c->tail[1 - d] = NULL;
          free(h);
          h = c->head[1 - d];
        }
        if (!c) continue;
      }
    }
  }
}
