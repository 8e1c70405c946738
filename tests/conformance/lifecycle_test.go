package conformance

// End-to-end task lifecycle through the go-plugin client acting as
// Nomad: real jails on a busybox root, Nomad's task directories and log
// FIFOs.  Every test ends with the leak check (leak_test.go).

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"jtd/conformance/pb/drivers"
)

// Output reaches both FIFOs, the exit code comes back, InspectTask and
// WaitTask agree, and DestroyTask ends the task's existence.
func TestE2EOutputAndExit(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("out", e.shCfg(
		"echo out-line; echo err-line >&2; exit 0"), taskOpts{}).mustStart()
	tk.expectOut("out-line\n")
	if !tk.stderr.waitFor("err-line\n", outputLimit) {
		t.Errorf("stderr FIFO: %q, want err-line", tk.errOut())
	}
	res := tk.wait()
	expectExit(t, "echo task", res, 0, 0)
	if got := tk.out(); got != "out-line\n" {
		t.Errorf("stdout = %q, want exactly %q", got, "out-line\n")
	}

	// After exit, before DestroyTask: InspectTask and a second
	// WaitTask answer with the stored result at once.
	ins, err := tk.inspect()
	if err != nil {
		t.Fatalf("InspectTask after exit: %v", err)
	}
	st := ins.GetTask()
	if st == nil || st.GetStartedAt() == nil ||
		st.GetCompletedAt() == nil || st.GetResult() == nil {
		t.Fatalf("InspectTask after exit lacks fields Nomad "+
			"dereferences: %v", ins)
	}
	if st.GetState() != drivers.TaskState_EXITED ||
		st.GetId() != tk.tc.GetId() || st.GetName() != tk.name {
		t.Errorf("InspectTask after exit: %v", st)
	}
	expectExit(t, "InspectTask result", st.GetResult(), 0, 0)
	tk.waitCh = tk.startWait()
	expectExit(t, "second WaitTask", tk.wait(), 0, 0)

	if err := tk.destroy(false); err != nil {
		t.Fatalf("DestroyTask of an exited task: %v", err)
	}
	// Idempotent.
	if err := tk.destroy(true); err != nil {
		t.Errorf("second DestroyTask: %v", err)
	}
	tk.waitCh = tk.startWait()
	r := <-tk.waitCh
	tk.waitCh = nil
	if status.Code(r.err) != codes.NotFound {
		t.Errorf("WaitTask after DestroyTask: want NOT_FOUND, got %v %v",
			r.resp, r.err)
	}
}

// Exit codes and death by signal arrive exactly: exit status, or
// 128 + signal with the signal number.
func TestE2EExitCodes(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	cases := []struct {
		name      string
		script    string
		code, sig int32
	}{
		{"exit 0", "exit 0", 0, 0},
		{"exit 3", "echo bye; exit 3", 3, 0},
		{"killed by SIGKILL", "kill -KILL $$", 137, 9},
		{"killed by SIGTERM", "kill -TERM $$", 143, 15},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer e.sub(t)()
			_, res := e.run("code", e.shCfg(c.script), taskOpts{})
			expectExit(t, c.script, res, c.code, c.sig)
		})
	}
}

// SignalTask delivers to the task, which keeps running; InspectTask says
// RUNNING meanwhile.
func TestE2ESignalTask(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("sig", e.shCfg(
		"trap 'echo got-usr1' USR1; trap 'echo got-hup' HUP; "+
			"echo ready; "+loopForever), taskOpts{}).mustStart()
	tk.expectOut("ready")

	ins, err := tk.inspect()
	if err != nil {
		t.Fatalf("InspectTask: %v", err)
	}
	st := ins.GetTask()
	if st.GetState() != drivers.TaskState_RUNNING ||
		st.GetStartedAt() == nil || st.GetCompletedAt() == nil ||
		st.GetResult() == nil {
		t.Errorf("InspectTask of a running task: %v (Nomad needs "+
			"started_at, completed_at and result present)", ins)
	}

	// One at a time: a second SIGUSR1 sent before the shell ran its
	// trap for the first would be merged with it (POSIX signals do not
	// queue), and the test would fail for the wrong reason.
	want := map[string]string{"SIGUSR1": "got-usr1", "SIGHUP": "got-hup"}
	seen := map[string]int{}
	for _, s := range []string{"SIGUSR1", "SIGHUP", "SIGUSR1"} {
		if err := tk.signal(s); err != nil {
			t.Fatalf("SignalTask(%s): %v", s, err)
		}
		seen[want[s]]++
		n := seen[want[s]]
		if !tk.stdout.waitCond(outputLimit, func() bool {
			return strings.Count(tk.stdout.buf.String(), want[s]) >= n
		}) {
			t.Fatalf("after %s stdout is %q", s, tk.out())
		}
	}
	if !tk.stdout.waitCond(outputLimit, func() bool {
		b := tk.stdout.buf.String()
		return strings.Count(b, "got-usr1") == 2 &&
			strings.Contains(b, "got-hup")
	}) {
		t.Errorf("after SIGUSR1, SIGHUP, SIGUSR1 stdout is %q", tk.out())
	}
	if err := tk.signal("SIGNOPE"); err == nil {
		t.Errorf("SignalTask(SIGNOPE) succeeded")
	}
	if tk.waitedWithin(0) {
		t.Fatalf("task ended after SignalTask: %v", tk.out())
	}
	res := tk.stopAndDestroy(10*time.Second, "SIGTERM")
	expectExit(t, "stopped with SIGTERM", res, 143, 15)
}

