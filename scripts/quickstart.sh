#!/bin/sh
# From a fresh Debian 12 machine (as root) to a task running in a jail:
# install the dependencies, build, make a small busybox root file system,
# and run examples/hello.json with the standalone runner.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
scripts/make-rootfs.sh
exec build/src/jail-task-driver run examples/hello.json
