package conformance

// The end-to-end environment: a plugin launched through go-plugin as
// Nomad launches it, configured with a private state_dir and a busybox
// root under the test's temporary directory, a TaskEvents collector,
// and a leak check when the test ends (leak_test.go).

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"jtd/conformance/pb/drivers"
	"jtd/conformance/pb/hclspec"
)

type e2e struct {
	t      *testing.T
	top    *testing.T
	dir    string // everything of this test lives below it
	root   string // the busybox root file system
	state  string // the plugin's state_dir
	policy map[string]any
	nodeID string

	h         *harness
	harnesses []*harness // closed (killed, stderr checked) at the end
	schema    *hclspec.Spec
	pids      []int // every plugin process this test started
	fdBase    int   // the current plugin's descriptor count at rest

	mu     sync.Mutex
	tasks  []*task
	fifos  []*fifoReader
	events []*drivers.DriverTaskEvent
	lk     leakTracker
}

// requireRoot skips e2e tests on an unprivileged run: jails need root.
// CI runs as root, so there they always run.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end task tests need root (namespaces, " +
			"cgroups, mounts); run the suite as root")
	}
}

// newE2E prepares a test directory, a busybox root and a plugin with
// state_dir and allowed_paths inside the test directory; extra plugin
// options come from policy.
func newE2E(t *testing.T, policy map[string]any) *e2e {
	t.Helper()
	requireRoot(t)
	e := &e2e{t: t, top: t, dir: t.TempDir(), nodeID: uuid()}
	// t.TempDir is 0700; jails running as nobody need to reach their
	// allocation directories on the host side too.
	if err := os.Chmod(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.root = makeRootfs(t, filepath.Join(e.dir, "rootfs"))
	e.state = filepath.Join(e.dir, "state")
	e.policy = map[string]any{"allowed_paths": []any{e.dir},
		"state_dir": e.state}
	for k, v := range policy {
		e.policy[k] = v
	}
	e.lk.init(t)

	// Cleanups run last-registered first: this one runs before the
	// temporary directory is removed; it closes the plugins itself,
	// after the leak check.
	t.Cleanup(e.end)
	e.launchPlugin()
	return e
}

// launchPlugin starts a plugin instance as the long-lived Nomad
// instance: SetConfig with nomad_config, then the TaskEvents stream.
func (e *e2e) launchPlugin() {
	e.t.Helper()
	h := newHarness(e.t, pluginEnv(e.t)...)
	e.harnesses = append(e.harnesses, h)
	h.connect()
	if err := h.setConfig(e.policy, nomadConfig()); err != nil {
		e.t.Fatalf("SetConfig(%v): %v", e.policy, err)
	}
	e.h = h
	e.schema = h.taskSchema()
	pid := h.client.ReattachConfig().Pid
	e.pids = append(e.pids, pid)
	e.collectEvents()
	e.warmUp()
	e.fdBase = countFDs(pid)
}

// warmUp runs one short task through the whole lifecycle before the
// descriptor baseline is taken, so that what the plugin opens once for
// good on its first task (libuv's signal pipe for SIGCHLD, ...) is not
// counted as a leak of the tests' tasks.  A failure here is only
// logged: the tests themselves then fail with the details.
func (e *e2e) warmUp() {
	e.h.alive()
	tk := e.newTask("warmup", map[string]any{"Path": e.root,
		"command": "/bin/sleep", "args": []any{"1000"}}, taskOpts{})
	if err := tk.start(); err != nil {
		e.t.Logf("warm-up task did not start: %v", err)
		return
	}
	if _, err := tk.stop(5*time.Second, "SIGKILL"); err != nil {
		e.t.Logf("warm-up StopTask: %v", err)
	}
	select {
	case <-tk.waitCh:
		tk.waitCh = nil
	case <-time.After(exitLimit):
		e.t.Logf("warm-up task did not end")
	}
	if err := tk.destroy(true); err != nil {
		e.t.Logf("warm-up DestroyTask: %v", err)
	}
}

// sub points the environment at subtest t (tasks, failures, cleanups)
// and returns the function that points it back.
func (e *e2e) sub(t *testing.T) func() {
	e.t = t
	e.h.t = t
	return func() {
		e.t = e.top
		e.h.t = e.top
	}
}

// pluginEnv: trace logging, and the shim's location when the build
// tree does not have it beside the plugin as an installation does
// ($JTD_SHIM, else <bindir>/shim/jail-task-shim).
func pluginEnv(t testing.TB) []string {
	env := []string{"JTD_LOG_LEVEL=trace"}
	bin := binaryPath(t)
	shim := os.Getenv("JTD_SHIM")
	if shim == "" {
		dir := filepath.Dir(bin)
		if _, err := os.Stat(filepath.Join(dir,
			"jail-task-shim")); err != nil {
			shim = filepath.Join(dir, "shim", "jail-task-shim")
		}
	}
	if shim != "" {
		env = append(env, "JTD_SHIM="+shim)
	}
	return env
}

// pluginPid is the running plugin's pid.
func (e *e2e) pluginPid() int {
	return e.h.client.ReattachConfig().Pid
}

// killPlugin SIGKILLs the plugin process, as a crash would, and waits
// until go-plugin has seen it die.
func (e *e2e) killPlugin() {
	e.t.Helper()
	pid := e.pluginPid()
	e.h.killed = true
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		e.t.Fatalf("kill plugin %d: %v", pid, err)
	}
	deadline := time.Now().Add(rpcLimit)
	for !e.h.client.Exited() {
		if time.Now().After(deadline) {
			e.t.Fatalf("plugin %d still running after SIGKILL", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collectEvents keeps a TaskEvents stream open on the current plugin, as
// the agent does, and records every event.
func (e *e2e) collectEvents() {
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	stream, err := e.h.Driver.TaskEvents(ctx, &drivers.TaskEventsRequest{})
	if err != nil {
		e.t.Fatalf("TaskEvents: %v", err)
	}
	go func() {
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}
	}()
}

// checkEvents: every driver event must route to one of our tasks, by
// alloc_id and task_name as Nomad routes them.
func (e *e2e) checkEvents() {
	e.mu.Lock()
	defer e.mu.Unlock()
	byID := map[string]*task{}
	for _, tk := range e.tasks {
		byID[tk.tc.GetId()] = tk
	}
	for _, ev := range e.events {
		tk := byID[ev.GetTaskId()]
		if tk == nil {
			e.t.Errorf("TaskEvents: event for unknown task %q: %v",
				ev.GetTaskId(), ev)
			continue
		}
		if ev.GetAllocId() != tk.tc.GetAllocId() ||
			ev.GetTaskName() != tk.name {
			e.t.Errorf("TaskEvents: event %v does not route to "+
				"alloc %s task %s", ev, tk.tc.GetAllocId(), tk.name)
		}
		if ev.GetTimestamp() == nil || ev.GetMessage() == "" {
			e.t.Errorf("TaskEvents: event without timestamp or "+
				"message: %v", ev)
		}
	}
}

// end runs when the test ends, passed or failed: Nomad's own clean-up
// for tasks the test left (DestroyTask force), then the leak check,
// then a forced removal of whatever leaked so nothing outlives the test.
func (e *e2e) end() {
	e.mu.Lock()
	tasks := append([]*task(nil), e.tasks...)
	e.mu.Unlock()
	plugin := e.h != nil && e.h.pluginClients != nil &&
		!e.h.client.Exited()
	for _, tk := range tasks {
		if tk.handle != nil && !tk.destroyed && plugin {
			if err := tk.destroy(true); err != nil {
				e.t.Logf("clean-up DestroyTask(%s): %v", tk.name, err)
			}
		}
	}
	if !e.t.Failed() {
		e.checkEvents()
	}
	e.checkLeaks(e.t, plugin)
	e.lk.forceCleanup(e.t, e)
	for _, h := range e.harnesses {
		h.close()
	}
	for _, f := range e.fifos {
		f.close()
	}
}

// stateTasks lists the jail names under <state_dir>/tasks.
func (e *e2e) stateTasks() []string {
	ents, err := os.ReadDir(filepath.Join(e.state, "tasks"))
	if err != nil {
		return nil
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

// stateFile reads one file of a task's state directory.
func (e *e2e) stateFile(jail, name string) string {
	b, err := os.ReadFile(filepath.Join(e.state, "tasks", jail, name))
	if err != nil {
		return ""
	}
	return string(b)
}

// jailOf finds the state directory entry of a task: the one whose
// `task` file names its TaskConfig id.
func (e *e2e) jailOf(tk *task) string {
	for _, n := range e.stateTasks() {
		if strings.Contains(e.stateFile(n, "task"), tk.tc.GetId()) {
			return n
		}
	}
	return ""
}

// taskPids parses the `pids` file: shim, init and main pids (0 if
// unknown).
func (e *e2e) taskPids(jail string) (shim, init, main int) {
	for _, line := range strings.Split(e.stateFile(jail, "pids"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		var n int
		for _, c := range f[1] {
			if c < '0' || c > '9' {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n <= 0 {
			continue
		}
		switch f[0] {
		case "shim":
			shim = n
		case "init":
			init = n
		case "main":
			main = n
		}
	}
	return
}
