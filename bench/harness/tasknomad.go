package main

// The plugin side of `harness tasks`: a fake Nomad client that launches
// the plugin as Nomad does, configures it with SetConfig (cty msgpack
// of the plugin config, a private state_dir and allowed_paths), lays
// out allocation and task directories with the log FIFOs as Nomad's
// allocdir and logmon do, and drives StartTask, WaitTask, StopTask and
// DestroyTask.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"jtd/bench/pb/base"
	"jtd/bench/pb/drivers"
	"jtd/bench/pb/hclspec"
)

// rpcLimit bounds every task RPC; a plugin that hangs fails the run.
const rpcLimit = 30 * time.Second

type nomadSide struct {
	p        *Plugin
	c        *Conn
	version  string
	taskSpec *hclspec.Spec
	work     string // allocation directories live below
	state    string // the plugin's state_dir
	nodeID   string
	streams  []*Stream

	mu   sync.Mutex
	live map[string]*nomadTask
	seq  int
	seen map[string]bool // jail names met in the state directory
}

type nomadTask struct {
	name     string
	allocDir string
	tc       *drivers.TaskConfig
	stdout   *outReader
	stderr   *outReader
	started  bool
	waitCh   chan waitRes
	cancel   context.CancelFunc
}

type waitRes struct {
	resp *drivers.WaitTaskResponse
	err  error
	at   time.Time
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" +
		h[20:32]
}

// rpc returns a context for one call: cancelled after rpcLimit, with
// no deadline on the wire (Nomad sends none on driver calls).
func (n *nomadSide) rpc() (context.Context, context.CancelFunc) {
	return n.c.watchdog(rpcLimit)
}

// startNomad launches the plugin and brings it to the state a Nomad
// client's long-lived instance is in: host streams, PluginInfo,
// ConfigSchema, SetConfig, TaskConfigSchema, Capabilities, and the
// Fingerprint and TaskEvents streams open.
func startNomad(t Target, work, state string,
	allowed []string) (*nomadSide, error) {
	p, err := Launch(t)
	if err != nil {
		return nil, err
	}
	n := &nomadSide{p: p, work: work, state: state, nodeID: uuid(),
		live: map[string]*nomadTask{}, seen: map[string]bool{}}
	fail := func(what string, err error) (*nomadSide, error) {
		note := p.stderrNote()
		n.close()
		return nil, fmt.Errorf("%s: %w%s", what, err, note)
	}
	if n.c, err = Dial(p); err != nil {
		return fail("dial", err)
	}
	if err := n.c.OpenHostStreams(); err != nil {
		return fail("host streams", err)
	}

	ctx, cancel := n.rpc()
	defer cancel()
	info, err := n.c.Base.PluginInfo(ctx, &base.PluginInfoRequest{})
	if err != nil {
		return fail("PluginInfo", err)
	}
	for _, v := range info.GetPluginApiVersions() {
		if v == "0.1.0" || n.version == "" {
			n.version = v
		}
	}
	cs, err := n.c.Base.ConfigSchema(ctx, &base.ConfigSchemaRequest{})
	if err != nil {
		return fail("ConfigSchema", err)
	}
	al := make([]any, len(allowed))
	for i, a := range allowed {
		al[i] = a
	}
	raw, err := encodeLikeNomad(cs.GetSpec(), map[string]any{
		"state_dir": state, "allowed_paths": al}, nil)
	if err != nil {
		return fail("encoding the plugin config as Nomad does", err)
	}
	if _, err := n.c.Base.SetConfig(ctx, &base.SetConfigRequest{
		MsgpackConfig: raw, PluginApiVersion: n.version,
		NomadConfig: &base.NomadConfig{Driver: &base.NomadDriverConfig{
			ClientMinPort: 14000, ClientMaxPort: 14512}},
	}); err != nil {
		return fail("SetConfig", err)
	}
	ts, err := n.c.Driver.TaskConfigSchema(ctx,
		&drivers.TaskConfigSchemaRequest{})
	if err != nil {
		return fail("TaskConfigSchema", err)
	}
	n.taskSpec = ts.GetSpec()
	if _, err := n.c.Driver.Capabilities(ctx,
		&drivers.CapabilitiesRequest{}); err != nil {
		return fail("Capabilities", err)
	}
	fp, err := n.c.OpenFingerprint()
	if err != nil {
		return fail("Fingerprint", err)
	}
	te, err := n.c.OpenTaskEvents()
	if err != nil {
		return fail("TaskEvents", err)
	}
	n.streams = []*Stream{fp, te}
	return n, nil
}

