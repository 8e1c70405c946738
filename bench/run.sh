#!/bin/sh
# Plugin-process benchmark: jail-task-driver (C, release build) against a
# Go reference plugin built like every Go Nomad driver, in one run.
#
#   bench/run.sh              full comparison
#   bench/run.sh --ref-only   reference against itself (proves the harness)
#   bench/run.sh -- ARGS      extra flags for `harness plugin`
#
# Builds into build-bench/ (C) and bench/out/ (Go), writes the JSON
# result to bench/results/, prints the table. Every plugin process is
# stopped before it returns; the whole run is bounded by `timeout`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/out"

ref_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--ref-only) ref_only=1; shift ;;
	--) shift; break ;;
	*) echo "usage: $0 [--ref-only] [-- harness flags]" >&2; exit 2 ;;
	esac
done

mkdir -p "$out"

echo "== generating Go stubs and building the Go programs"
"$here/gen.sh"
(cd "$here" && go build -o "$out/refplugin" ./refplugin &&
    go build -o "$out/harness" ./harness)

if [ "$ref_only" = 1 ]; then
	echo "== reference against itself"
	exec timeout -k 10 9m "$out/harness" plugin \
	    -subject "$out/refplugin" -subject-name refA \
	    -reference "$out/refplugin" -reference-name refB \
	    -out "$here/results" "$@"
fi

echo "== building jail-task-driver (release)"
cd "$root"
if [ ! -f build-bench/build.ninja ]; then
	meson setup build-bench --buildtype=release -Dtests=false
fi
ninja -C build-bench
plugin="$root/build-bench/src/jail-task-driver"

# The reference serves exactly the bytes our plugin serves: its
# TaskConfigSchema spec, PluginInfo, Capabilities, ConfigSchema and
# fingerprint, fetched from our plugin now.
echo "== fetching the plugin's answers for the reference"
rm -rf "$out/answers"
timeout -k 10 1m "$out/harness" answers -plugin "$plugin" \
    -out "$out/answers"

echo "== measuring"
exec timeout -k 10 9m "$out/harness" plugin \
    -subject "$plugin" -subject-name jtd \
    -reference "$out/refplugin" -reference-name go \
    -reference-args "-answers $out/answers" \
    -out "$here/results" "$@"
