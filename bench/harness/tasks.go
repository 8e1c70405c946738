package main

// `harness tasks`: task start latency, exit detection and memory of
// jail-task-driver against Debian's crun, in one run, on one busybox
// root file system.
//
// Start: from the moment the StartTask request is sent (plugin) or
// `crun run` is exec'd (crun) to the arrival of the task's first output
// byte, on the stdout FIFO Nomad's logmon would read (plugin) or on the
// pipe that is `crun run`'s stdout (crun). Exit: the task waits on a
// trigger FIFO, prints a line and exits; from the arrival of that line
// to WaitTask's answer (plugin) or to `crun run`'s exit as waitpid sees
// it (crun). Samples of the two alternate. Memory: what stays resident
// per running task, and the plugin with many tasks.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type tasksOpts struct {
	plugin    string
	shim      string
	crun      string
	busybox   string
	samples   int
	warmup    int
	many      int
	rounds    int
	settle    time.Duration
	memSettle time.Duration
	cgMode    string
	stateIn   string
	crunOnly  bool
	phases    map[string]bool
	outDir    string
	limit     time.Duration
	strict    bool
}

// Dist is a set of samples in milliseconds and their summary.
type Dist struct {
	Ms   []float64 `json:"ms"`
	P50  float64   `json:"p50_ms"`
	P90  float64   `json:"p90_ms"`
	P99  float64   `json:"p99_ms"`
	Min  float64   `json:"min_ms"`
	Max  float64   `json:"max_ms"`
	Mean float64   `json:"mean_ms"`
}

func (d *Dist) add(v time.Duration) { d.Ms = append(d.Ms, ms(v)) }

// summarize fills the summary; percentiles are nearest-rank.
func (d *Dist) summarize() {
	s := slices.Clone(d.Ms)
	slices.Sort(s)
	if len(s) == 0 {
		return
	}
	rank := func(p float64) float64 {
		r := int(p/100*float64(len(s))+0.5) - 1
		return s[max(0, min(r, len(s)-1))]
	}
	d.P50, d.P90, d.P99 = rank(50), rank(90), rank(99)
	d.Min, d.Max = s[0], s[len(s)-1]
	var sum float64
	for _, v := range s {
		sum += v
	}
	d.Mean = sum / float64(len(s))
}

// MemSummary summarises one kind of process over many tasks, in KiB.
type MemSummary struct {
	N        int     `json:"n"`
	RSSMean  float64 `json:"vm_rss_mean_kib"`
	RSSMax   int64   `json:"vm_rss_max_kib"`
	AnonMean float64 `json:"rss_anon_mean_kib"`
	PssMean  float64 `json:"pss_mean_kib"`
}

func summarizeMem(v []procMem) *MemSummary {
	if len(v) == 0 {
		return nil
	}
	s := &MemSummary{N: len(v)}
	for _, m := range v {
		s.RSSMean += float64(m.VmRSS)
		s.AnonMean += float64(m.RssAnon)
		s.PssMean += float64(m.Pss)
		s.RSSMax = max(s.RSSMax, m.VmRSS)
	}
	n := float64(len(v))
	s.RSSMean /= n
	s.AnonMean /= n
	s.PssMean /= n
	return s
}

// TasksMemory is the memory phase.
type TasksMemory struct {
	Tasks int `json:"tasks"`
	// Plugin side: the supervisor processes of each sleeping task (the
	// shim, and the jail's init where it is a process of its own), their
	// sum per task, and the task's own program (not counted).
	Shim       *MemSummary `json:"shim,omitempty"`
	Init       *MemSummary `json:"init,omitempty"`
	PerTask    *MemSummary `json:"per_task,omitempty"`
	TaskMain   *MemSummary `json:"task_program,omitempty"`
	PluginIdle int64       `json:"plugin_idle_rss_kib,omitempty"`
	PluginMany int64       `json:"plugin_many_rss_kib,omitempty"`
	PluginHWM  int64       `json:"plugin_many_hwm_kib,omitempty"`
	PluginThr  int64       `json:"plugin_many_threads,omitempty"`
	PluginPost int64       `json:"plugin_after_rss_kib,omitempty"`
	// Later rounds of the same start-and-destroy: the plugin's VmRSS
	// with the tasks running and after, per round (a leak grows them).
	RoundsMany []int64 `json:"rounds_many_rss_kib,omitempty"`
	RoundsPost []int64 `json:"rounds_after_rss_kib,omitempty"`
	StartManyS float64 `json:"start_many_s,omitempty"`
	// crun side: the foreground `crun run` process that waits for each
	// container, and the container's program (not counted).
	CrunRun  *MemSummary `json:"crun_run,omitempty"`
	CrunMain *MemSummary `json:"crun_program,omitempty"`
}

