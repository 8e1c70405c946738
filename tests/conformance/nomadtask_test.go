package conformance

// A fake Nomad client for end-to-end tests: the allocation directory
// and task directories as Nomad's allocdir package lays them out, the
// log FIFOs with a reader like logmon's, the TaskConfig as
// buildTaskConfig fills it (protocol notes §4.3), and the calls the task
// runner makes (§4.2).

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"jtd/conformance/pb/drivers"
)

// Safety nets only: every wait below ends as soon as its condition
// holds; these bound a hung plugin so the test fails instead of hanging.
const (
	rpcLimit    = 30 * time.Second
	outputLimit = 30 * time.Second
	exitLimit   = 60 * time.Second
)

// fifoReader reads one log FIFO the way logmon does: mkfifo before the
// task starts, a blocking open for reading, read until end of file
// (every writer closed), then open again for the next writer.
type fifoReader struct {
	path string

	mu   sync.Mutex
	cond *sync.Cond
	buf  bytes.Buffer
	eofs int // times every writer had closed
	cur  *os.File
	stop bool
	done chan struct{}
}

func newFIFOReader(t testing.TB, path string) *fifoReader {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo %s: %v", path, err)
	}
	f := &fifoReader{path: path, done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	go f.loop()
	return f
}

func (f *fifoReader) loop() {
	defer close(f.done)
	chunk := make([]byte, 4096)
	for {
		f.mu.Lock()
		stop := f.stop
		f.mu.Unlock()
		if stop {
			return
		}

		file, err := os.OpenFile(f.path, os.O_RDONLY, 0)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.cur = file
		stop = f.stop
		f.mu.Unlock()
		for !stop {
			n, err := file.Read(chunk)
			f.mu.Lock()
			f.buf.Write(chunk[:n])
			if err != nil {
				f.eofs++
				stop = true
			}
			f.cond.Broadcast()
			f.mu.Unlock()
		}
		file.Close()
		f.mu.Lock()
		f.cur = nil
		f.mu.Unlock()
	}
}

func (f *fifoReader) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.String()
}

// waitCond waits until cond (called with f.mu held) holds or limit
// passes; it reports whether cond held.
func (f *fifoReader) waitCond(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	timer := time.AfterFunc(limit, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()

	f.mu.Lock()
	defer f.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		f.cond.Wait()
	}
	return true
}

// waitFor waits until the output contains s.
func (f *fifoReader) waitFor(s string, limit time.Duration) bool {
	return f.waitCond(limit, func() bool {
		return strings.Contains(f.buf.String(), s)
	})
}

// waitEOF waits until every writer has closed the FIFO n times in all.
func (f *fifoReader) waitEOF(n int, limit time.Duration) bool {
	return f.waitCond(limit, func() bool { return f.eofs >= n })
}