const trapTerm = "trap 'echo got-term' TERM; echo ready; " + loopForever

// StopTask against a task that ignores the kill signal returns only
// after the timeout, and then the task is dead (SIGKILL).
func TestE2EStopIgnoringTERM(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("stubborn", e.shCfg(trapTerm), taskOpts{}).mustStart()
	tk.expectOut("ready")

	const timeout = 3 * time.Second
	took, err := tk.stop(timeout, "SIGTERM")
	if err != nil {
		t.Fatalf("StopTask: %v", err)
	}
	if !strings.Contains(tk.out(), "got-term") {
		t.Errorf("the task never saw SIGTERM; stdout %q", tk.out())
	}
	if took < timeout-100*time.Millisecond {
		t.Errorf("StopTask returned after %v, before kill_timeout %v, "+
			"though the task ignores SIGTERM", took, timeout)
	}
	if took > timeout+10*time.Second {
		t.Errorf("StopTask took %v for a %v kill_timeout", took, timeout)
	}
	// Nomad keeps WaitTask pending across StopTask: it returns now.
	if !tk.waitedWithin(5 * time.Second) {
		t.Errorf("StopTask returned but WaitTask has not")
	}
	expectExit(t, "killed at kill_timeout", tk.finish(), 137, 9)
}

// StopTask against a task that exits on the signal returns as soon as
// the jail is empty, long before the timeout.  An empty signal means
// SIGINT, as in Nomad's own drivers.
func TestE2EStopPrompt(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	cases := []struct {
		name, sig, script string
		code, signo       int32
	}{
		{"SIGTERM", "SIGTERM", "echo ready; exec sleep 1000", 143, 15},
		{"empty means SIGINT", "", "echo ready; exec sleep 1000",
			130, 2},
		{"SIGQUIT exits", "SIGQUIT", "echo ready; exec sleep 1000",
			131, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer e.sub(t)()
			tk := e.newTask("prompt", e.shCfg(c.script),
				taskOpts{}).mustStart()
			tk.expectOut("ready")
			const timeout = 30 * time.Second
			took, err := tk.stop(timeout, c.sig)
			if err != nil {
				t.Fatalf("StopTask: %v", err)
			}
			if took > 5*time.Second {
				t.Errorf("StopTask took %v for a task that exits on "+
					"the signal (timeout %v)", took, timeout)
			}
			expectExit(t, "stopped", tk.finish(), c.code, c.signo)
		})
	}
}

// A missing binary is a StartTask error with errno and the path, not a
// later exit 127; and the failed start leaves nothing behind.
func TestE2EMissingBinary(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	for _, cmd := range []string{"/bin/no-such-program",
		"/no/such/dir/prog"} {
		tk := e.newTask("missing", map[string]any{"Path": e.root,
			"command": cmd, "args": []any{"x"}}, taskOpts{})
		err := tk.start()
		if err == nil {
			res := tk.finish()
			t.Fatalf("StartTask with missing %s succeeded (exit %v)",
				cmd, res)
		}
		msg := status.Convert(err).Message()
		if !strings.Contains(msg, cmd) ||
			!strings.Contains(msg, "No such file") {
			t.Errorf("StartTask error %q should name %s and say "+
				"\"No such file\"", msg, cmd)
		}
		t.Logf("missing binary: %v", err)
		e.checkLeaks(t, true)
	}
}