// TasksResult is everything `harness tasks` measured.
type TasksResult struct {
	Kind     string         `json:"kind"` // "tasks"
	When     string         `json:"when"`
	Machine  Machine        `json:"machine"`
	Command  string         `json:"command"`
	Settings map[string]any `json:"settings"`
	Plugin   TargetInfo     `json:"plugin"`
	Crun     struct {
		Path    string `json:"path"`
		Version string `json:"version"`
		Cgroups string `json:"cgroups"`
	} `json:"crun"`
	// Start and Exit are keyed "jtd" and "crun".
	Start     map[string]*Dist `json:"start"`
	StartCall *Dist            `json:"start_call,omitempty"`
	// SyncWrite times, between samples, what the driver does for each
	// state file: write name.tmp, fsync, rename, fsync the directory,
	// in a directory beside the plugin's state_dir.
	SyncWrite *Dist              `json:"state_file_write,omitempty"`
	Exit      map[string]*Dist   `json:"exit"`
	Memory    *TasksMemory       `json:"memory,omitempty"`
	Pressure  map[string]float64 `json:"cpu_pressure_pct"`
	// PluginError says why the plugin side could not be measured
	// (then only crun figures exist).
	PluginError string   `json:"plugin_error,omitempty"`
	Leftovers   []string `json:"leftovers,omitempty"`
	Checks      []Check  `json:"checks"`
}

