#!/bin/sh
# Install what building and testing jail-task-driver needs, from the
# distribution's packages.  Debian/Ubuntu (apt) and FreeBSD (pkg).
# Idempotent; does nothing when everything is present.
set -eu

debian_pkgs="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libuv1-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
protobuf-compiler libprotobuf-dev libmsgpack-dev libjansson-dev
libcmocka-dev golang-go busybox-static iproute2 crun"

freebsd_pkgs="meson ninja pkgconf libuv libnghttp2 protobuf-c protobuf
msgpack-c jansson cmocka go"

case "$(uname -s)" in
Linux)
	missing=""
	for p in $debian_pkgs; do
		# golang-go is not needed when a Go toolchain is already on PATH.
		if [ "$p" = golang-go ] && command -v go >/dev/null 2>&1; then
			continue
		fi
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
	;;
FreeBSD)
	# shellcheck disable=SC2086
	pkg install -y $freebsd_pkgs
	;;
*)
	echo "deps.sh: unsupported system $(uname -s)" >&2
	exit 1
	;;
esac