// newTask lays out a fresh allocation for one task (Nomad's allocdir
// layout, FIFOs read like logmon) and builds its TaskConfig, encoding
// cfg as Nomad's client does. It starts nothing.
func (n *nomadSide) newTask(cfg map[string]any) (*nomadTask, error) {
	n.mu.Lock()
	n.seq++
	name := fmt.Sprintf("t%d", n.seq)
	n.mu.Unlock()

	allocID := uuid()
	allocDir := filepath.Join(n.work, "allocs", allocID)
	for _, d := range []string{"alloc/logs", "alloc/data", "alloc/tmp",
		name + "/local", name + "/secrets", name + "/private"} {
		if err := os.MkdirAll(filepath.Join(allocDir, d),
			0o777); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"alloc", "alloc/data", "alloc/tmp",
		name + "/local"} {
		os.Chmod(filepath.Join(allocDir, d), 0o777)
	}

	env := map[string]string{
		"NOMAD_TASK_NAME": name, "NOMAD_TASK_DIR": "/local",
		"NOMAD_ALLOC_DIR": "/alloc", "NOMAD_SECRETS_DIR": "/secrets",
		"NOMAD_ALLOC_ID": allocID, "NOMAD_JOB_ID": "bench",
		"NOMAD_JOB_NAME": "bench", "NOMAD_GROUP_NAME": "group",
		"NOMAD_ALLOC_NAME": "bench.group[0]", "NOMAD_ALLOC_INDEX": "0",
		"NOMAD_NAMESPACE": "default", "NOMAD_REGION": "global",
		"NOMAD_DC": "dc1", "NOMAD_CPU_LIMIT": "100",
		"NOMAD_MEMORY_LIMIT": "256",
		"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" +
			"/sbin:/bin",
	}
	raw, err := encodeLikeNomad(n.taskSpec, cfg, env)
	if err != nil {
		os.RemoveAll(allocDir)
		return nil, fmt.Errorf("Nomad would refuse the task config: %w",
			err)
	}

	tk := &nomadTask{name: name, allocDir: allocDir}
	logs := filepath.Join(allocDir, "alloc", "logs")
	out := filepath.Join(logs, "."+name+".stdout.fifo")
	errp := filepath.Join(logs, "."+name+".stderr.fifo")
	if tk.stdout, err = readFIFO(out); err != nil {
		os.RemoveAll(allocDir)
		return nil, err
	}
	if tk.stderr, err = readFIFO(errp); err != nil {
		tk.stdout.close()
		os.RemoveAll(allocDir)
		return nil, err
	}
	const memMB, cpu = 256, 100
	tk.tc = &drivers.TaskConfig{
		Id:                  allocID + "/" + name + "/" + randHex(4),
		Name:                name,
		MsgpackDriverConfig: raw,
		Env:                 env,
		Resources: &drivers.Resources{
			AllocatedResources: &drivers.AllocatedTaskResources{
				Cpu: &drivers.AllocatedCpuResources{CpuShares: cpu},
				Memory: &drivers.AllocatedMemoryResources{
					MemoryMb: memMB},
			},
			LinuxResources: &drivers.LinuxResources{
				CpuShares: cpu, MemoryLimitBytes: memMB << 20,
				PercentTicks: float64(cpu) / 4000,
			},
		},
		AllocDir:      allocDir,
		StdoutPath:    out,
		StderrPath:    errp,
		TaskGroupName: "group",
		JobName:       "bench",
		JobId:         "bench",
		AllocId:       allocID,
		Namespace:     "default",
		NodeName:      "bench-node",
		NodeId:        n.nodeID,
	}
	n.mu.Lock()
	n.live[tk.tc.Id] = tk
	n.mu.Unlock()
	return tk, nil
}

// start calls StartTask and, once it answered, issues WaitTask in the
// background as Nomad's task runner does. It returns the moment just
// before the request was sent and the moment the reply arrived.
func (n *nomadSide) start(tk *nomadTask) (time.Time, time.Time, error) {
	ctx, cancel := n.rpc()
	defer cancel()
	t0 := time.Now()
	resp, err := n.c.Driver.StartTask(ctx,
		&drivers.StartTaskRequest{Task: tk.tc})
	t1 := time.Now()
	if err != nil {
		return t0, t1, fmt.Errorf("StartTask: %w", err)
	}
	if resp.GetHandle() == nil {
		return t0, t1, fmt.Errorf("StartTask: no handle (result %v: %s)",
			resp.GetResult(), resp.GetDriverErrorMsg())
	}
	tk.started = true
	wctx, wcancel := context.WithCancel(n.c.ctx)
	tk.cancel = wcancel
	tk.waitCh = make(chan waitRes, 1)
	go func() {
		r, err := n.c.Driver.WaitTask(wctx,
			&drivers.WaitTaskRequest{TaskId: tk.tc.Id})
		tk.waitCh <- waitRes{resp: r, err: err, at: time.Now()}
	}()
	return t0, t1, nil
}

