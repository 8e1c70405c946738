#!/bin/sh
# gen-wkt.sh PROTOC_C INCLUDE_DIR OUTDIR NAME...
# Generate C code for google/protobuf/NAME.proto and place it flat in
# OUTDIR, where the build expects it.  The generated headers include each
# other as "google/protobuf/X.pb-c.h", so a google/protobuf directory of
# links is also left in OUTDIR.
set -eu
protoc_c=$1 inc=$2 out=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in "$@"; do
	"$protoc_c" -I "$inc" --c_out="$tmp" "$inc/google/protobuf/$n.proto"
done
mkdir -p "$out/google/protobuf"
for n in "$@"; do
	sed 's|#include "google/protobuf/\([a-z]*\)\.pb-c\.h"|#include "\1.pb-c.h"|' \
	    "$tmp/google/protobuf/$n.pb-c.c" >"$out/$n.pb-c.c"
	cp "$tmp/google/protobuf/$n.pb-c.h" "$out/$n.pb-c.h"
	ln -sf "../../$n.pb-c.h" "$out/google/protobuf/$n.pb-c.h"
done