// Every invalid config of starttask_test.go is refused by the plugin
// that would run it, and leaves nothing behind.
func TestE2EBadConfigsLeaveNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	for _, c := range invalidConfigCases() {
		t.Run(c.name, func(t *testing.T) {
			defer e.sub(t)()
			cfg := map[string]any{}
			for k, v := range c.cfg {
				cfg[k] = v
			}
			if cfg["Path"] == "/zroot/jails/a" {
				cfg["Path"] = e.root
			}
			raw, err := EncodeTaskConfig(e.schema, cfg, taskEnv("bad"))
			if err != nil {
				checkRejected(t, c, err)
				return
			}
			tk := e.newTask("bad", map[string]any{"Path": e.root,
				"command": "/bin/true"}, taskOpts{})
			tk.tc.MsgpackDriverConfig = raw
			err = tk.start()
			if err == nil {
				tk.finish()
			}
			checkRejected(t, c, err)
			e.checkLeaks(t, true)
		})
	}
}

func parseEnv(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// The task sees Nomad's environment, with the task directories at their
// in-jail paths and the job's env, and nothing of the plugin's own.
func TestE2EEnv(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, res := e.run("envtask", map[string]any{"Path": e.root,
		"command": "/usr/bin/env"}, taskOpts{Env: map[string]string{
		"GREETING": "hello world", "EMPTY": "",
		"WITH_EQ": "a=b"}})
	expectExit(t, "env", res, 0, 0)
	env := parseEnv(tk.out())
	want := map[string]string{
		"NOMAD_TASK_DIR": "/local", "NOMAD_ALLOC_DIR": "/alloc",
		"NOMAD_SECRETS_DIR": "/secrets", "NOMAD_TASK_NAME": "envtask",
		"NOMAD_ALLOC_ID": tk.tc.GetAllocId(), "NOMAD_JOB_NAME": "e2e",
		"GREETING": "hello world", "EMPTY": "", "WITH_EQ": "a=b",
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("env %s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	for k := range env {
		if strings.HasPrefix(k, "JTD_") || strings.HasPrefix(k, "PLUGIN_") ||
			k == "NOMAD_PLUGIN_MAGIC_COOKIE" {
			t.Errorf("the plugin's own environment leaked into the "+
				"task: %s", k)
		}
	}
}

// /alloc, /local and /secrets inside are the allocation's directories on
// the host, both ways.
func TestE2ETaskDirs(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("dirs", e.shCfg(
		"cat /local/in.txt; echo l > /local/out; "+
			"echo a > /alloc/data/out; echo s > /secrets/out; "+
			"echo t > /alloc/tmp/out; ls /alloc"), taskOpts{})
	if err := os.WriteFile(filepath.Join(tk.taskDir, "local", "in.txt"),
		[]byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tk.mustStart()
	res := tk.finish()
	expectExit(t, "dirs task", res, 0, 0)
	if !strings.Contains(tk.out(), "from-host") {
		t.Errorf("/local/in.txt not visible inside: stdout %q stderr %q",
			tk.out(), tk.errOut())
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(tk.taskDir, "local", "out"), "l\n"},
		{filepath.Join(tk.allocDir, "alloc", "data", "out"), "a\n"},
		{filepath.Join(tk.taskDir, "secrets", "out"), "s\n"},
		{filepath.Join(tk.allocDir, "alloc", "tmp", "out"), "t\n"},
	} {
		b, err := os.ReadFile(c.path)
		if err != nil || string(b) != c.want {
			t.Errorf("host %s = %q, %v; want %q", c.path, b, err, c.want)
		}
	}
	for _, d := range []string{"data", "logs", "tmp"} {
		if !strings.Contains(tk.out(), d) {
			t.Errorf("/alloc inside lacks %s: %q", d, tk.out())
		}
	}
	// Nothing was written into the shared root itself.
	for _, p := range []string{"local/out", "secrets/out", "alloc/data/out"} {
		if _, err := os.Stat(filepath.Join(e.root, p)); err == nil {
			t.Errorf("%s landed in the root file system", p)
		}
	}
}

// Two tasks on the same Path never see each other's task directories.
func TestE2ESamePathIsolation(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	a := e.newTask("twin", e.shCfg("echo A > /local/a-marker; "+
		"echo A > /alloc/data/a-marker; echo A > /secrets/a-marker; "+
		"echo ready; "+loopForever), taskOpts{}).mustStart()
	a.expectOut("ready")
	b := e.newTask("twin", e.shCfg("echo B > /local/b-marker; "+
		"ls /local /alloc/data /secrets; echo done"),
		taskOpts{}).mustStart()
	expectExit(t, "task b", b.finish(), 0, 0)
	if strings.Contains(b.out(), "a-marker") {
		t.Errorf("task B sees task A's files: %q", b.out())
	}
	if !strings.Contains(b.out(), "b-marker") {
		t.Errorf("task B does not see its own file: %q", b.out())
	}
	if _, err := os.Stat(filepath.Join(a.taskDir, "local",
		"b-marker")); err == nil {
		t.Errorf("task B wrote into task A's /local")
	}
	for _, d := range []string{a.taskDir + "/local", a.taskDir + "/secrets",
		a.allocDir + "/alloc/data"} {
		if _, err := os.Stat(filepath.Join(d, "a-marker")); err != nil {
			t.Errorf("task A's marker missing in %s: %v", d, err)
		}
	}
	expectExit(t, "task a", a.stopAndDestroy(10*time.Second, "SIGKILL"),
		137, 9)
}

func TestE2EHostname(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, res := e.run("host", e.shCfg("hostname",
		"Host_hostname", "e2e-jail.example"), taskOpts{})
	expectExit(t, "hostname", res, 0, 0)
	if got := strings.TrimSpace(tk.out()); got != "e2e-jail.example" {
		t.Errorf("hostname inside = %q, want e2e-jail.example", got)
	}
	host, _ := os.Hostname()
	if host == "e2e-jail.example" {
		t.Errorf("the host's name changed")
	}
}

// The user comes from Exec_jail_user or from Nomad's task user.
func TestE2EUser(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	cases := []struct {
		name string
		cfg  map[string]any
		o    taskOpts
		want string
	}{
		{"default root", e.shCfg("id -u; id -g"), taskOpts{}, "0\n0\n"},
		{"Exec_jail_user", e.shCfg("id -u; id -g",
			"Exec_jail_user", "nobody"), taskOpts{}, "65534\n65534\n"},
		{"TaskConfig.user", e.shCfg("id -u; id -g"),
			taskOpts{User: "nobody"}, "65534\n65534\n"},
		{"command as nobody", map[string]any{"Path": e.root,
			"command": "/usr/bin/id", "args": []any{"-u"}},
			taskOpts{User: "nobody"}, "65534\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer e.sub(t)()
			tk, res := e.run("user", c.cfg, c.o)
			expectExit(t, c.name, res, 0, 0)
			if tk.out() != c.want {
				t.Errorf("id inside = %q, want %q (stderr %q)",
					tk.out(), c.want, tk.errOut())
			}
		})
	}
}

// Exec_clean: jail(8)'s clean environment (HOME, SHELL, USER, PATH and
// TERM), without the environment of the process that starts the jail.
func TestE2EExecClean(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, res := e.run("clean", map[string]any{"Path": e.root,
		"command": "/usr/bin/env", "Exec_clean": true}, taskOpts{})
	expectExit(t, "env", res, 0, 0)
	env := parseEnv(tk.out())
	for k, v := range map[string]string{"HOME": "/root", "USER": "root",
		"SHELL": "/bin/sh"} {
		if env[k] != v {
			t.Errorf("Exec_clean: %s = %q, want %q (env %v)", k, env[k],
				v, env)
		}
	}
	if _, ok := env["PATH"]; !ok {
		t.Errorf("Exec_clean: no PATH (jail(8) sets one): %v", env)
	}
	for k := range env {
		if strings.HasPrefix(k, "JTD_") || strings.HasPrefix(k, "PLUGIN_") {
			t.Errorf("Exec_clean leaked %s", k)
		}
	}
	t.Logf("Exec_clean environment: %v", env)
}

// Exec_consolelog gets stdout and stderr too, besides the FIFOs.
func TestE2EConsolelog(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	log := filepath.Join(e.dir, "console.log")
	tk, res := e.run("console", e.shCfg(
		"echo to-stdout; echo to-stderr >&2",
		"Exec_consolelog", log), taskOpts{})
	expectExit(t, "console", res, 0, 0)
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("Exec_consolelog %s: %v", log, err)
	}
	for _, w := range []string{"to-stdout", "to-stderr"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("consolelog %q lacks %q", b, w)
		}
	}
	if !strings.Contains(tk.out(), "to-stdout") ||
		!strings.Contains(tk.errOut(), "to-stderr") {
		t.Errorf("FIFOs: stdout %q stderr %q", tk.out(), tk.errOut())
	}
}

