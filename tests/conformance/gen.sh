#!/bin/sh
# Generate the Go stubs the suite uses from the project's own protos.
#
# Only hclspec, structs, base and driver: go-plugin and grpc-go already
# register the go-plugin, health and google.rpc types, and a second
# registration of the same proto file panics at start-up.
#
# protoc comes from the system (Debian protobuf-compiler); the two Go
# plugins are installed at pinned versions into .bin/ so the output does
# not depend on whatever happens to be on PATH.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
protodir=$(cd "$here/../../proto" && pwd)
bin="$here/.bin"
wkt=${PROTOC_INCLUDE:-/usr/include}

PROTOC_GEN_GO_VERSION=v1.36.6
PROTOC_GEN_GO_GRPC_VERSION=v1.5.1

need_tool() {
	# $1 binary name, $2 package, $3 version
	stamp="$bin/.$1.version"
	if [ -x "$bin/$1" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$3" ]; then
		return 0
	fi
	GOBIN="$bin" GOFLAGS=-mod=mod go install "$2@$3"
	echo "$3" >"$stamp"
}

command -v protoc >/dev/null || {
	echo "gen.sh: protoc not found (apt-get install protobuf-compiler)" >&2
	exit 1
}
[ -f "$wkt/google/protobuf/duration.proto" ] || {
	echo "gen.sh: well-known protos not found under $wkt" >&2
	exit 1
}

mkdir -p "$bin"
need_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go \
    "$PROTOC_GEN_GO_VERSION"
need_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc \
    "$PROTOC_GEN_GO_GRPC_VERSION"

rm -rf "$here/pb"
mkdir -p "$here/pb"

# The protos carry go_package "jtd/conformance/pb/<x>"; module= strips the
# module path so the files land in ./pb/<x>/.
PATH="$bin:$PATH" protoc \
    -I "$protodir" -I "$wkt" \
    --go_out="$here" --go_opt=module=jtd/conformance \
    --go-grpc_out="$here" --go-grpc_opt=module=jtd/conformance \
    hclspec.proto structs.proto base.proto driver.proto

echo "gen.sh: generated $(find "$here/pb" -name '*.go' | wc -l) files in pb/"
