#!/bin/sh
# Generate Go stubs for the benchmark from the project's own protos.
#
# Only hclspec, structs, base and driver are generated: the go-plugin
# internal services (GRPCController, GRPCStdio, GRPCBroker), health and
# google.rpc.Status already have Go types registered by go-plugin and grpc,
# and registering them twice panics at start-up.
#
# protoc comes from Debian; the two Go generators are installed at pinned
# versions into bench/.bin so the output does not depend on the machine.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../proto"
bin="$here/.bin"
out="$here/pb"

PROTOC_GEN_GO_VERSION=v1.36.6
PROTOC_GEN_GO_GRPC_VERSION=v1.5.1

if [ ! -x "$bin/protoc-gen-go" ] ||
    ! "$bin/protoc-gen-go" --version | grep -q "$PROTOC_GEN_GO_VERSION"; then
	GOBIN="$bin" go install \
	    "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
fi
if [ ! -x "$bin/protoc-gen-go-grpc" ] ||
    ! "$bin/protoc-gen-go-grpc" --version |
    grep -q "${PROTOC_GEN_GO_GRPC_VERSION#v}"; then
	GOBIN="$bin" go install \
	    "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi

# The protos name jtd/conformance/pb/... as their go_package; map each file
# to this module instead so the two suites stay independent.
map="Mhclspec.proto=jtd/bench/pb/hclspec"
map="$map,Mstructs.proto=jtd/bench/pb/structs"
map="$map,Mbase.proto=jtd/bench/pb/base"
map="$map,Mdriver.proto=jtd/bench/pb/drivers"

rm -rf "$out"
mkdir -p "$out"
PATH="$bin:$PATH" protoc -I "$proto" -I /usr/include \
    --go_out="$out" --go_opt=module=jtd/bench/pb --go_opt="$map" \
    --go-grpc_out="$out" --go-grpc_opt=module=jtd/bench/pb \
    --go-grpc_opt="$map" \
    hclspec.proto structs.proto base.proto driver.proto
