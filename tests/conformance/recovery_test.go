package conformance

// No task is lost: SIGKILL the plugin while a task is starting, running
// or stopping, or let a task exit while no plugin runs; a new plugin
// instance with the same state_dir gets RecoverTask(handle) as Nomad
// sends it and must reattach (not recreate) and report the right exit.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"jtd/conformance/pb/drivers"
)

// deadWait collects the WaitTask the dying plugin had pending: Nomad
// sees it fail and starts recovery.
func deadWait(t *testing.T, tk *task) {
	t.Helper()
	select {
	case r := <-tk.waitCh:
		if r.err == nil {
			t.Errorf("WaitTask on the killed plugin returned %v, want "+
				"an error", r.resp)
		}
	case <-time.After(rpcLimit):
		t.Errorf("WaitTask on the killed plugin never returned")
	}
	tk.waitCh = nil
}

func pidAlive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

func TestE2EPluginKilledWhileRunning(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("survivor", e.shCfg(
		"trap 'echo got-usr1' USR1; echo ready; "+loopForever),
		taskOpts{}).mustStart()
	tk.expectOut("ready")
	pid := e.taskPid(tk)
	_, _, mainBefore := e.taskPids(tk.jail)

	e.killPlugin()
	deadWait(t, tk)
	if pid != 0 && !pidAlive(pid) {
		t.Fatalf("the task (pid %d) died with the plugin", pid)
	}

	e.launchPlugin()
	if err := tk.recover(); err != nil {
		t.Fatalf("RecoverTask on a new plugin: %v", err)
	}
	ins, err := tk.inspect()
	if err != nil || ins.GetTask().GetState() != drivers.TaskState_RUNNING {
		t.Errorf("InspectTask after recovery: %v %v", ins, err)
	}
	if _, _, mainAfter := e.taskPids(tk.jail); mainAfter != mainBefore {
		t.Errorf("main pid %d became %d: the task was recreated, not "+
			"reattached", mainBefore, mainAfter)
	}
	// Recovering twice (Nomad may) is harmless.
	if err := tk.recover(); err != nil {
		t.Errorf("second RecoverTask: %v", err)
	}
	if err := tk.signal("SIGUSR1"); err != nil {
		t.Fatalf("SignalTask after recovery: %v", err)
	}
	tk.expectOut("got-usr1")
	expectExit(t, "stopped after recovery",
		tk.stopAndDestroy(10*time.Second, "SIGTERM"), 143, 15)
}

func TestE2EPluginKilledWhileStopping(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("stopping", e.shCfg(trapTerm), taskOpts{}).mustStart()
	tk.expectOut("ready")

	stopErr := make(chan error, 1)
	go func() {
		_, err := tk.stop(60*time.Second, "SIGTERM")
		stopErr <- err
	}()
	tk.expectOut("got-term") // the stop is under way
	e.killPlugin()
	select {
	case err := <-stopErr:
		if err == nil {
			t.Errorf("StopTask returned OK from a killed plugin")
		}
	case <-time.After(rpcLimit):
		t.Fatalf("StopTask on the killed plugin never returned")
	}
	deadWait(t, tk)

	e.launchPlugin()
	if err := tk.recover(); err != nil {
		t.Fatalf("RecoverTask during a stop: %v", err)
	}
	ins, err := tk.inspect()
	if err != nil || ins.GetTask().GetState() != drivers.TaskState_RUNNING {
		t.Errorf("InspectTask after recovery (the task ignores "+
			"SIGTERM, so it still runs): %v %v", ins, err)
	}
	// Nomad retries the kill on the new instance.
	const timeout = 2 * time.Second
	took, err := tk.stop(timeout, "SIGTERM")
	if err != nil {
		t.Fatalf("StopTask after recovery: %v", err)
	}
	if took < timeout-100*time.Millisecond {
		t.Errorf("StopTask returned after %v, before its timeout", took)
	}
	expectExit(t, "killed after recovery", tk.finish(), 137, 9)
}

