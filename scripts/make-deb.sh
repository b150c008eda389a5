#!/bin/sh
# make-deb.sh - assemble the .deb and its -dbgsym from an installed tree
#
# SYNOPSIS
#   scripts/make-deb.sh BUILD VERSION ARCH    (make deb runs it after `make install`
#                                              into BUILD/deb/root)
# DESCRIPTION
#   What debhelper would do, without a debian/ directory in the tree: strip
#   the daemon into a separate debug file (BUILD/deb/...-dbgsym_*.deb, under
#   /usr/lib/debug/.build-id/), Depends from dpkg-shlibdeps, Installed-Size
#   from dpkg-gencontrol, md5sums, copyright and changelog, then dpkg-deb.
#   lintian reports no error on either package; the warnings left are
#   initial-upload-closes-no-bugs (not a Debian upload),
#   maintainer-script-calls-systemctl (no debhelper here to write
#   deb-systemd-invoke calls) and non-standard-file-perm 0640 of
#   /etc/default/postfix-aws-cassandra (it may hold CASSANDRA_PASSWORD).
set -eu
build=$1 version=$2 arch=$3
pkg=postfix-aws-cassandra
deb=$build/deb
root=$deb/root dbg=$deb/dbgsym src=$deb/src
date=$(git log -1 --format=%aD 2>/dev/null || date -R)

mkdir -p "$src/debian" "$root/DEBIAN" "$dbg/DEBIAN" "$root/usr/share/doc/$pkg"
sed 's/@VERSION@/'"$version"'/' packaging/deb/control.in > "$src/debian/control"
printf '%s (%s-1) unstable; urgency=medium\n\n  * Release %s; see README.md.\n\n -- %s  %s\n' \
    "$pkg" "$version" "$version" \
    "$(sed -n 's/^Maintainer: //p' packaging/deb/control.in)" "$date" > "$src/debian/changelog"
install -m 0644 packaging/deb/copyright "$root/usr/share/doc/$pkg/copyright"
gzip -9n < "$src/debian/changelog" > "$root/usr/share/doc/$pkg/changelog.Debian.gz"
chmod 0644 "$root/usr/share/doc/$pkg/changelog.Debian.gz"

# Each program's debug file is named by its build id, where gdb and
# debuginfod look (the daemon and the admin program).
ids=
for bin in "$root"/usr/sbin/*; do
	id=$(readelf -n "$bin" | sed -n 's/^ *Build ID: *//p')
	[ -n "$id" ] || { echo "make-deb: $bin has no build id" >&2; exit 1; }
	debugfile=$dbg/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
	mkdir -p "$(dirname "$debugfile")"
	objcopy --only-keep-debug --compress-debug-sections "$bin" "$debugfile"
	chmod 0644 "$debugfile"
	strip --remove-section=.comment --remove-section=.note "$bin"
	objcopy --add-gnu-debuglink="$debugfile" "$bin"
	ids="$ids${ids:+ }$id"
done

# dpkg-shlibdeps and dpkg-gencontrol read debian/control in the current directory.
abs() { (cd "$1" && pwd); }
aroot=$(abs "$root")
(cd "$src" && dpkg-shlibdeps -Tdebian/substvars $(for b in "$aroot"/usr/sbin/*; do echo "-e$b"; done) &&
 dpkg-gencontrol -p"$pkg" -Tdebian/substvars -P"$aroot" -v"$version-1" -DArchitecture="$arch")
printf '/etc/default/%s\n/etc/%s/%s.conf\n' "$pkg" "$pkg" "$pkg" > "$root/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm "$root/DEBIAN/"
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' | sed 's|^\./||' | sort |
 xargs md5sum > DEBIAN/md5sums)

size=$(du -sk --exclude=DEBIAN "$dbg" | cut -f1)
cat > "$dbg/DEBIAN/control" <<CONTROL
Package: $pkg-dbgsym
Source: $pkg
Version: $version-1
Auto-Built-Package: debug-symbols
Architecture: $arch
Maintainer: $(sed -n 's/^Maintainer: //p' packaging/deb/control.in)
Installed-Size: $size
Depends: $pkg (= $version-1)
Section: debug
Priority: optional
Description: debug symbols for $pkg
Build-Ids: $ids
CONTROL
# As dh_strip does: the -dbgsym's doc directory is the package's.
mkdir -p "$dbg/usr/share/doc"
ln -s "$pkg" "$dbg/usr/share/doc/$pkg-dbgsym"
(cd "$dbg" && find . -type f ! -path './DEBIAN/*' | sed 's|^\./||' | xargs md5sum > DEBIAN/md5sums)
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb/${pkg}_$version-1_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$dbg" "$deb/$pkg-dbgsym_$version-1_$arch.deb"