func cmdTasks(args []string) int {
	var o tasksOpts
	fs := flag.NewFlagSet("tasks", flag.ExitOnError)
	fs.StringVar(&o.plugin, "plugin", "", "jail-task-driver binary")
	fs.StringVar(&o.shim, "shim", "", "jail-task-shim binary (JTD_SHIM; "+
		"default: beside the plugin)")
	fs.StringVar(&o.crun, "crun", "crun", "crun binary")
	fs.StringVar(&o.busybox, "busybox", "/bin/busybox", "static busybox "+
		"the root file system is made of")
	fs.IntVar(&o.samples, "samples", 100, "start/exit samples per "+
		"runtime")
	fs.IntVar(&o.warmup, "warmup", 3, "unmeasured samples per runtime "+
		"first")
	fs.IntVar(&o.many, "tasks", 200, "sleeping tasks for the memory phase")
	fs.IntVar(&o.rounds, "rounds", 1, "times the plugin's memory phase "+
		"is repeated (the plugin's RSS after each round shows leaks)")
	fs.DurationVar(&o.settle, "settle", 20*time.Millisecond, "pause "+
		"between WaitTask's request and the task's exit")
	fs.DurationVar(&o.memSettle, "mem-settle", 500*time.Millisecond,
		"pause before reading memory figures")
	fs.StringVar(&o.cgMode, "crun-cgroups", "auto", "auto: crun manages "+
		"cgroups (on a hybrid v1+v2 host, which crun refuses, the run "+
		"moves into a private mount namespace that hides the v2 tree); "+
		"disabled: crun --cgroup-manager=disabled")
	fs.StringVar(&o.stateIn, "state-parent", "", "directory to make the "+
		"plugin's state_dir in (default: the run's work directory, "+
		"under $TMPDIR)")
	fs.BoolVar(&o.crunOnly, "crun-only", false, "measure crun alone")
	phases := fs.String("phases", "start,memory", "phases, comma separated")
	fs.StringVar(&o.outDir, "out", "", "directory for the JSON result")
	fs.DurationVar(&o.limit, "limit", 7*time.Minute, "give up after this")
	fs.BoolVar(&o.strict, "strict", false, "exit 3 when a target fails")
	fs.Parse(args)

	if o.plugin == "" && !o.crunOnly {
		fs.Usage()
		return 2
	}
	if o.cgMode != "auto" && o.cgMode != "disabled" {
		fmt.Fprintln(os.Stderr, "harness tasks: -crun-cgroups: auto or "+
			"disabled")
		return 2
	}
	o.phases = map[string]bool{}
	for _, ph := range strings.Split(*phases, ",") {
		if ph != "start" && ph != "memory" {
			fmt.Fprintf(os.Stderr, "harness tasks: unknown phase %q\n", ph)
			return 2
		}
		o.phases[ph] = true
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "harness tasks: needs root (namespaces, "+
			"cgroups, mounts)")
		return 2
	}

	hidden := os.Getenv(innerEnv)
	if hidden == "" && o.cgMode == "auto" {
		if hide, ok := hybridCgroups(); ok {
			fmt.Fprintf(os.Stderr, "tasks: hybrid cgroups; running in a "+
				"private mount namespace with %s hidden\n", hide)
			return reexecPrivate(args, hide)
		}
	}
	if hidden != "" {
		if err := enterPrivate(hidden); err != nil {
			fmt.Fprintln(os.Stderr, "harness tasks:", err)
			return 1
		}
	}

	r := &tasksRun{o: &o}
	atCleanup(r.teardown)
	watchdog := time.AfterFunc(o.limit, func() {
		fmt.Fprintf(os.Stderr, "harness tasks: over the %v limit, "+
			"stopping\n", o.limit)
		r.teardown()
		KillAll()
		os.RemoveAll(sockDir)
		os.Exit(1)
	})
	defer watchdog.Stop()

	res, err := r.run(hidden, args)
	left := r.teardown()
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness tasks:", err)
		return 1
	}
	res.Leftovers = left
	if len(left) > 0 {
		res.Checks = append(res.Checks, Check{Name: "nothing left behind",
			Detail: strings.Join(left, "; ")})
	}
	printTasks(os.Stdout, res)
	if o.outDir != "" {
		path, err := writeTasksResult(o.outDir, res)
		if err != nil {
			fmt.Fprintln(os.Stderr, "harness tasks:", err)
			return 1
		}
		fmt.Printf("\nresult written to %s\n", path)
	}
	if o.strict && (!allPass(res.Checks) || res.PluginError != "") {
		return 3
	}
	return 0
}

func allPass(cs []Check) bool {
	for _, c := range cs {
		if !c.Pass {
			return false
		}
	}
	return true
}

// tasksRun holds what a run created, for the teardown.
type tasksRun struct {
	o     *tasksOpts
	work  string
	root  string
	state string // a state_dir outside work, if any
	nomad *nomadSide
	crun  *crunSide

	once sync.Once
	left []string
}

