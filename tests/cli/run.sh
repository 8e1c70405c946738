#!/bin/bash
# Tests of the standalone commands, typed as a user types them:
#   jail-task-driver validate FILE
#   jail-task-driver run [--state-dir DIR] FILE
# against the configs in examples/ and a few made up here.  The `run`
# tests need root (jails) and build the busybox root the examples use
# with scripts/make-rootfs.sh; without root they are skipped, saying so.
#
# Usage: tests/cli/run.sh [BINARY]
#   BINARY (or $JTD_BINARY) defaults to build/src/jail-task-driver.
# Prints "ok"/"FAIL" per check and finally "N passed, M failed"; exits
# non-zero when anything failed.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${JTD_BINARY:-$top/build/src/jail-task-driver}}
case $bin in
/*) ;;
*) bin=$(pwd)/$bin ;;
esac
cd "$top"

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/    /'
	done
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ ! -x "$bin" ]; then
	fail "binary $bin exists" "build it (ninja -C build) or pass its path"
	finish
fi
# Installed, the shim sits beside the binary; in a build tree it is in
# src/shim/.
if [ -z "${JTD_SHIM:-}" ] && [ ! -x "$(dirname "$bin")/jail-task-shim" ] &&
    [ -x "$(dirname "$bin")/shim/jail-task-shim" ]; then
	export JTD_SHIM="$(dirname "$bin")/shim/jail-task-shim"
fi

tmp=$(mktemp -d)
state=$tmp/state
runner_pid=""
cleanup() {
	[ -n "$runner_pid" ] && kill -KILL "$runner_pid" 2>/dev/null
	# A failed run may leave its shim and jail behind: the checks
	# below report that; here it is removed so the machine stays clean.
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "$state/" &&
		    kill -KILL "${p#/proc/}" 2>/dev/null
	done
	sleep 0.3
	for name in $(ls -A "$state/tasks" 2>/dev/null); do
		for cg in /sys/fs/cgroup/*/jail-task-driver/"$name" \
		    /sys/fs/cgroup/jail-task-driver/"$name"; do
			[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
		done
	done
	# Never remove through a mount a failed run may have left.
	if grep -q " $tmp" /proc/self/mountinfo; then
		echo "cli: mounts left under $tmp; not removing it" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# A file's contents, indented, for failure messages.
show() {
	sed 's/^/| /' "$1" 2>/dev/null | head -n 20
}

# ---- validate -----------------------------------------------------------

for f in examples/*.json; do
	if "$bin" validate "$f" >"$tmp/out" 2>"$tmp/err"; then
		ok "validate $f"
	else
		fail "validate $f: exit $?, want 0" "$(show "$tmp/err")"
	fi
done
for f in seed-example-1.json seed-example-2.json hello.json exit3.json; do
	[ -f "examples/$f" ] || fail "examples/$f exists"
done

# One config with three independent problems: all three are printed,
# one per line, and the exit status is 1.
cat >"$tmp/bad.json" <<'EOF'
{
  "Path": "relative/root",
  "Ip4": "bogus",
  "Enforce_statfs": 5,
  "command": "/bin/true"
}
EOF
"$bin" validate "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ]; then
	ok "validate of a bad config exits 1"
else
	fail "validate of a bad config: exit $rc, want 1" "$(show "$tmp/err")"
fi
missing=""
for p in Path Ip4 Enforce_statfs; do
	grep -q "$p" "$tmp/err" "$tmp/out" || missing="$missing $p"
done
lines=$(cat "$tmp/err" "$tmp/out" | grep -c -e Path -e Ip4 -e Enforce_statfs)
if [ -z "$missing" ] && [ "$lines" -ge 3 ]; then
	ok "validate prints every problem, one per line"
else
	fail "validate prints every problem (missing:$missing; $lines lines)" \
	    "$(show "$tmp/err")"
fi

echo '{"Path": ' >"$tmp/broken.json"
"$bin" validate "$tmp/broken.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ] && [ -s "$tmp/err" ]; then
	ok "validate of malformed JSON fails with a message (exit $rc)"
else
	fail "validate of malformed JSON: exit $rc" "$(show "$tmp/err")"
fi

"$bin" validate "$tmp/no-such-file.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "no-such-file.json" "$tmp/err"; then
	ok "validate of a missing file names it (exit $rc)"
else
	fail "validate of a missing file: exit $rc" "$(show "$tmp/err")"
fi

# ---- run ----------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	echo "skip - run tests need root (jails); CI runs them as root"
	finish
fi

if scripts/make-rootfs.sh >"$tmp/out" 2>&1; then
	ok "scripts/make-rootfs.sh builds the examples' root"
else
	fail "scripts/make-rootfs.sh" "$(show "$tmp/out")"
	finish
fi
scripts/make-rootfs.sh >/dev/null 2>&1 &&
    ok "scripts/make-rootfs.sh is idempotent" ||
    fail "scripts/make-rootfs.sh a second time"

# run_cli NAME EXPECTED_RC FILE: runs the example with a 60 s safety net,
# output in $tmp/out and $tmp/err.
run_cli() {
	local name=$1 want=$2 file=$3 rc
	timeout -k 5 60 "$bin" run --state-dir "$state" "$file" \
	    >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc -eq "$want" ]; then
		ok "$name exits $want"
		return 0
	fi
	fail "$name: exit $rc, want $want" "stdout:" "$(show "$tmp/out")" \
	    "stderr:" "$(show "$tmp/err")"
	return 1
}

# expect_in FILE TEXT WHAT
expect_in() {
	if grep -qF -- "$2" "$1"; then
		ok "$3"
	else
		fail "$3: no \"$2\"" "$(show "$1")"
	fi
}

run_cli "run examples/hello.json" 0 examples/hello.json
expect_in "$tmp/out" "hello from hello, uid 0" "hello's output on stdout"

run_cli "run examples/exit3.json" 3 examples/exit3.json
expect_in "$tmp/out" "this task fails on purpose" "exit3's stdout on stdout"
expect_in "$tmp/err" "and says so on stderr" "exit3's stderr on stderr"

run_cli "run examples/limits.json" 0 examples/limits.json
expect_in "$tmp/out" "open files: 256" "Rctl Openfiles seen inside"
expect_in "$tmp/out" "address space (KiB): 524288" \
    "Rctl Vmemoryuse seen inside"

cat >"$tmp/missing.json" <<'EOF'
{
  "Path": "/var/lib/jail-task-driver/rootfs/busybox",
  "command": "/bin/no-such-program"
}
EOF
timeout -k 5 60 "$bin" run --state-dir "$state" "$tmp/missing.json" \
    >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ $rc -ne 0 ] && grep -q "/bin/no-such-program" "$tmp/err" &&
    grep -q "No such file" "$tmp/err"; then
	ok "run of a missing binary fails naming it (exit $rc)"
else
	fail "run of a missing binary: exit $rc, want an error naming" \
	    "/bin/no-such-program with \"No such file\"" "$(show "$tmp/err")"
fi

timeout -k 5 60 "$bin" run --state-dir "$state" "$tmp/bad.json" \
    >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ $rc -ne 0 ] && grep -q Enforce_statfs "$tmp/err"; then
	ok "run of a bad config refuses it (exit $rc)"
else
	fail "run of a bad config: exit $rc" "$(show "$tmp/err")"
fi

# Ctrl-C: SIGINT to the runner (job control on, so the background job
# keeps SIGINT as an interactive shell's foreground job would) stops the
# task with the stop semantics; the task traps the signal, prints
# "stopping" and exits 0, and so does the runner.
set -m
"$bin" run --state-dir "$state" examples/forever.json \
    >"$tmp/out" 2>"$tmp/err" </dev/null &
runner_pid=$!
set +m
up=no
for _ in $(seq 1 300); do
	grep -q "running until Ctrl-C" "$tmp/out" && { up=yes; break; }
	kill -0 "$runner_pid" 2>/dev/null || break
	sleep 0.1
done
if [ $up = yes ]; then
	kill -INT "$runner_pid"
	gone=no
	for _ in $(seq 1 300); do
		kill -0 "$runner_pid" 2>/dev/null || { gone=yes; break; }
		sleep 0.1
	done
	if [ $gone = yes ]; then
		wait "$runner_pid"
		rc=$?
		runner_pid=""
		if [ $rc -eq 0 ] && grep -q stopping "$tmp/out"; then
			ok "Ctrl-C stops the task (it saw its kill signal) and run exits 0"
		else
			fail "Ctrl-C: runner exit $rc, want 0 with the task's" \
			    "\"stopping\"" "stdout:" "$(show "$tmp/out")" \
			    "stderr:" "$(show "$tmp/err")"
		fi
	else
		fail "Ctrl-C: the runner was still running 30 s after SIGINT" \
		    "$(show "$tmp/err")"
	fi
else
	fail "run examples/forever.json never said it was running" \
	    "stdout:" "$(show "$tmp/out")" "stderr:" "$(show "$tmp/err")"
fi

# Nothing of any run is left: state entries, mounts, processes.
left=$(ls -A "$state/tasks" 2>/dev/null)
[ -z "$left" ] && ok "no task state left in $state/tasks" ||
    fail "task state left in $state/tasks: $left"
if grep -q " $tmp" /proc/self/mountinfo; then
	fail "mounts left under $tmp" "$(grep " $tmp" /proc/self/mountinfo)"
else
	ok "no mounts left"
fi
procs=""
for p in /proc/[0-9]*; do
	[ "${p#/proc/}" = $$ ] && continue
	if ls -l "$p/fd" 2>/dev/null | grep -q "$tmp" ||
	    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "$state"; then
		procs="$procs ${p#/proc/}"
	fi
done
[ -z "$procs" ] && ok "no processes left" ||
    fail "processes left:$procs" "$(for p in $procs; do
	tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"

finish