// command/args run without a shell: spaces, $VARS and globs arrive as
// they are; empty arguments are kept.
func TestE2ECommandArgsLiteral(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, res := e.run("literal", map[string]any{"Path": e.root,
		"command": "/usr/bin/printf",
		"args": []any{"[%s]\\n", "a b", "$HOME", "*", "", "'q'",
			"x;echo no"}}, taskOpts{})
	expectExit(t, "printf", res, 0, 0)
	want := "[a b]\n[$HOME]\n[*]\n[]\n['q']\n[x;echo no]\n"
	if tk.out() != want {
		t.Errorf("stdout = %q, want %q", tk.out(), want)
	}
}

// Exec_start lines run with /bin/sh -c, as jail(8) runs exec.start.
func TestE2EExecStartShell(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, res := e.run("shell", map[string]any{"Path": e.root,
		"Exec_start": "x=5; echo val=$x; echo piped | cat; exit 3"},
		taskOpts{})
	expectExit(t, "Exec_start", res, 3, 0)
	if tk.out() != "val=5\npiped\n" {
		t.Errorf("stdout = %q, want %q", tk.out(), "val=5\npiped\n")
	}
}

// Persist: the jail outlives its last process; the task ends only when
// stopped.
func TestE2EPersist(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("persist", e.shCfg("echo hi", "Persist", true),
		taskOpts{}).mustStart()
	tk.expectOut("hi")
	if !e.waitMainGone(tk, outputLimit) {
		t.Fatalf("the task's process never exited")
	}
	// The process is gone; the task (jail) is not.  Absence can only
	// be observed for a while: WaitTask must still be pending.
	if tk.waitedWithin(time.Second) {
		t.Fatalf("WaitTask returned though Persist keeps the jail")
	}
	ins, err := tk.inspect()
	if err != nil || ins.GetTask().GetState() != drivers.TaskState_RUNNING {
		t.Errorf("InspectTask of a persistent empty jail: %v %v", ins, err)
	}
	took, err := tk.stop(5*time.Second, "SIGTERM")
	if err != nil {
		t.Fatalf("StopTask: %v", err)
	}
	if took > 4*time.Second {
		t.Errorf("StopTask of an empty jail took %v", took)
	}
	res := tk.finish()
	t.Logf("persistent jail's exit: %v", res)
}