// teardown removes everything the run made: tasks (DestroyTask, or
// SIGKILL by pid when the plugin is gone), the plugin, containers and
// crun's state and cgroups, stray processes in the root file system,
// mounts below the work directory, the work directory. Safe to call
// more than once and from the signal handler.
func (r *tasksRun) teardown() []string {
	r.once.Do(func() {
		if r.nomad != nil {
			r.left = append(r.left, r.nomad.teardown()...)
			r.left = append(r.left, r.nomad.leftCgroups()...)
			if ents, err := os.ReadDir(filepath.Join(r.nomad.state,
				"tasks")); err == nil {
				for _, e := range ents {
					r.left = append(r.left, "state dir entry "+
						e.Name())
				}
			}
		}
		if r.crun != nil {
			r.left = append(r.left, r.crun.sweep()...)
		}
		if r.root != "" {
			for _, pid := range processesRootedIn(r.root) {
				r.left = append(r.left, fmt.Sprintf("process %d in "+
					"the root file system", pid))
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		for _, d := range []string{r.work, r.state} {
			if d == "" {
				continue
			}
			for _, m := range unmountAll(d) {
				r.left = append(r.left, "mount "+m)
			}
			os.RemoveAll(d)
		}
	})
	return r.left
}

// processesRootedIn lists processes whose root directory is dir (a task
// or container that outlived its runtime).
func processesRootedIn(dir string) []int {
	var want syscall.Stat_t
	if err := syscall.Stat(dir, &want); err != nil {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil ||
			pid == os.Getpid() {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name()+"/root", &st) == nil &&
			st.Dev == want.Dev && st.Ino == want.Ino {
			out = append(out, pid)
		}
	}
	return out
}

// Output marks the tasks print.
const (
	readyMark = "ready\n"
	doneMark  = "done\n"
)

// sampleLimit bounds each wait of a sample.
const sampleLimit = 30 * time.Second

// exitScript prints, waits for the trigger FIFO to be written, prints
// the done line and exits 0.
func exitScript(trigger string) []string {
	return []string{"/bin/sh", "-c", "echo ready; read x < " + trigger +
		"; echo done; exit 0"}
}

var sleepScript = []string{"/bin/sh", "-c", "echo ready; exec sleep 1000"}

// trigger makes a FIFO in the root's /bench and returns its host and
// in-root paths.
func (r *tasksRun) trigger(name string) (string, string, error) {
	host := filepath.Join(r.root, "bench", name)
	if err := syscall.Mkfifo(host, 0o600); err != nil {
		return "", "", err
	}
	return host, "/bench/" + name, nil
}

// fire writes one line into the trigger FIFO: a blocking open that
// completes once the task has opened it for reading.
func fire(path string) error {
	done := make(chan error, 1)
	go func() {
		fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = syscall.Write(fd, []byte("go\n"))
		syscall.Close(fd)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(sampleLimit):
		// Release the blocked open with a reader of our own.
		if fd, err := syscall.Open(path, syscall.O_RDONLY|
			syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0); err == nil {
			<-done
			syscall.Close(fd)
		}
		return fmt.Errorf("the task never opened %s", path)
	}
}

func (r *tasksRun) run(hidden string, args []string) (*TasksResult,
	error) {
	o := r.o
	res := &TasksResult{
		Kind: "tasks", When: time.Now().UTC().Format(time.RFC3339),
		Machine: machine(),
		Command: "harness tasks " + strings.Join(args, " "),
		Settings: map[string]any{"samples": o.samples,
			"warmup": o.warmup, "tasks": o.many, "rounds": o.rounds,
			"settle_ms": ms(o.settle), "mem_settle_ms": ms(o.memSettle),
			"task_memory_mb": 256, "task_cpu_shares": 100},
		Start:    map[string]*Dist{},
		Exit:     map[string]*Dist{},
		Pressure: map[string]float64{},
	}

	var err error
	if r.work, err = os.MkdirTemp("", "jtd-tasks-"); err != nil {
		return nil, err
	}
	if err := os.Chmod(r.work, 0o755); err != nil {
		return nil, err
	}
	r.root = filepath.Join(r.work, "rootfs")
	if err := makeBusyboxRoot(o.busybox, r.root); err != nil {
		return nil, fmt.Errorf("root file system: %w", err)
	}

	cg := o.cgMode != "disabled"
	if r.crun, err = newCrunSide(o.crun, r.work, r.root, cg, 256<<20,
		100); err != nil {
		return nil, fmt.Errorf("crun: %w", err)
	}
	res.Crun.Path, res.Crun.Version = r.crun.bin, r.crun.version
	switch {
	case !cg:
		res.Crun.Cgroups = "disabled (--cgroup-manager=disabled)"
	case hidden != "":
		res.Crun.Cgroups = "cgroupfs, v1 controllers (cgroup2 tree " +
			hidden + " hidden in the run's private mount namespace)"
	default:
		res.Crun.Cgroups = "cgroupfs (crun's default)"
	}

	if !o.crunOnly {
		res.Plugin = TargetInfo{Name: "jtd", Path: o.plugin}
		if fi, err := os.Stat(o.plugin); err == nil {
			res.Plugin.Bytes = fi.Size()
		}
		t := Target{Name: "jtd", Path: o.plugin}
		if o.shim != "" {
			t.Env = []string{"JTD_SHIM=" + o.shim}
		}
		state := filepath.Join(r.work, "state")
		if o.stateIn != "" {
			if r.state, err = os.MkdirTemp(o.stateIn,
				"jtd-state-"); err != nil {
				return nil, err
			}
			state = r.state
		}
		res.Settings["state_dir"] = state
		r.nomad, err = startNomad(t, r.work, state, []string{r.work})
		if err != nil {
			res.PluginError = err.Error()
			r.nomad = nil
			fmt.Fprintln(os.Stderr, "tasks: plugin:", err)
		}
	}

	if o.phases["start"] {
		fmt.Fprintf(os.Stderr, "start/exit phase: %d samples per "+
			"runtime\n", o.samples)
		pm := startPressure()
		if err := r.startPhase(res); err != nil {
			return nil, err
		}
		res.Pressure["start"] = pm.percent()
	}
	if o.phases["memory"] {
		fmt.Fprintf(os.Stderr, "memory phase: %d tasks per runtime\n",
			o.many)
		pm := startPressure()
		if err := r.memoryPhase(res); err != nil {
			return nil, err
		}
		res.Pressure["memory"] = pm.percent()
	}
	res.Checks = tasksChecks(res)
	return res, nil
}

// pluginFailed records the first failure of the plugin side and stops
// measuring it; the crun side goes on.
func (r *tasksRun) pluginFailed(res *TasksResult, err error) {
	msg := err.Error()
	if r.nomad != nil && r.nomad.p != nil {
		msg += r.nomad.p.stderrNote()
	}
	res.PluginError = msg
	fmt.Fprintln(os.Stderr, "tasks: plugin:", msg)
	r.left = append(r.left, r.nomad.teardown()...)
	r.left = append(r.left, r.nomad.leftCgroups()...)
	r.nomad = nil
}

// jtdSample is one start/exit sample of the plugin.
func (r *tasksRun) jtdSample() (start, call, exit time.Duration,
	err error) {
	n := r.nomad
	host, inner, err := r.trigger(fmt.Sprintf("jtd-%d", time.Now().UnixNano()))
	if err != nil {
		return
	}
	defer os.Remove(host)
	sc := exitScript(inner)
	tk, err := n.newTask(map[string]any{"Path": r.root,
		"command": sc[0], "args": []any{sc[1], sc[2]}})
	if err != nil {
		return
	}
	t0, t1, err := n.start(tk)
	if err != nil {
		n.forget(tk)
		return
	}
	defer func() {
		if derr := n.destroy(tk); derr != nil && err == nil {
			err = derr
		}
	}()
	first, ok := tk.stdout.firstByte(sampleLimit)
	if !ok {
		err = fmt.Errorf("no output within %v (stderr %q)", sampleLimit,
			tk.stderr.String())
		return
	}
	time.Sleep(r.o.settle)
	if err = fire(host); err != nil {
		err = fmt.Errorf("%w (stdout %q, stderr %q)", err,
			tk.stdout.String(), tk.stderr.String())
		return
	}
	last, ok := tk.stdout.arrival(doneMark, sampleLimit)
	if !ok {
		err = fmt.Errorf("no %q within %v (stdout %q)", doneMark,
			sampleLimit, tk.stdout.String())
		return
	}
	w, err := tk.wait(sampleLimit)
	if err != nil {
		return
	}
	n.jails() // remembers the jail's name for the leak check
	if res := w.resp.GetResult(); res.GetExitCode() != 0 ||
		res.GetSignal() != 0 || w.resp.GetErr() != "" {
		err = fmt.Errorf("WaitTask: exit code %d signal %d err %q, "+
			"want 0 0 \"\"", res.GetExitCode(), res.GetSignal(),
			w.resp.GetErr())
		return
	}
	if got := tk.stdout.String(); got != readyMark+doneMark {
		err = fmt.Errorf("stdout %q, want %q", got, readyMark+doneMark)
		return
	}
	return first.Sub(t0), t1.Sub(t0), w.at.Sub(last), nil
}

// crunSample is one start/exit sample of crun.
func (r *tasksRun) crunSample() (start, exit time.Duration, err error) {
	c := r.crun
	host, inner, err := r.trigger(fmt.Sprintf("crun-%d",
		time.Now().UnixNano()))
	if err != nil {
		return
	}
	defer os.Remove(host)
	k, t0, err := c.start(exitScript(inner))
	if err != nil {
		return
	}
	defer func() {
		if rerr := c.remove(k); rerr != nil && err == nil {
			err = rerr
		}
	}()
	first, ok := k.out.firstByte(sampleLimit)
	if !ok {
		err = fmt.Errorf("crun: no output within %v: %s", sampleLimit,
			k.stderr())
		return
	}
	time.Sleep(r.o.settle)
	if err = fire(host); err != nil {
		err = fmt.Errorf("%w (stdout %q, stderr %q)", err,
			k.out.String(), k.stderr())
		return
	}
	last, ok := k.out.arrival(doneMark, sampleLimit)
	if !ok {
		err = fmt.Errorf("crun: no %q within %v: %s", doneMark,
			sampleLimit, k.stderr())
		return
	}
	if !k.waitExit(sampleLimit) {
		err = fmt.Errorf("crun run did not exit within %v", sampleLimit)
		return
	}
	if k.werr != nil || k.state.ExitCode() != 0 {
		err = fmt.Errorf("crun run: %v %v: %s", k.werr, k.state,
			k.stderr())
		return
	}
	return first.Sub(t0), k.exitAt.Sub(last), nil
}

func (r *tasksRun) startPhase(res *TasksResult) error {
	res.Start["crun"], res.Exit["crun"] = &Dist{}, &Dist{}
	if r.nomad != nil {
		res.Start["jtd"], res.Exit["jtd"] = &Dist{}, &Dist{}
		res.StartCall, res.SyncWrite = &Dist{}, &Dist{}
	}
	for i := -r.o.warmup; i < r.o.samples; i++ {
		// Alternate which runtime goes first, so slow drifts of the
		// machine hit both alike.
		for _, side := range [][2]string{{"jtd", "crun"},
			{"crun", "jtd"}}[(i+r.o.warmup)%2] {
			switch {
			case side == "crun":
				s, e, err := r.crunSample()
				if err != nil {
					return fmt.Errorf("crun sample: %w", err)
				}
				if i >= 0 {
					res.Start["crun"].add(s)
					res.Exit["crun"].add(e)
				}
			case r.nomad != nil:
				s, c, e, err := r.jtdSample()
				if err != nil {
					r.pluginFailed(res, err)
					continue
				}
				if i >= 0 {
					res.Start["jtd"].add(s)
					res.StartCall.add(c)
					res.Exit["jtd"].add(e)
				}
				if d, err := syncWrite(filepath.Dir(r.nomad.state)); err == nil &&
					i >= 0 {
					res.SyncWrite.add(d)
				}
			}
		}
	}
	for _, m := range []map[string]*Dist{res.Start, res.Exit} {
		for k, d := range m {
			if len(d.Ms) == 0 {
				delete(m, k)
				continue
			}
			d.summarize()
		}
	}
	for _, d := range []**Dist{&res.StartCall, &res.SyncWrite} {
		if *d == nil {
			continue
		}
		if len((*d).Ms) == 0 {
			*d = nil
		} else {
			(*d).summarize()
		}
	}
	return nil
}

func (r *tasksRun) memoryPhase(res *TasksResult) error {
	m := &TasksMemory{Tasks: r.o.many}
	res.Memory = m
	if r.nomad != nil {
		if err := r.jtdMemory(m); err != nil {
			r.pluginFailed(res, err)
			m.Shim, m.Init, m.PerTask, m.TaskMain = nil, nil, nil, nil
		}
	}
	for i := 1; i < r.o.rounds && r.nomad != nil; i++ {
		var again TasksMemory
		if err := r.jtdMemory(&again); err != nil {
			r.pluginFailed(res, err)
			break
		}
		m.RoundsMany = append(m.RoundsMany, again.PluginMany)
		m.RoundsPost = append(m.RoundsPost, again.PluginPost)
	}
	return r.crunMemory(m)
}

func (r *tasksRun) jtdMemory(m *TasksMemory) error {
	n := r.nomad
	idle, err := ReadStatus(n.p.Pid)
	if err != nil {
		return err
	}
	m.PluginIdle = idle.VmRSS

	t0 := time.Now()
	var tasks []*nomadTask
	for i := 0; i < r.o.many; i++ {
		tk, err := n.newTask(map[string]any{"Path": r.root,
			"command": sleepScript[0],
			"args":    []any{sleepScript[1], sleepScript[2]}})
		if err != nil {
			return err
		}
		if _, _, err := n.start(tk); err != nil {
			n.forget(tk)
			return fmt.Errorf("task %d of %d: %w", i+1, r.o.many, err)
		}
		tasks = append(tasks, tk)
		if _, ok := tk.stdout.firstByte(sampleLimit); !ok {
			return fmt.Errorf("task %d of %d: no output", i+1, r.o.many)
		}
	}
	m.StartManyS = time.Since(t0).Seconds()
	time.Sleep(r.o.memSettle)

	st, err := ReadStatus(n.p.Pid)
	if err != nil {
		return err
	}
	m.PluginMany, m.PluginHWM, m.PluginThr = st.VmRSS, st.VmHWM,
		st.Threads
	jails := n.jails()
	var shims, inits, sums, mains []procMem
	for _, tk := range tasks {
		d, ok := jails[tk.tc.Id]
		if !ok {
			return fmt.Errorf("no state directory names task %s",
				tk.tc.Id)
		}
		shim, init, main := taskPids(d)
		if shim == 0 {
			return fmt.Errorf("%s/pids names no shim", d)
		}
		sm, err := readMem(shim)
		if err != nil {
			return fmt.Errorf("shim %d: %w", shim, err)
		}
		shims = append(shims, sm)
		sum := sm
		if init > 0 && init != main && init != shim {
			im, err := readMem(init)
			if err != nil {
				return fmt.Errorf("init %d: %w", init, err)
			}
			inits = append(inits, im)
			sum.VmRSS += im.VmRSS
			sum.RssAnon += im.RssAnon
			sum.Pss += im.Pss
		}
		sums = append(sums, sum)
		if main > 0 {
			if mm, err := readMem(main); err == nil {
				mains = append(mains, mm)
			}
		}
	}
	m.Shim, m.Init = summarizeMem(shims), summarizeMem(inits)
	m.PerTask, m.TaskMain = summarizeMem(sums), summarizeMem(mains)

	// Nomad's kill path for each: StopTask, then DestroyTask; all at
	// once, as an agent draining a node would.
	errs := make(chan error, len(tasks))
	for _, tk := range tasks {
		go func() {
			err := n.stop(tk, 5*time.Second, "SIGTERM")
			if err == nil {
				_, err = tk.wait(sampleLimit)
			}
			if err == nil {
				err = n.destroy(tk)
			}
			errs <- err
		}()
	}
	var first error
	for range tasks {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	time.Sleep(r.o.memSettle)
	if st, err := ReadStatus(n.p.Pid); err == nil {
		m.PluginPost = st.VmRSS
	}
	return nil
}

// childPid returns the first child of pid.
func childPid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid,
		pid))
	if err != nil {
		return 0
	}
	var c int
	fmt.Sscanf(string(b), "%d", &c)
	return c
}

