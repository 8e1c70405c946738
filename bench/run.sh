#!/bin/sh
# Benchmarks of jail-task-driver, each side by side with a reference in
# one run:
#   plugin process: the C plugin (release build) against a Go reference
#     plugin built like every Go Nomad driver;
#   tasks: task start, exit detection and memory against Debian's crun
#     on the same busybox root file system (needs root).
#
#   bench/run.sh              everything (the task phase only as root)
#   bench/run.sh --ref-only   reference plugin against itself (noise)
#   bench/run.sh --tasks      the task phase alone
#   bench/run.sh --no-tasks   the plugin-process phase alone
#   bench/run.sh -- ARGS      extra flags for `harness plugin` (or for
#                             `harness tasks` with --tasks)
#
# Builds into build-bench/ (C; BENCH_BUILD=DIR names another release
# build directory) and bench/out/ (Go), writes the JSON
# results to bench/results/, prints the tables. Every process and task it
# started is stopped before it returns; each phase is bounded by
# `timeout`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/out"
build=${BENCH_BUILD:-build-bench}

ref_only=0
tasks=auto
while [ $# -gt 0 ]; do
	case "$1" in
	--ref-only) ref_only=1; shift ;;
	--tasks) tasks=only; shift ;;
	--no-tasks) tasks=no; shift ;;
	--) shift; break ;;
	*) echo "usage: $0 [--ref-only | --tasks | --no-tasks]" \
	    "[-- harness flags]" >&2; exit 2 ;;
	esac
done
if [ "$tasks" = only ] && [ "$(id -u)" != 0 ]; then
	echo "$0: the task phase needs root" >&2
	exit 2
fi

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
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Dtests=false
fi
ninja -C "$build"
plugin="$root/$build/src/jail-task-driver"

# The shim is looked for beside the plugin; the build puts it in its
# own directory.
shim="$root/$build/src/shim/jail-task-shim"
run_tasks() {
	echo "== tasks: jail-task-driver against crun"
	set -- -plugin "$plugin" -out "$here/results" "$@"
	if [ ! -x "$root/$build/src/jail-task-shim" ] && [ -x "$shim" ]; then
		set -- -shim "$shim" "$@"
	fi
	timeout -k 30 8m "$out/harness" tasks "$@"
}

if [ "$tasks" = only ]; then
	run_tasks "$@"
	exit $?
fi

# The reference serves exactly the bytes our plugin serves: its
# TaskConfigSchema spec, PluginInfo, Capabilities, ConfigSchema and
# fingerprint, fetched from our plugin now.
echo "== fetching the plugin's answers for the reference"
rm -rf "$out/answers"
timeout -k 10 1m "$out/harness" answers -plugin "$plugin" \
    -out "$out/answers"

echo "== measuring"
timeout -k 10 9m "$out/harness" plugin \
    -subject "$plugin" -subject-name jtd \
    -reference "$out/refplugin" -reference-name go \
    -reference-args "-answers $out/answers" \
    -out "$here/results" "$@"

if [ "$tasks" = auto ]; then
	if [ "$(id -u)" = 0 ]; then
		run_tasks
	else
		echo "== tasks: skipped (needs root)"
	fi
fi
