/* An exec channel of an SSH session as a stream producer: stdout and stderr
 * into the stream, stdin written then EOF, exit status and signal, timeout
 * and cancel that kill the remote process group.
 *
 * The core sends the command line it is given, and builds no shell text:
 * the line (lua/luasible/remote.lua) first prints `<pgid_mark><pid>` as its
 * first stderr line from the login shell, which sshd makes the leader of a
 * session and process group of its own.  That line gives the process group
 * and is stripped here before the splitter sees stderr.  A timeout or a
 * cancel sends the `kill` line given, every "{pgid}" in it replaced by the
 * group id, on a channel of its own (fire and forget, owned by the session).
 * Without a pgid_mark no line is stripped; without a kill line a command is
 * never killed (its channel is read until it ends, or the hard end). */
#ifndef LSB_SSH_CHANNEL_H
#define LSB_SSH_CHANNEL_H

#include "ssh_session.h"

/* the longest pgid_mark (the marker line is read into a fixed buffer) */
#define LSB_SSH_MARK_MAX 48
/* what stands for the process group id in the kill line */
#define LSB_SSH_PGID "{pgid}"

/* The receive window of an exec channel and the largest data packet we take:
 * the server runs up to 2 MiB ahead of the consumer; a paused channel (a
 * consumer behind, see LSB_HIGH_BYTES) is not read, its window fills and the
 * server stops sending. */
#define LSB_SSH_WINDOW (2u * 1024 * 1024)
#define LSB_SSH_PACKET 32768u

typedef struct lsb_ssh_exec_opts {
  const char *cmd;      /* the remote command line (run by the login shell) */
  const char *pgid_mark; /* NULL, or the prefix of the stderr line giving the pgid */
  const char *kill;     /* NULL, or the line that kills the group ({pgid}) */
  double timeout;       /* seconds; <= 0: none */
  double grace;         /* seconds the kill line may take before the hard end */
  const char *stdin_data;
  size_t stdin_len;
  int has_stdin;
} lsb_ssh_exec_opts;

/* Queue the command on the session; 0 or a UV_ error (ENOMEM, EINVAL for a
 * pgid_mark longer than LSB_SSH_MARK_MAX). */
int lsb_ssh_exec(lsb_ssh_session *S, lsb_stream *s, const lsb_ssh_exec_opts *o);

#endif