func (r *tasksRun) crunMemory(m *TasksMemory) error {
	c := r.crun
	var ks []*crunCtr
	defer func() {
		for _, k := range ks {
			c.remove(k)
		}
	}()
	for i := 0; i < r.o.many; i++ {
		k, _, err := c.start(sleepScript)
		if err != nil {
			return fmt.Errorf("crun container %d: %w", i+1, err)
		}
		ks = append(ks, k)
		if _, ok := k.out.firstByte(sampleLimit); !ok {
			return fmt.Errorf("crun container %d: no output: %s", i+1,
				k.stderr())
		}
	}
	time.Sleep(r.o.memSettle)
	var runs, mains []procMem
	for _, k := range ks {
		rm, err := readMem(k.cmd.Process.Pid)
		if err != nil {
			return fmt.Errorf("crun run %d: %w", k.cmd.Process.Pid, err)
		}
		runs = append(runs, rm)
		if ch := childPid(k.cmd.Process.Pid); ch > 0 {
			if mm, err := readMem(ch); err == nil {
				mains = append(mains, mm)
			}
		}
	}
	m.CrunRun, m.CrunMain = summarizeMem(runs), summarizeMem(mains)
	return nil
}

// The targets the project set for tasks.
const (
	exitP50LimitMs  = 5.0
	perTaskLimitKiB = 1024
)

