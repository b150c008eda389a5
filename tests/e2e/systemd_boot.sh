#!/bin/bash
# systemd_boot.sh - boot a real systemd as PID 1 of private namespaces
#
# SYNOPSIS
#	unshare --pid --fork --mount --uts --ipc --net --cgroup --propagation private \
#		bash systemd_boot.sh LOWER STATE hybrid|unified
#
# DESCRIPTION
#	Run by tests/e2e/test_systemd.py inside fresh namespaces. LOWER is a
#	Debian root made by mmdebstrap (read-only, shared by every run);
#	STATE is this run's directory: the root is an overlay of LOWER with
#	STATE/upper on top, mounted on STATE/root. Then proc, sysfs, the
#	cgroup hierarchies as the host has them (hybrid: a tmpfs with the
#	name=systemd one and cgroup2 in unified/; unified: cgroup2), a tmpfs /dev with the basic nodes and a
#	newinstance devpts (PrivateDevices= needs it), tmpfs /run and /tmp,
#	pivot_root (not chroot: the kernel refuses a user namespace to a
#	chrooted process, and PrivateUsers= makes one) and exec systemd.
#	The caller has already moved this process into cgroups of its own,
#	which the cgroup namespace turns into the root that systemd sees.
set -eu
lower=$1
state=$2
layout=$3
new=$state/root

mkdir -p "$state/upper" "$state/work" "$new"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$state/upper,workdir=$state/work" "$new"
mount -t proc proc "$new/proc"
mount -t sysfs sysfs "$new/sys"
if [ "$layout" = unified ]; then
	mount -t cgroup2 cgroup2 "$new/sys/fs/cgroup"
else
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$new/sys/fs/cgroup"
	mkdir "$new/sys/fs/cgroup/systemd" "$new/sys/fs/cgroup/unified"
	mount -t cgroup -o none,name=systemd,xattr cgroup "$new/sys/fs/cgroup/systemd"
	mount -t cgroup2 cgroup2 "$new/sys/fs/cgroup/unified"
fi

mount -t tmpfs -o mode=0755,nosuid tmpfs "$new/dev"
for n in null zero full random urandom tty; do
	touch "$new/dev/$n"
	mount --bind "/dev/$n" "$new/dev/$n"
done
mkdir "$new/dev/pts" "$new/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$new/dev/pts"
ln -s pts/ptmx "$new/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$new/dev/shm"
ln -s /proc/self/fd "$new/dev/fd"
ln -s /proc/self/fd/0 "$new/dev/stdin"
ln -s /proc/self/fd/1 "$new/dev/stdout"
ln -s /proc/self/fd/2 "$new/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$new/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$new/tmp"

hostname pac-systemd-test
cd "$new"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot 2>/dev/null || true
export container=pac-test
exec /lib/systemd/systemd --system --log-target=journal --show-status=no
