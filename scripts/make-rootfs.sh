#!/bin/sh
# Build the small root file system the examples and the tests run their
# jails in: a static busybox (Debian's busybox-static, installed by
# scripts/deps.sh) with its applets linked in /bin, /sbin, /usr/bin and
# /usr/sbin, an /etc/passwd and /etc/group with root and nobody (65534),
# /root and an empty /tmp.  Mount points the driver needs (/dev, /proc,
# /alloc, /local, /secrets) are left to the driver.
#
# Usage: scripts/make-rootfs.sh [TARGET]
#   TARGET defaults to /var/lib/jail-task-driver/rootfs/busybox, the Path
#   the examples in examples/ use.  BUSYBOX overrides /bin/busybox.
# Idempotent: running it again brings TARGET back to the same state.
set -eu

target=${1:-/var/lib/jail-task-driver/rootfs/busybox}
bb=${BUSYBOX:-/bin/busybox}

if [ ! -x "$bb" ]; then
	echo "make-rootfs.sh: no busybox at $bb (apt-get install busybox-static)" >&2
	exit 1
fi
# A dynamically linked busybox would need the host's libraries inside.
if command -v ldd >/dev/null 2>&1 && ldd "$bb" 2>/dev/null | grep -q '=>'; then
	echo "make-rootfs.sh: $bb is not statically linked (busybox-static)" >&2
	exit 1
fi

case $target in
/*) ;;
*) target=$(pwd)/$target ;;
esac

mkdir -p "$target/bin" "$target/sbin" "$target/usr/bin" "$target/usr/sbin" \
    "$target/etc" "$target/root" "$target/tmp"
chmod 755 "$target" "$target/etc" "$target/bin"
chmod 700 "$target/root"
chmod 1777 "$target/tmp"

if ! cmp -s "$bb" "$target/bin/busybox"; then
	cp "$bb" "$target/bin/busybox.new"
	chmod 755 "$target/bin/busybox.new"
	mv -f "$target/bin/busybox.new" "$target/bin/busybox"
fi

# Applets, as busybox itself lays them out (bin/sh, usr/bin/env, ...),
# each a relative link to /bin/busybox.
"$target/bin/busybox" --list-full | while IFS= read -r applet; do
	case $applet in
	*/*) ;;
	*) continue ;;		# e.g. linuxrc, which belongs at /
	esac
	dir=${applet%/*}
	name=${applet##*/}
	[ "$dir/$name" = bin/busybox ] && continue
	case $dir in
	bin) rel=busybox ;;
	sbin) rel=../bin/busybox ;;
	usr/bin | usr/sbin) rel=../../bin/busybox ;;
	*) continue ;;
	esac
	ln -sfn "$rel" "$target/$dir/$name"
done

write_file() {
	# Replace only when the content differs (keeps the tree stable).
	if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
		printf '%s\n' "$2" >"$1.new"
		chmod 644 "$1.new"
		mv -f "$1.new" "$1"
	fi
}
write_file "$target/etc/passwd" "root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/:/bin/sh"
write_file "$target/etc/group" "root:x:0:
nogroup:x:65534:"
write_file "$target/etc/hostname" "jail"

echo "busybox root file system ready at $target"