func tasksChecks(res *TasksResult) []Check {
	var out []Check
	js, cs := res.Start["jtd"], res.Start["crun"]
	c := Check{Name: "task start p50 no slower than crun"}
	switch {
	case js != nil && cs != nil:
		q := ratio(js.P50, cs.P50)
		c.Pass = q <= 1
		c.Detail = fmt.Sprintf("jtd/crun = %.3f (%.2f / %.2f ms)", q,
			js.P50, cs.P50)
	default:
		c.NotRun, c.Detail = true, notMeasured(res)
	}
	out = append(out, c)

	c = Check{Name: "exit seen within 5 ms p50"}
	if je := res.Exit["jtd"]; je != nil {
		c.Pass = je.P50 < exitP50LimitMs
		c.Detail = fmt.Sprintf("jtd %.2f ms (crun %.2f ms)", je.P50,
			res.Exit["crun"].P50)
	} else {
		c.NotRun, c.Detail = true, notMeasured(res)
	}
	out = append(out, c)

	c = Check{Name: "under 1 MiB per task"}
	if m := res.Memory; m != nil && m.PerTask != nil {
		c.Pass = m.PerTask.RSSMean < perTaskLimitKiB &&
			m.PerTask.RSSMax < perTaskLimitKiB
		c.Detail = fmt.Sprintf("VmRSS mean %.0f KiB, max %d KiB over "+
			"%d tasks", m.PerTask.RSSMean, m.PerTask.RSSMax, m.PerTask.N)
	} else {
		c.NotRun, c.Detail = true, notMeasured(res)
	}
	out = append(out, c)
	return out
}

