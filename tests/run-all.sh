#!/bin/bash
# Run every test of jail-task-driver: the unit tests and the conformance
# suite against a plugin built with ASan+UBSan, and a short smoke run of
# each fuzz target.  Prints one closing line "tests: N passed, N failed".
# Usage: tests/run-all.sh   (from anywhere; run scripts/deps.sh first)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

passed=0
failed=0
failures=""
step() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: ok"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "=== $name: FAILED"
	fi
}

asan_dir=$(mktemp -d)
trap 'rm -rf "$asan_dir"' EXIT
# Sanitizer reports from any process go to files, so a report from the
# plugin (whose stderr belongs to go-plugin) cannot go unnoticed.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$asan_dir/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$asan_dir/ubsan"

build_asan() {
	[ -d build-test ] || meson setup build-test \
	    -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dwerror=true >/dev/null || return 1
	ninja -C build-test
}

unit() {
	meson test -C build-test --print-errorlogs
}

conformance() {
	JTD_BINARY="$top/build-test/src/jail-task-driver" \
	    tests/conformance/run.sh
}

fuzz_smoke() {
	local t secs=${JTD_FUZZ_SECONDS:-10}
	[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true \
	    -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false \
	    >/dev/null || return 1
	ninja -C build-fuzz || return 1
	for t in build-fuzz/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		local corpus="$asan_dir/corpus-$(basename "$t")"
		mkdir -p "$corpus"
		[ -d "fuzz/corpus/$(basename "$t")" ] &&
		    cp -r "fuzz/corpus/$(basename "$t")/." "$corpus/"
		echo "--- $(basename "$t") for ${secs}s"
		if ! "$t" -max_total_time="$secs" -print_final_stats=1 \
		    "$corpus" >"$asan_dir/fuzz.log" 2>&1; then
			tail -n 40 "$asan_dir/fuzz.log"
			return 1
		fi
		grep -E 'stat::number_of_executed_units' "$asan_dir/fuzz.log"
	done
}

sanitizer_reports() {
	if ls "$asan_dir"/asan.* "$asan_dir"/ubsan.* >/dev/null 2>&1; then
		cat "$asan_dir"/asan.* "$asan_dir"/ubsan.* 2>/dev/null
		return 1
	fi
	return 0
}

step build build_asan
step unit unit
step conformance conformance
step fuzz fuzz_smoke
step sanitizers sanitizer_reports

[ -n "$failures" ] && echo "failed steps:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