// The task exits (code 7) while no plugin runs; the next plugin still
// reports 7.
func TestE2ETaskExitsWhilePluginDown(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk := e.newTask("orphan", e.shCfg(
		"echo ready; read x < /alloc/data/go; echo got-$x; exit 7"),
		taskOpts{})
	gate := filepath.Join(tk.allocDir, "alloc", "data", "go")
	if err := syscall.Mkfifo(gate, 0o666); err != nil {
		t.Fatal(err)
	}
	tk.mustStart()
	tk.expectOut("ready")
	e.killPlugin()
	deadWait(t, tk)

	opened := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(gate, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("go\n")
			f.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(outputLimit):
		// Unblock the open so the goroutine ends.
		if fd, err := syscall.Open(gate, syscall.O_RDONLY|
			syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
		t.Fatalf("the task never opened /alloc/data/go")
	}
	tk.expectOut("got-go")
	if !e.waitMainGone(tk, exitLimit) {
		t.Fatalf("the task never exited")
	}

	e.launchPlugin()
	if err := tk.recover(); err != nil {
		t.Fatalf("RecoverTask of a task that exited meanwhile: %v", err)
	}
	expectExit(t, "exit while no plugin ran", tk.wait(), 7, 0)
	tk.waitCh = tk.startWait()
	expectExit(t, "WaitTask again", tk.wait(), 7, 0)
	ins, err := tk.inspect()
	if err != nil || ins.GetTask().GetState() != drivers.TaskState_EXITED {
		t.Errorf("InspectTask: %v %v", ins, err)
	}
	if err := tk.destroy(false); err != nil {
		t.Errorf("DestroyTask: %v", err)
	}
}

// readLine opens a FIFO for reading and returns its first line, or fails
// after limit.
func readLine(t *testing.T, path string, limit time.Duration) string {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			ch <- "open: " + err.Error()
			return
		}
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		ch <- strings.TrimSpace(line)
	}()
	select {
	case s := <-ch:
		return s
	case <-time.After(limit):
		// End the blocked open.
		if fd, err := syscall.Open(path, syscall.O_WRONLY|
			syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
		t.Fatalf("nothing arrived on %s within %v", path, limit)
	}
	return ""
}

// SIGKILL while StartTask is in progress (a host hook is running): the
// start fails; a new plugin removes what the interrupted start left,
// and keeps the task that had started (its handle is recovered).
func TestE2EPluginKilledWhileStarting(t *testing.T) {
	t.Parallel()
	e := newE2E(t, map[string]any{"allow_host_hooks": true})
	sib := e.newTask("sibling", e.shCfg(
		"trap 'echo got-usr1' USR1; echo ready; "+loopForever),
		taskOpts{}).mustStart()
	sib.expectOut("ready")

	sync := filepath.Join(e.dir, "sync.fifo")
	if err := syscall.Mkfifo(sync, 0o600); err != nil {
		t.Fatal(err)
	}
	bb := filepath.Join(e.root, "bin", "busybox")
	tk := e.newTask("starting", map[string]any{"Path": e.root,
		"command": "/bin/sleep", "args": []any{"1000"},
		"Exec_prestart": fmt.Sprintf("echo started > %s; exec %s sleep 1000",
			sync, bb)}, taskOpts{})
	startErr := make(chan error, 1)
	go func() { startErr <- tk.start() }()
	if got := readLine(t, sync, outputLimit); got != "started" {
		t.Fatalf("Exec_prestart hook: %q", got)
	}
	e.killPlugin()
	select {
	case err := <-startErr:
		if err == nil {
			t.Fatalf("StartTask succeeded on a killed plugin")
		}
		t.Logf("interrupted StartTask: %v", err)
	case <-time.After(rpcLimit):
		t.Fatalf("StartTask on the killed plugin never returned")
	}
	deadWait(t, sib)

	e.launchPlugin()
	if err := sib.recover(); err != nil {
		t.Fatalf("RecoverTask of the running sibling: %v", err)
	}

	// Nothing signals the end of the new plugin's clean-up, so its
	// result is polled for, within a bound.
	leftovers := func() []string {
		var out []string
		for _, n := range e.stateTasks() {
			if n != sib.jail {
				out = append(out, "state entry "+n)
			}
		}
		for _, p := range e.leakedProcs() {
			if (sib.jail == "" || !strings.Contains(p.why, sib.jail)) &&
				!strings.Contains(p.why, sib.allocDir) {
				out = append(out, "process "+p.desc+": "+p.why)
			}
		}
		return out
	}
	deadline := time.Now().Add(20 * time.Second)
	for left := leftovers(); len(left) > 0; left = leftovers() {
		if time.Now().After(deadline) {
			t.Errorf("the new plugin left the interrupted start's "+
				"leftovers: %v", left)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The claimed task was not touched.
	if err := sib.signal("SIGUSR1"); err != nil {
		t.Fatalf("SignalTask to the recovered sibling: %v", err)
	}
	sib.expectOut("got-usr1")
	expectExit(t, "sibling", sib.stopAndDestroy(10*time.Second, "SIGTERM"),
		143, 15)
}