func notMeasured(res *TasksResult) string {
	switch {
	case res.PluginError != "":
		return "the plugin failed (see above)"
	case res.Plugin.Path == "":
		return "crun-only run"
	}
	return "phase not run"
}

func writeTasksResult(dir string, res *TasksResult) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return "", err
	}
	stamp := strings.ReplaceAll(res.When, ":", "")
	path := filepath.Join(dir, "tasks-"+stamp+".json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	latest := filepath.Join(dir, "tasks-latest.json")
	os.Remove(latest)
	if err := os.Symlink(filepath.Base(path), latest); err != nil &&
		!errors.Is(err, os.ErrExist) {
		return "", err
	}
	return path, nil
}

// printTasks writes the human-readable result.
func printTasks(w io.Writer, res *TasksResult) {
	fmt.Fprintf(w, "\ntask benchmark, %s\n", res.When)
	writeTasksMarkdown(w, res)
}

// syncWrite times one small-file write the way the driver writes its
// state files (jtd_write_file_atomic): name.tmp, write, fsync, rename,
// fsync of the directory; the file is removed afterwards (not timed).
func syncWrite(dir string) (time.Duration, error) {
	path := filepath.Join(dir, "bench-sync-probe")
	t0 := time.Now()
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC,
		0o600)
	if err != nil {
		return 0, err
	}
	_, err = f.Write([]byte("0 0 0 0 -\n"))
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open(dir); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	el := time.Since(t0)
	os.Remove(path + ".tmp")
	os.Remove(path)
	return el, err
}