// close stops the reader: closing the file ends a blocked read, and an
// open for writing ends a blocked open.
func (f *fifoReader) close() {
	for range 100 {
		f.mu.Lock()
		f.stop = true
		if f.cur != nil {
			f.cur.Close()
		}
		f.mu.Unlock()
		if fd, err := syscall.Open(f.path,
			syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC,
			0); err == nil {
			syscall.Close(fd)
		}
		select {
		case <-f.done:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// taskOpts are the parts of the TaskConfig a test varies.
type taskOpts struct {
	User        string
	MemoryMB    int64 // default 256
	MemoryMaxMB int64
	CPU         int64 // MHz, default 100
	Env         map[string]string
	DevNullLogs bool // stdout/stderr_path = /dev/null (logs disabled)
}

// task is one task as the task runner holds it.
type task struct {
	e        *e2e
	name     string
	cfg      map[string]any
	tc       *drivers.TaskConfig
	allocDir string
	taskDir  string // <alloc_dir>/<name>
	stdout   *fifoReader
	stderr   *fifoReader

	handle    *drivers.TaskHandle
	waitCh    chan waitResult
	destroyed bool
	jail      string // the jail's name (state dir entry), once known
}

type waitResult struct {
	resp *drivers.WaitTaskResponse
	err  error
}

// newTask lays out a fresh allocation for task `name` and builds its
// TaskConfig, encoding cfg as Nomad's client does.  It starts nothing.
func (e *e2e) newTask(name string, cfg map[string]any, o taskOpts) *task {
	e.t.Helper()
	allocID := uuid()
	allocDir := filepath.Join(e.dir, "allocs", allocID)
	for _, d := range []string{"alloc/logs", "alloc/data", "alloc/tmp",
		name + "/local", name + "/secrets", name + "/private"} {
		if err := os.MkdirAll(filepath.Join(allocDir, d),
			0o777); err != nil {
			e.t.Fatal(err)
		}
	}
	// Nomad makes alloc/ and local/ world-writable for any task user
	// and keeps secrets/ private.
	for _, d := range []string{"alloc", "alloc/data", "alloc/tmp",
		name + "/local"} {
		if err := os.Chmod(filepath.Join(allocDir, d), 0o777); err != nil {
			e.t.Fatal(err)
		}
	}

	tk := &task{e: e, name: name, cfg: cfg, allocDir: allocDir,
		taskDir: filepath.Join(allocDir, name)}
	stdoutPath := filepath.Join(allocDir, "alloc", "logs",
		"."+name+".stdout.fifo")
	stderrPath := filepath.Join(allocDir, "alloc", "logs",
		"."+name+".stderr.fifo")
	if o.DevNullLogs {
		stdoutPath, stderrPath = "/dev/null", "/dev/null"
	} else {
		tk.stdout = newFIFOReader(e.t, stdoutPath)
		tk.stderr = newFIFOReader(e.t, stderrPath)
		e.fifos = append(e.fifos, tk.stdout, tk.stderr)
	}

	env := taskEnv(name)
	env["NOMAD_ALLOC_ID"] = allocID
	env["NOMAD_JOB_ID"] = "e2e"
	env["NOMAD_JOB_NAME"] = "e2e"
	env["NOMAD_ALLOC_NAME"] = "e2e.group[0]"
	env["NOMAD_ALLOC_INDEX"] = "0"
	env["NOMAD_CPU_LIMIT"] = "100"
	// Nomad passes the agent's environment on to non-image drivers.
	env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" +
		"/sbin:/bin"
	for k, v := range o.Env {
		env[k] = v
	}

	memMB, memMax, cpu := o.MemoryMB, o.MemoryMaxMB, o.CPU
	if memMB == 0 {
		memMB = 256
	}
	if cpu == 0 {
		cpu = 100
	}
	limit := max(memMB, memMax) << 20

	raw, err := EncodeTaskConfig(e.schema, cfg, env)
	if err != nil {
		e.t.Fatalf("Nomad would refuse config %v: %v", cfg, err)
	}
	tk.tc = &drivers.TaskConfig{
		Id:                  allocID + "/" + name + "/" + randHex(8),
		Name:                name,
		MsgpackDriverConfig: raw,
		Env:                 env,
		User:                o.User,
		Resources: &drivers.Resources{
			AllocatedResources: &drivers.AllocatedTaskResources{
				Cpu: &drivers.AllocatedCpuResources{CpuShares: cpu},
				Memory: &drivers.AllocatedMemoryResources{
					MemoryMb: memMB, MemoryMaxMb: memMax},
			},
			LinuxResources: &drivers.LinuxResources{
				CpuShares: cpu, MemoryLimitBytes: limit,
				PercentTicks: float64(cpu) / 4000,
			},
		},
		AllocDir:      allocDir,
		StdoutPath:    stdoutPath,
		StderrPath:    stderrPath,
		TaskGroupName: "group",
		JobName:       "e2e",
		JobId:         "e2e",
		AllocId:       allocID,
		Namespace:     "default",
		NodeName:      "test-node",
		NodeId:        e.nodeID,
	}
	e.mu.Lock()
	e.tasks = append(e.tasks, tk)
	e.mu.Unlock()
	return tk
}

// start calls StartTask; on success it keeps the handle, learns the
// task's processes for the leak check and starts a WaitTask.
func (tk *task) start() error {
	e := tk.e
	ctx, cancel := context.WithTimeout(context.Background(), rpcLimit)
	defer cancel()
	resp, err := e.h.Driver.StartTask(ctx,
		&drivers.StartTaskRequest{Task: tk.tc})
	if err != nil {
		// Whatever a failed start made must be gone.
		return err
	}
	if resp.GetHandle() == nil {
		e.t.Errorf("StartTask(%s) returned no handle", tk.name)
		return errors.New("no handle")
	}
	if got := resp.GetHandle().GetConfig().GetId(); got != tk.tc.GetId() {
		e.t.Errorf("StartTask handle.config.id = %q, want %q", got,
			tk.tc.GetId())
	}
	if v := resp.GetHandle().GetVersion(); v < 1 {
		e.t.Errorf("StartTask handle.version = %d; 0 is reserved", v)
	}
	tk.handle = storedHandle(resp.GetHandle())
	e.track(tk)
	tk.waitCh = tk.startWait()
	return nil
}

// mustStart is start, failing the test on error.
func (tk *task) mustStart() *task {
	tk.e.t.Helper()
	if err := tk.start(); err != nil {
		tk.e.t.Fatalf("StartTask(%s): %v", tk.name, err)
	}
	return tk
}

// storedHandle is the handle as Nomad gives it back in RecoverTask after
// its state DB round trip: TaskConfig fields 1-21 survive, 22 is lost.
func storedHandle(h *drivers.TaskHandle) *drivers.TaskHandle {
	c := proto.Clone(h).(*drivers.TaskHandle)
	if c.Config != nil {
		c.Config.ParentJobId = ""
	}
	return c
}

// startWait issues WaitTask on the current plugin in the background, as
// the task runner does right after StartTask / RecoverTask.
func (tk *task) startWait() chan waitResult {
	ch := make(chan waitResult, 1)
	ctx, cancel := context.WithCancel(context.Background())
	tk.e.t.Cleanup(cancel)
	drv := tk.e.h.Driver
	go func() {
		resp, err := drv.WaitTask(ctx,
			&drivers.WaitTaskRequest{TaskId: tk.tc.GetId()})
		ch <- waitResult{resp, err}
	}()
	return ch
}

// wait returns the task's ExitResult from the pending WaitTask.
func (tk *task) wait() *drivers.ExitResult {
	tk.e.t.Helper()
	select {
	case r := <-tk.waitCh:
		tk.waitCh = nil
		if r.err != nil {
			tk.e.t.Fatalf("WaitTask(%s): %v", tk.name, r.err)
		}
		if r.resp.GetResult() == nil {
			tk.e.t.Fatalf("WaitTask(%s) answered without a result "+
				"(Nomad's agent panics on that)", tk.name)
		}
		if r.resp.GetErr() != "" {
			tk.e.t.Logf("WaitTask(%s) err: %s", tk.name,
				r.resp.GetErr())
		}
		return r.resp.GetResult()
	case <-time.After(exitLimit):
		tk.e.t.Fatalf("WaitTask(%s) did not return within %v; "+
			"stdout %q stderr %q", tk.name, exitLimit, tk.out(),
			tk.errOut())
	}
	return nil
}

// waitedWithin reports whether the pending WaitTask has returned, without
// consuming it.
func (tk *task) waitedWithin(d time.Duration) bool {
	if d == 0 {
		select {
		case r := <-tk.waitCh:
			tk.waitCh = make(chan waitResult, 1)
			tk.waitCh <- r
			return true
		default:
			return false
		}
	}
	select {
	case r := <-tk.waitCh:
		tk.waitCh = make(chan waitResult, 1)
		tk.waitCh <- r
		return true
	case <-time.After(d):
		return false
	}
}

func (tk *task) out() string {
	if tk.stdout == nil {
		return ""
	}
	return tk.stdout.String()
}

func (tk *task) errOut() string {
	if tk.stderr == nil {
		return ""
	}
	return tk.stderr.String()
}

// expectOut waits until stdout contains s.
func (tk *task) expectOut(s string) {
	tk.e.t.Helper()
	if !tk.stdout.waitFor(s, outputLimit) {
		tk.e.t.Fatalf("task %s: stdout never contained %q; stdout %q "+
			"stderr %q", tk.name, s, tk.out(), tk.errOut())
	}
}

func (tk *task) stop(timeout time.Duration, sig string) (time.Duration,
	error) {
	ctx, cancel := context.WithTimeout(context.Background(),
		timeout+rpcLimit)
	defer cancel()
	t0 := time.Now()
	_, err := tk.e.h.Driver.StopTask(ctx, &drivers.StopTaskRequest{
		TaskId: tk.tc.GetId(), Timeout: durationpb.New(timeout),
		Signal: sig})
	return time.Since(t0), err
}

func (tk *task) destroy(force bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), rpcLimit)
	defer cancel()
	_, err := tk.e.h.Driver.DestroyTask(ctx, &drivers.DestroyTaskRequest{
		TaskId: tk.tc.GetId(), Force: force})
	if err == nil {
		tk.destroyed = true
	}
	return err
}

func (tk *task) signal(sig string) error {
	ctx, cancel := context.WithTimeout(context.Background(), rpcLimit)
	defer cancel()
	_, err := tk.e.h.Driver.SignalTask(ctx, &drivers.SignalTaskRequest{
		TaskId: tk.tc.GetId(), Signal: sig})
	return err
}

func (tk *task) inspect() (*drivers.InspectTaskResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcLimit)
	defer cancel()
	return tk.e.h.Driver.InspectTask(ctx,
		&drivers.InspectTaskRequest{TaskId: tk.tc.GetId()})
}

