#!/bin/bash
# systemd_boot.sh - boot a real systemd as PID 1 of private namespaces
#
# SYNOPSIS
#	unshare --pid --fork --mount --uts --ipc --net --cgroup --propagation private \
#		bash systemd_boot.sh STATE hybrid|unified
#
# DESCRIPTION
#	Run by tests/e2e/test_systemd.py inside fresh namespaces. The root
#	is an overlay whose lower layer is this machine's own / (its
#	installed systemd, dbus and Postfix), read-only, and whose upper
#	layer is a tmpfs mounted on STATE: every write of the booted system
#	lands there and goes with the mount namespace, and the host's /
#	is never written. (The upper layer must be another filesystem too:
#	overlayfs refuses an upper directory inside a lower layer.)
#
#	Before the boot the overlay is made a fresh machine: none of the
#	host's enabled units (/etc/systemd/system, the SysV links, rc.local
#	and its fstab) so only what the tests need starts (journald, dbus,
#	Postfix), nothing that changes the kernel for the host; its own machine-id and hostname; Postfix's shipped
#	master.cf and a local-only main.cf; no stale sockets in Postfix's
#	queue directory; no /bin/kill (procps is optional: the unit's reload
#	must not need it); no man-db trigger (dpkg -i would index every page).
#
#	Then proc (/proc/sys read-only), sysfs (read-only), the cgroup hierarchies as the host has them
#	(hybrid: a tmpfs with the name=systemd one and cgroup2 in unified/;
#	unified: cgroup2), a tmpfs /dev with the basic nodes and a
#	newinstance devpts (PrivateDevices= needs it), tmpfs /run and /tmp,
#	pivot_root (not chroot: the kernel refuses a user namespace to a
#	chrooted process, and PrivateUsers= makes one) and exec systemd.
#	The caller has already moved this process into cgroups of its own,
#	which the cgroup namespace turns into the root that systemd sees.
set -eu
state=$1
layout=$2
new=$state/root
UPPER_SIZE=1g			# the booted system's writes: the journal, dpkg's copies

mkdir -p "$state"
mount -t tmpfs -o mode=0755,size=$UPPER_SIZE tmpfs "$state"
mkdir "$state/upper" "$state/work" "$new"
mount -t overlay overlay -o "lowerdir=/,upperdir=$state/upper,workdir=$state/work" "$new"

etc=$new/etc
rm -rf "$etc/systemd/system" "$etc"/rc?.d "$etc/rc.local" "$etc/crypttab"
mkdir -p "$etc/systemd/system/multi-user.target.wants" "$etc/systemd/system-generators"
ln -s /lib/systemd/system/multi-user.target "$etc/systemd/system/default.target"
ln -s /lib/systemd/system/postfix.service "$etc/systemd/system/multi-user.target.wants/"
ln -s /dev/null "$etc/systemd/system-generators/systemd-sysv-generator"
# What would change the host's kernel (modules, binfmt handlers, global
# sysctls, tracing) never runs: masked here, and /proc/sys and /sys are
# read-only.
for u in systemd-modules-load.service systemd-sysctl.service systemd-binfmt.service \
	proc-sys-fs-binfmt_misc.automount sys-kernel-debug.mount sys-kernel-tracing.mount \
	sys-kernel-config.mount sys-fs-fuse-connections.mount; do
	ln -s /dev/null "$etc/systemd/system/$u"
done
: > "$etc/fstab"
tr -d - < /proc/sys/kernel/random/uuid > "$etc/machine-id"
echo pac-systemd-test > "$etc/hostname"
cp /usr/share/postfix/master.cf.dist "$etc/postfix/master.cf"
cat > "$etc/postfix/main.cf" <<'EOF'
compatibility_level = 3.6
myhostname = pac-systemd-test.localdomain
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
alias_maps =
alias_database =
EOF
find "$new/var/spool/postfix" -type s -delete
rm -f "$new/bin/kill" "$new/usr/bin/kill" "$new/var/lib/man-db/auto-update"
mount -t proc proc "$new/proc"
for p in sys sysrq-trigger; do
	[ -e "$new/proc/$p" ] || continue	# no sysrq-trigger without CONFIG_MAGIC_SYSRQ
	mount --bind "$new/proc/$p" "$new/proc/$p"
	mount -o remount,bind,ro "$new/proc/$p"
done
mount -t sysfs -o ro sysfs "$new/sys"
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