// wait returns WaitTask's answer.
func (tk *nomadTask) wait(limit time.Duration) (waitRes, error) {
	select {
	case r := <-tk.waitCh:
		tk.waitCh = nil
		if r.err != nil {
			return r, fmt.Errorf("WaitTask: %w", r.err)
		}
		if r.resp.GetResult() == nil {
			return r, errors.New("WaitTask answered without a result")
		}
		return r, nil
	case <-time.After(limit):
		return waitRes{}, fmt.Errorf("WaitTask did not answer within %v",
			limit)
	}
}

func (n *nomadSide) stop(tk *nomadTask, timeout time.Duration,
	sig string) error {
	ctx, cancel := n.c.watchdog(timeout + rpcLimit)
	defer cancel()
	_, err := n.c.Driver.StopTask(ctx, &drivers.StopTaskRequest{
		TaskId: tk.tc.Id, Timeout: durationpb.New(timeout), Signal: sig})
	if err != nil {
		return fmt.Errorf("StopTask: %w", err)
	}
	return nil
}

// destroy is DestroyTask(force) for a started task, then the harness's
// own clean-up of the allocation.
func (n *nomadSide) destroy(tk *nomadTask) error {
	var err error
	if tk.started {
		ctx, cancel := n.rpc()
		_, err = n.c.Driver.DestroyTask(ctx, &drivers.DestroyTaskRequest{
			TaskId: tk.tc.Id, Force: true})
		cancel()
		if err != nil {
			err = fmt.Errorf("DestroyTask: %w", err)
		} else {
			tk.started = false
		}
	}
	if tk.cancel != nil {
		tk.cancel()
	}
	if err == nil {
		n.forget(tk)
	}
	return err
}

// forget releases the harness's side of a task that is gone.
func (n *nomadSide) forget(tk *nomadTask) {
	tk.stdout.close()
	tk.stderr.close()
	os.RemoveAll(tk.allocDir)
	n.mu.Lock()
	delete(n.live, tk.tc.Id)
	n.mu.Unlock()
}

// jails maps TaskConfig ids to their directory under
// <state_dir>/tasks (the `task` file names the id).
func (n *nomadSide) jails() map[string]string {
	out := map[string]string{}
	dir := filepath.Join(n.state, "tasks")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	n.mu.Lock()
	ids := make([]string, 0, len(n.live))
	for id := range n.live {
		ids = append(ids, id)
	}
	n.mu.Unlock()
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "task"))
		if err != nil {
			continue
		}
		for _, id := range ids {
			if strings.Contains(string(b), id) {
				out[id] = filepath.Join(dir, e.Name())
			}
		}
	}
	n.mu.Lock()
	for _, d := range out {
		n.seen[filepath.Base(d)] = true
	}
	n.mu.Unlock()
	return out
}

// leftCgroups lists (and removes) the cgroups of this run's jails that
// outlived their tasks: the driver makes one per jail below a
// "jail-task-driver" group in every hierarchy it uses.
func (n *nomadSide) leftCgroups() []string {
	var out []string
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, parent := range cgroupDirs("jail-task-driver") {
		for name := range n.seen {
			d := filepath.Join(parent, name)
			if _, err := os.Stat(d); err == nil {
				out = append(out, "cgroup "+d)
				removeCgroupTree(d)
			}
		}
	}
	return out
}

// taskPids reads the shim, init and main pids a task's `pids` file
// names (0 where absent).
func taskPids(jailDir string) (shim, init, main int) {
	b, _ := os.ReadFile(filepath.Join(jailDir, "pids"))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.Atoi(f[1])
		if err != nil || v <= 0 {
			continue
		}
		switch f[0] {
		case "shim":
			shim = v
		case "init":
			init = v
		case "main":
			main = v
		}
	}
	return
}

// teardown destroys every task still known (DestroyTask with force
// while the plugin answers; otherwise SIGKILL to the pids their state
// directories name), then stops the plugin. It returns what it had to
// clean up.
func (n *nomadSide) teardown() []string {
	var left []string
	n.mu.Lock()
	all := make([]*nomadTask, 0, len(n.live))
	for _, tk := range n.live {
		all = append(all, tk)
	}
	n.mu.Unlock()
	jails := n.jails()
	for _, tk := range all {
		if !tk.started {
			n.forget(tk)
			continue
		}
		left = append(left, "task "+tk.tc.Id)
		if n.p.Exited() || n.destroy(tk) != nil {
			if d, ok := jails[tk.tc.Id]; ok {
				s, i, m := taskPids(d)
				for _, pid := range []int{s, i, m} {
					if pid > 0 {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			n.forget(tk)
		}
	}
	n.close()
	return left
}

func (n *nomadSide) close() {
	if n.p == nil {
		return
	}
	n.p.Stop(n.c)
	n.p = nil
}
