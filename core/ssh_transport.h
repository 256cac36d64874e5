/* The transports of an SSH session other than its own TCP socket: the
 * session's fd is one end of a socketpair, the other end is carried by
 *  - a tunnel: a direct-tcpip channel of another session (a jump host),
 *    an op of that session pumping bytes both ways with backpressure;
 *  - a proxy: a local command (ProxyCommand, run by /bin/sh -c) whose
 *    stdin and stdout are that end; its stderr is kept for the error.
 * Why a socketpair and not libssh2's send/recv callbacks: docs/SSH.md,
 * "Jump hosts". */
#ifndef LSB_SSH_TRANSPORT_H
#define LSB_SSH_TRANSPORT_H

#include "ssh_session.h"

/* Start a tunnel on `via` to host:port carrying `inner`; takes fd (closes
 * it on failure). 0 or a UV error code. */
int lsb_ssh_tunnel_start(lsb_ssh_session *via, lsb_ssh_session *inner, int fd,
                         const char *host, int port);
/* Run `cmd` with fd as its stdin and stdout (fd is closed here in every
 * case: the child has its own copy). 0 or a UV error code. */
int lsb_ssh_proxy_start(lsb_ssh_session *S, const char *cmd, int fd);
/* The session reads EOF from its fd: 1 when the proxy still runs (the EOF
 * waits until it exited and its stderr is read, so that the error can say
 * why), else 0. */
int lsb_ssh_proxy_hold_eof(lsb_ssh_session *S);
/* The session is torn down: the tunnel lets go of it (and closes its
 * channel), the proxy command is killed (SIGHUP to its process group, then
 * SIGKILL); `final`: the Lua state closes, nothing waits for the child. */
void lsb_ssh_transport_detach(lsb_ssh_session *S, int final);
/* The jump host session that carries S, or NULL */
lsb_ssh_session *lsb_ssh_tunnel_via(lsb_ssh_session *S);

#endif