// recover does what a task runner does with a new plugin instance:
// TaskConfigSchema, Capabilities, RecoverTask(stored handle), WaitTask.
func (tk *task) recover() error {
	e := tk.e
	ctx, cancel := context.WithTimeout(context.Background(), rpcLimit)
	defer cancel()
	if _, err := e.h.Driver.TaskConfigSchema(ctx,
		&drivers.TaskConfigSchemaRequest{}); err != nil {
		return err
	}
	if _, err := e.h.Driver.Capabilities(ctx,
		&drivers.CapabilitiesRequest{}); err != nil {
		return err
	}
	if _, err := e.h.Driver.RecoverTask(ctx, &drivers.RecoverTaskRequest{
		Handle: tk.handle}); err != nil {
		return err
	}
	tk.waitCh = tk.startWait()
	return nil
}

// finish is Nomad's normal end of a task that has exited by itself:
// the WaitTask result, then DestroyTask(force).
func (tk *task) finish() *drivers.ExitResult {
	tk.e.t.Helper()
	res := tk.wait()
	if err := tk.destroy(true); err != nil {
		tk.e.t.Errorf("DestroyTask(%s) after exit: %v", tk.name, err)
	}
	return res
}

// stopAndDestroy is Nomad's kill path: StopTask, WaitTask, DestroyTask.
func (tk *task) stopAndDestroy(timeout time.Duration,
	sig string) *drivers.ExitResult {
	tk.e.t.Helper()
	if _, err := tk.stop(timeout, sig); err != nil {
		tk.e.t.Errorf("StopTask(%s): %v", tk.name, err)
	}
	return tk.finish()
}

