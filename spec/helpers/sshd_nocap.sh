#!/bin/sh
# sshd without CAP_SYS_MODULE in its bounding set (so neither it nor anything
# its sessions run can load or remove kernel modules): a test host started
# with th.start { sshd = "<this file>" } is a host that does not allow modprobe.
exec setpriv --bounding-set -sys_module /usr/sbin/sshd "$@"
