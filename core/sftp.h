/* SFTP transfers as stream producers: put (a local file or a string to a
 * remote path) and get (a remote path to a local file), with progress events
 * (stage "transferring") and the SHA-256 of the bytes moved, which comes as
 * the message "sha256:<hex>" of the last "transferring" progress event.
 * Atomic renames and checksum comparison are done by the caller (Lua). */
#ifndef LSB_SFTP_H
#define LSB_SFTP_H

#include "ssh_session.h"

typedef struct lsb_sftp_opts {
  int get;                 /* 0: put, 1: get */
  int local_fd;            /* put: the source (or -1); get: the destination */
  const char *content;     /* put: the data when local_fd < 0 */
  size_t content_len;
  const char *remote_path;
  long mode;               /* put: of the new remote file */
  double local_size;       /* put: bytes to send */
} lsb_sftp_opts;

/* Takes over local_fd (closed when done).  0 or a UV_ error. */
int lsb_sftp_start(lsb_ssh_session *S, lsb_stream *s, const lsb_sftp_opts *o);

#endif
