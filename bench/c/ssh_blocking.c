/*
 * ssh_blocking: the baseline for luasible's non-blocking SSH client.
 *
 *   ssh_blocking HOST PORT USER KEYFILE N CMD
 *
 * Connects over TCP, does the SSH handshake with BLOCKING libssh2,
 * authenticates with the public key file KEYFILE (no passphrase; the public
 * half is taken from KEYFILE.pub when it exists, else derived from KEYFILE),
 * then runs CMD N times, one after another, on that ONE session: for each run
 * a channel is opened, CMD exec'd, stdout and stderr read until EOF, the exit
 * status fetched and the channel closed. Everything is blocking libssh2 except
 * the output loop, which must read both streams as data comes (see drain()).
 * The socket has TCP_NODELAY, as interactive SSH clients set it. The
 * commands' stdout goes to our stdout and their stderr to our stderr. The
 * exit status is that of the last run (255 when it died from a signal). No
 * host key check: this is a benchmark baseline, not a client.
 *
 * Build: cc -O2 -o bench/out/ssh_blocking bench/c/ssh_blocking.c \
 *            $(pkg-config --cflags --libs libssh2)     (see bench/Makefile)
 */
#define _POSIX_C_SOURCE 200809L

#include <libssh2.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int connect_tcp(const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "ssh_blocking: %s:%s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            /* without it every request/reply pair waits for a delayed ACK
             * (~40 ms per command on Linux) */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            break;
        }
        rc = errno;
        close(fd);
        fd = -1;
        errno = rc;
    }
    if (fd < 0)
        fprintf(stderr, "ssh_blocking: connect %s:%s: %s\n", host, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

static void ssh_error(LIBSSH2_SESSION *session, const char *what)
{
    char *msg = NULL;
    libssh2_session_last_error(session, &msg, NULL, 0);
    fprintf(stderr, "ssh_blocking: %s: %s\n", what, msg ? msg : "unknown error");
}

/* wait until the socket is ready in the direction libssh2 is blocked on */
static int wait_socket(int sock, LIBSSH2_SESSION *session)
{
    fd_set rfds, wfds;
    int dir = libssh2_session_block_directions(session);

    FD_ZERO(&rfds);
    FD_ZERO(&wfds);
    if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
        FD_SET(sock, &rfds);
    if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        FD_SET(sock, &wfds);
    if (!(dir & (LIBSSH2_SESSION_BLOCK_INBOUND | LIBSSH2_SESSION_BLOCK_OUTBOUND)))
        FD_SET(sock, &rfds);
    while (select(sock + 1, &rfds, &wfds, NULL, NULL) < 0) {
        if (errno != EINTR) {
            perror("ssh_blocking: select");
            return -1;
        }
    }
    return 0;
}

enum { PUMP_ERROR = -1, PUMP_AGAIN, PUMP_MORE, PUMP_EOF };

/* read one stream of the channel until libssh2 has nothing more for it:
 * PUMP_EOF at its end, PUMP_AGAIN when libssh2 would block on the socket,
 * PUMP_MORE when libssh2 returned 0 without EOF (try again, do not wait).
 * *progress is set when bytes were read. */
static int pump(LIBSSH2_SESSION *session, LIBSSH2_CHANNEL *channel, int stream, FILE *out,
                int *progress)
{
    char buf[32768];
    for (;;) {
        ssize_t n = libssh2_channel_read_ex(channel, stream, buf, sizeof buf);
        if (n > 0) {
            *progress = 1;
            if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
                return PUMP_ERROR;
        } else if (n == LIBSSH2_ERROR_EAGAIN) {
            return PUMP_AGAIN;
        } else if (n == 0) {
            return libssh2_channel_eof(channel) ? PUMP_EOF : PUMP_MORE;
        } else {
            ssh_error(session, stream ? "read stderr" : "read stdout");
            return PUMP_ERROR;
        }
    }
}

/* stdout and stderr until EOF. Both streams share the channel window, so a
 * blocking read of stdout alone deadlocks once the command has filled the
 * window with stderr: only this loop runs non-blocking, waiting on the socket
 * with select() (one command at a time, no event loop). Reading one stream
 * drains the socket into libssh2's packet queue, so the socket is waited on
 * only when a whole round made no progress and nothing is queued. 0 or -1. */
static int drain(int sock, LIBSSH2_SESSION *session, LIBSSH2_CHANNEL *channel)
{
    int rc = 0;
    libssh2_session_set_blocking(session, 0);
    for (;;) {
        int progress = 0;
        int out = pump(session, channel, 0, stdout, &progress);
        int err = out == PUMP_ERROR
                      ? PUMP_ERROR
                      : pump(session, channel, SSH_EXTENDED_DATA_STDERR, stderr, &progress);
        if (out == PUMP_ERROR || err == PUMP_ERROR) {
            rc = -1;
            break;
        }
        if (out == PUMP_EOF && err == PUMP_EOF)
            break;
        if (progress || out == PUMP_MORE || err == PUMP_MORE || libssh2_channel_eof(channel) ||
            libssh2_poll_channel_read(channel, 0) || libssh2_poll_channel_read(channel, 1))
            continue;
        if (wait_socket(sock, session) < 0) {
            rc = -1;
            break;
        }
    }
    libssh2_session_set_blocking(session, 1);
    return rc;
}

/* one run of cmd on a fresh channel: returns its exit status, or -1 */
static int run_once(int sock, LIBSSH2_SESSION *session, const char *cmd)
{
    LIBSSH2_CHANNEL *channel;
    char *signame = NULL;
    int status = -1;

    channel = libssh2_channel_open_session(session);
    if (!channel) {
        ssh_error(session, "channel open");
        return -1;
    }
    if (libssh2_channel_exec(channel, cmd) != 0) {
        ssh_error(session, "exec");
        libssh2_channel_free(channel);
        return -1;
    }
    if (drain(sock, session, channel) == 0) {
        if (libssh2_channel_close(channel) == 0 && libssh2_channel_wait_closed(channel) == 0) {
            status = libssh2_channel_get_exit_status(channel);
            libssh2_channel_get_exit_signal(channel, &signame, NULL, NULL, NULL, NULL, NULL);
            if (signame) {
                fprintf(stderr, "ssh_blocking: command killed by SIG%s\n", signame);
                status = 255;
                libssh2_free(session, signame);
            }
        } else {
            ssh_error(session, "channel close");
        }
    }
    libssh2_channel_free(channel);
    return status;
}

int main(int argc, char **argv)
{
    const char *host, *port, *user, *keyfile, *cmd;
    char *pubfile = NULL;
    struct stat st;
    LIBSSH2_SESSION *session = NULL;
    long n, i;
    int sock, status = 1, rc;
    char *end;

    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT USER KEYFILE N CMD\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = argv[2];
    user = argv[3];
    keyfile = argv[4];
    cmd = argv[6];
    n = strtol(argv[5], &end, 10);
    if (*argv[5] == '\0' || *end != '\0' || n < 0) {
        fprintf(stderr, "ssh_blocking: N must be a number >= 0: %s\n", argv[5]);
        return 2;
    }

    rc = libssh2_init(0);
    if (rc != 0) {
        fprintf(stderr, "ssh_blocking: libssh2_init failed (%d)\n", rc);
        return 1;
    }
    sock = connect_tcp(host, port);
    if (sock < 0)
        goto out;

    session = libssh2_session_init();
    if (!session) {
        fprintf(stderr, "ssh_blocking: libssh2_session_init failed\n");
        goto out;
    }
    libssh2_session_set_blocking(session, 1);
    if (libssh2_session_handshake(session, sock) != 0) {
        ssh_error(session, "handshake");
        goto out;
    }

    pubfile = malloc(strlen(keyfile) + 5);
    if (!pubfile) {
        fprintf(stderr, "ssh_blocking: out of memory\n");
        goto out;
    }
    strcpy(pubfile, keyfile);
    strcat(pubfile, ".pub");
    if (libssh2_userauth_publickey_fromfile_ex(session, user, (unsigned int)strlen(user),
                                               stat(pubfile, &st) == 0 ? pubfile : NULL,
                                               keyfile, NULL) != 0) {
        ssh_error(session, "public key authentication");
        goto out;
    }

    status = 0;
    for (i = 0; i < n; i++) {
        status = run_once(sock, session, cmd);
        if (status < 0) {
            status = 1;
            break;
        }
    }
    if (fflush(stdout) != 0)
        status = 1;

    libssh2_session_disconnect(session, "done");
out:
    if (session)
        libssh2_session_free(session);
    if (sock >= 0)
        close(sock);
    free(pubfile);
    libssh2_exit();
    return status;
}
