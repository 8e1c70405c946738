#!/bin/sh
# Generate the stubs and run the conformance suite against the built
# plugin.  JTD_BINARY overrides the binary (default: the build/ tree).
# Extra arguments go to `go test` (e.g. -run TestFingerprint).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

: "${JTD_BINARY:=$here/../../build/src/jail-task-driver}"
export JTD_BINARY

if [ ! -x "$JTD_BINARY" ]; then
	echo "run.sh: plugin binary $JTD_BINARY not found or not executable" >&2
	echo "run.sh: build it (meson setup build && ninja -C build) or set JTD_BINARY" >&2
	exit 1
fi

./gen.sh
go vet ./...

# First with the go-plugin Nomad 1.10 links (go.mod), then with the one
# Nomad 1.4-1.7 link (go.gp14.mod: go-plugin v1.4.10, whose handshake
# parser and kill sequence differ slightly).  JTD_GOPLUGIN=new|old runs
# only one of them.
timeout=${JTD_TEST_TIMEOUT:-10m}
rc=0
case ${JTD_GOPLUGIN:-both} in
both|new)
	echo "== go-plugin $(go list -m -f '{{.Version}}' github.com/hashicorp/go-plugin)"
	go test -count=1 -v -timeout "$timeout" ./... "$@" || rc=$?
	;;
esac
case ${JTD_GOPLUGIN:-both} in
both|old)
	echo "== go-plugin $(go list -modfile=go.gp14.mod -m -f '{{.Version}}' github.com/hashicorp/go-plugin)"
	go test -modfile=go.gp14.mod -count=1 -v -timeout "$timeout" . "$@" ||
	    rc=$?
	;;
esac
exit $rc