// 50 tasks at once: all start, all run, all stop, nothing remains.
func TestE2EFiftyTasks(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	const n = 50
	tasks := make([]*task, n)
	for i := range tasks {
		tasks[i] = e.newTask(fmt.Sprintf("t%02d", i), e.shCfg(
			"echo up; exec sleep 1000"), taskOpts{MemoryMB: 32})
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, tk := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = tk.start()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("StartTask %d of %d: %v", i, n, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, tk := range tasks {
		tk.expectOut("up")
	}
	for _, tk := range tasks {
		ins, err := tk.inspect()
		if err != nil || ins.GetTask().GetState() != drivers.TaskState_RUNNING {
			t.Errorf("%s not running: %v %v", tk.name, ins, err)
		}
	}
	times := make([]time.Duration, n)
	for i, tk := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			times[i], errs[i] = tk.stop(20*time.Second, "SIGTERM")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("StopTask %d: %v", i, err)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("StopTask of 50 tasks: median %v, max %v", times[n/2],
		times[n-1])
	for _, tk := range tasks {
		expectExit(t, tk.name, tk.finish(), 143, 15)
	}
}

// The task starts with no signal ignored or blocked: Nomad's own
// executors reset them, and a program that starts with a signal ignored
// may never see it (a shell cannot even trap it).  The plugin itself
// ignores SIGINT, so this is not a given.  Read on the host from the
// task's main process.
func TestE2ESignalDispositions(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("sigs", map[string]any{"Path": e.root,
		"command": "/bin/sleep", "args": []any{"1000"}},
		taskOpts{}).mustStart()
	pid := e.taskPid(tk)
	if pid == 0 {
		t.Fatalf("main pid unknown")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k != "SigIgn" && k != "SigBlk" {
			continue
		}
		if strings.Trim(strings.TrimSpace(v), "0") != "" {
			t.Errorf("the task (pid %d) starts with %s %s (want none)",
				pid, k, strings.TrimSpace(v))
		}
	}
	expectExit(t, "sleep", tk.stopAndDestroy(5*time.Second, "SIGTERM"),
		143, 15)
}

// StopTask runs Exec_stop inside the jail before the kill signal.
func TestE2EExecStop(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("hooked", e.shCfg("echo ready; exec sleep 1000",
		"Exec_stop", "echo stop-hook-ran > /alloc/data/stop-hook"),
		taskOpts{}).mustStart()
	tk.expectOut("ready")
	res := tk.stopAndDestroy(10*time.Second, "SIGTERM")
	expectExit(t, "stopped", res, 143, 15)
	b, err := os.ReadFile(filepath.Join(tk.allocDir, "alloc", "data",
		"stop-hook"))
	if err != nil || string(b) != "stop-hook-ran\n" {
		t.Errorf("Exec_stop did not run inside the jail: %q %v", b, err)
	}
}
