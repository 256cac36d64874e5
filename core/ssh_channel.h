/* An exec channel of an SSH session as a stream producer: stdout and stderr
 * into the stream, stdin written then EOF, exit status and signal, timeout
 * and cancel that kill the remote process group.
 *
 * The remote command is run as
 *     printf '<MARK>%s\n' "$$" >&2; <cmd>
 * by the login shell, which sshd makes the leader of a session and process
 * group of its own: the first stderr line gives the process group, and is
 * stripped here before the splitter sees stderr.  A timeout or a cancel
 * sends `kill -TERM -- -PGID`, then KILL after the grace, on a channel of its
 * own (fire and forget, owned by the session). */
#ifndef LSB_SSH_CHANNEL_H
#define LSB_SSH_CHANNEL_H

#include "ssh_session.h"

#define LSB_SSH_MARK "__luasible_pgid_"

/* The receive window of an exec channel and the largest data packet we take:
 * the server runs up to 2 MiB ahead of the consumer; a paused channel (a
 * consumer behind, see LSB_HIGH_BYTES) is not read, its window fills and the
 * server stops sending. */
#define LSB_SSH_WINDOW (2u * 1024 * 1024)
#define LSB_SSH_PACKET 32768u

typedef struct lsb_ssh_exec_opts {
  const char *cmd;      /* the remote command line (run by the login shell) */
  double timeout;       /* seconds; <= 0: none */
  double grace;         /* seconds between TERM and KILL */
  const char *stdin_data;
  size_t stdin_len;
  int has_stdin;
} lsb_ssh_exec_opts;

/* Queue the command on the session; 0 or a UV_ error (ENOMEM). */
int lsb_ssh_exec(lsb_ssh_session *S, lsb_stream *s, const lsb_ssh_exec_opts *o);

#endif
