#!/bin/sh
# PID 1 of one test host of spec/helpers/testhosts.lua. Runs in the host's
# network namespace (nsenter) and its new mount, UTS, IPC and PID namespaces
# (unshare). $1 host dir, $2 name, $3 address/len, $4 sshd. Builds the root
# (an overlay of / on a tmpfs) and its mounts, pivots into it, starts sshd
# and reaps orphans.
set -eu
H=$1 NAME=$2 ADDR=$3 SSHD=$4
R=$H/root F=$H/files
# /proc is still the controller's: /proc/self/stat gives our pid there
read -r st </proc/self/stat
echo "${st%% *}" >"$H/pid.tmp" && mv "$H/pid.tmp" "$H/pid"
hostname "$NAME"
ip -batch - <<EOF
link set lo up
addr add $ADDR dev eth0
link set eth0 up
EOF
mount -t tmpfs -o mode=0755 lsbt-rw "$H/rw"
mkdir "$H/rw/upper" "$H/rw/work"
mount -t overlay -o "lowerdir=/,upperdir=$H/rw/upper,workdir=$H/rw/work" "lsbt-$NAME" "$R"
# the host's own files, copied while $H (under /tmp) is still visible
rm -f "$R"/etc/ssh/ssh_host_*_key "$R"/etc/ssh/ssh_host_*_key.pub
cp "$F/sshd_config" "$F/ssh_host_ed25519_key" "$F/ssh_host_ed25519_key.pub" \
  "$F/luasible_authorized_keys" "$R/etc/ssh/"
cp "$F/hostname" "$F/hosts" "$F/machine-id" "$R/etc/"
# an sshd of the spec's own (a wrapper in a checkout under /tmp, which the
# host does not see once its /tmp is its own): copied into its root
if [ "$SSHD" != /usr/sbin/sshd ]; then
  mkdir -p "$R/usr/local/libexec"
  cp "$SSHD" "$R/usr/local/libexec/lsbt-sshd"
  SSHD=/usr/local/libexec/lsbt-sshd
fi
mount -t proc proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"
mount --bind "$R/proc/sys/net" "$R/proc/sys/net"
mount -o remount,bind,ro "$R/proc/sys"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs -o mode=0755,size=1m lsbt-dev "$R/dev"
cp -a /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "$R/dev/"
ln -s /proc/self/fd "$R/dev/fd"
ln -s fd/0 "$R/dev/stdin"
ln -s fd/1 "$R/dev/stdout"
ln -s fd/2 "$R/dev/stderr"
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777 lsbt-shm "$R/dev/shm"
mount -t tmpfs -o mode=1777 lsbt-tmp "$R/tmp"
mount -t tmpfs -o mode=0755 lsbt-run "$R/run"
mkdir -p "$R/run/sshd" "$R/run/lock"
cd "$R"
pivot_root . .
umount -l .
cd /
"$SSHD" -D -e -f /etc/ssh/sshd_config </dev/null &
set +e
# PID 1 of the namespace: `wait` reaps every child, orphans too
while :; do wait; sleep 3600 & done