// run starts a task that exits by itself and returns its result after
// DestroyTask.
func (e *e2e) run(name string, cfg map[string]any,
	o taskOpts) (*task, *drivers.ExitResult) {
	e.t.Helper()
	tk := e.newTask(name, cfg, o).mustStart()
	return tk, tk.finish()
}

// expectExit checks an ExitResult against exit code and signal.
func expectExit(t testing.TB, what string, r *drivers.ExitResult,
	code, sig int32) {
	t.Helper()
	if r.GetExitCode() != code || r.GetSignal() != sig {
		t.Errorf("%s: exit code %d signal %d (oom %v), want code %d "+
			"signal %d", what, r.GetExitCode(), r.GetSignal(),
			r.GetOomKilled(), code, sig)
	}
}

// shCfg is a task config running a sh script via command/args, in the
// test's busybox root.
func (e *e2e) shCfg(script string, kv ...any) map[string]any {
	cfg := map[string]any{"Path": e.root, "command": "/bin/sh",
		"args": []any{"-c", script}}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i].(string)] = kv[i+1]
	}
	return cfg
}

// loopForever is a task body that stays up until killed, reacting to
// trapped signals at once (wait is interrupted by them).
const loopForever = `while :; do sleep 1000 & p=$!; wait $p; ` +
	`kill $p 2>/dev/null; done`
