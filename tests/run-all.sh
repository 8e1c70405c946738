#!/bin/bash
# Run every test of jail-task-driver: the unit tests, the conformance
# suite (end-to-end task tests included) and the CLI tests against a
# plugin built with ASan+UBSan, and a short smoke run of each fuzz
# target.  Prints one closing line "tests: N passed, N failed", counting
# unit test cases, conformance test cases (subtests included), CLI checks
# and fuzz targets; a step that fails without a countable case (a build
# error, a sanitizer report) counts as one failure.
# Usage: tests/run-all.sh   (from anywhere; run scripts/deps.sh first)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

passed=0
failed=0
failures=""
# Steps add what they counted to these; a failed step that counted no
# failure adds one.
step_passed=0
step_failed=0
step() {
	local name=$1
	shift
	step_passed=0
	step_failed=0
	echo "### $name"
	if "$@"; then
		echo "### $name: ok"
	else
		failures="$failures $name"
		[ "$step_failed" -gt 0 ] || step_failed=1
		echo "### $name: FAILED"
	fi
	passed=$((passed + step_passed))
	failed=$((failed + step_failed))
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

# An optimised build too: -O3 finds warnings (errors here) that the
# sanitizer build's optimisation level does not.
build_release() {
	[ -d build-release ] || meson setup build-release \
	    --buildtype=release -Dtests=false -Dwerror=true >/dev/null ||
	    return 1
	ninja -C build-release
}

unit() {
	local rc=0 log=build-test/meson-logs/testlog.txt
	meson test -C build-test --print-errorlogs || rc=$?
	# cmocka's own summary lines, one pair per test program.
	step_passed=$(grep -ho '\[  PASSED  \] [0-9]* test' "$log" |
	    awk '{ n += $4 } END { print n + 0 }')
	step_failed=$(grep -ho '\[  FAILED  \] [0-9]* test' "$log" |
	    awk '{ n += $4 } END { print n + 0 }')
	return $rc
}

conformance() {
	local rc=0 log="$asan_dir/conformance.log"
	JTD_BINARY="$top/build-test/src/jail-task-driver" \
	    tests/conformance/run.sh >"$log" 2>&1 || rc=$?
	grep -E '^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL|PASS)\b|^== ' "$log"
	# On failure, what each test said (go test -v interleaves parallel
	# tests, so the failing lines are anywhere in the log), then the end.
	if [ $rc -ne 0 ]; then
		grep -E '_test\.go:[0-9]+:' "$log" | head -n 80
		tail -n 20 "$log"
	fi
	step_passed=$(grep -cE '^\s*--- PASS' "$log")
	step_failed=$(grep -cE '^\s*--- FAIL' "$log")
	return $rc
}

# The standalone commands (validate, run) from a shell, with the
# sanitizer build's binary; its "N passed, M failed" line is the count.
cli() {
	local rc=0 log="$asan_dir/cli.log"
	tests/cli/run.sh "$top/build-test/src/jail-task-driver" >"$log" 2>&1 ||
	    rc=$?
	cat "$log"
	step_passed=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' \
	    "$log" | tail -n 1)
	step_failed=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p' \
	    "$log" | tail -n 1)
	step_passed=${step_passed:-0}
	step_failed=${step_failed:-0}
	return $rc
}

fuzz_smoke() {
	local t secs=${JTD_FUZZ_SECONDS:-10}
	[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true \
	    -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false \
	    >/dev/null || return 1
	ninja -C build-fuzz || return 1
	for t in build-fuzz/fuzz/fuzz_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		local corpus="$asan_dir/corpus-$(basename "$t")"
		mkdir -p "$corpus"
		[ -d "fuzz/corpus/$(basename "$t")" ] &&
		    cp -r "fuzz/corpus/$(basename "$t")/." "$corpus/"
		echo "--- $(basename "$t") for ${secs}s"
		if ! "$t" -max_total_time="$secs" -print_final_stats=1 \
		    "$corpus" >"$asan_dir/fuzz.log" 2>&1; then
			tail -n 40 "$asan_dir/fuzz.log"
			step_failed=$((step_failed + 1))
			return 1
		fi
		grep -E 'stat::number_of_executed_units' "$asan_dir/fuzz.log"
		step_passed=$((step_passed + 1))
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
step release build_release
step unit unit
step conformance conformance
step cli cli
step fuzz fuzz_smoke
step sanitizers sanitizer_reports

[ -n "$failures" ] && echo "failed steps:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
