package conformance

// Every Rctl resource and every Nomad resource limit either takes effect
// on Linux, observed from inside the jail (sh's `ulimit`, /proc/sys) or
// in the task's cgroup, or is refused at StartTask with an error naming
// the parameter and the backend: never silently ignored.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// cgroupFile reads one file of the task's cgroup.  The controller is
// the file's prefix; v2 files live in the unified hierarchy.
func (e *e2e) cgroupFile(tk *task, file string) (string, error) {
	pid := e.taskPid(tk)
	if pid == 0 {
		return "", fmt.Errorf("task %s: pid unknown (state dir)", tk.name)
	}
	dirs := procCgroups(pid)
	ctrl, _, _ := strings.Cut(file, ".")
	dir, ok := dirs[ctrl]
	if !ok {
		dir, ok = dirs[""]
	}
	if !ok {
		return "", fmt.Errorf("task %s (pid %d): no cgroup for %s: %v",
			tk.name, pid, ctrl, dirs)
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(b)), err
}

// cgroupVersion says which hierarchy holds the controller for the task.
func (e *e2e) cgroupV1(tk *task, ctrl string) bool {
	_, ok := procCgroups(e.taskPid(tk))[ctrl]
	return ok
}

// rctlObserver observes one resource in a running task (started with
// the rule only) and returns what it saw and whether that is right.
type rctlObserver struct {
	amount any
	extra  map[string]any // other parameters the observation needs
	script string         // run inside; its output is `got`
	check  func(e *e2e, tk *task, got string) error
}

// A sh `ulimit` flag in its unit (busybox: KiB for sizes, 512-byte
// blocks for -c/-f).
func ulimitObs(flag string, amount, unit int64) rctlObserver {
	return rctlObserver{amount: amount,
		script: "ulimit -" + flag + "; ulimit -H" + flag,
		check: func(e *e2e, tk *task, got string) error {
			want := strconv.FormatInt(amount/unit, 10)
			if got != want+"\n"+want {
				return fmt.Errorf("ulimit -%s soft/hard = %q, "+
					"want %s", flag, got, want)
			}
			return nil
		}}
}

func cgroupObs(amount int64, v1file, v2file string,
	want func(v2 bool) string) rctlObserver {
	return rctlObserver{amount: amount, script: "",
		check: func(e *e2e, tk *task, _ string) error {
			ctrl, _, _ := strings.Cut(v1file, ".")
			file, v2 := v1file, false
			if !e.cgroupV1(tk, ctrl) {
				file, v2 = v2file, true
			}
			got, err := e.cgroupFile(tk, file)
			if err != nil {
				return err
			}
			if w := want(v2); !strings.Contains(got, w) {
				return fmt.Errorf("cgroup %s = %q, want %q", file,
					got, w)
			}
			return nil
		}}
}

// pidsObs: pids.max holds the amount, or the amount plus one when the
// jail's own init process (not the task's) lives in the cgroup too.
func pidsObs(amount int64) rctlObserver {
	return rctlObserver{amount: amount,
		check: func(e *e2e, tk *task, _ string) error {
			got, err := e.cgroupFile(tk, "pids.max")
			if err != nil {
				return err
			}
			switch got {
			case strconv.FormatInt(amount, 10):
				return nil
			case strconv.FormatInt(amount+1, 10):
				e.t.Logf("pids.max = %s: %d for the task plus the "+
					"jail's init", got, amount)
				return nil
			}
			return fmt.Errorf("pids.max = %q, want %d (or %d with "+
				"the jail's init)", got, amount, amount+1)
		}}
}

func sysctlObs(amount int64, file string, field int) rctlObserver {
	return rctlObserver{amount: amount,
		extra:  map[string]any{"Mount_procfs": true},
		script: "cat /proc/sys/kernel/" + file,
		check: func(e *e2e, tk *task, got string) error {
			f := strings.Fields(got)
			if field >= len(f) || f[field] != strconv.FormatInt(amount, 10) {
				return fmt.Errorf("/proc/sys/kernel/%s = %q, want "+
					"field %d = %d", file, got, field, amount)
			}
			return nil
		}}
}

func rctlObservers() map[string]rctlObserver {
	const mib = 1 << 20
	return map[string]rctlObserver{
		"Cputime":      ulimitObs("t", 3600, 1),
		"Datasize":     ulimitObs("d", 512*mib, 1024),
		"Stacksize":    ulimitObs("s", 4*mib, 1024),
		"Coredumpsize": ulimitObs("c", 1*mib, 512),
		"Memorylocked": ulimitObs("l", 4*mib, 1024),
		"Openfiles":    ulimitObs("n", 512, 1),
		"Vmemoryuse":   ulimitObs("v", 1024*mib, 1024),
		"Memoryuse": cgroupObs(96*mib, "memory.limit_in_bytes",
			"memory.max", func(bool) string {
				return strconv.Itoa(96 * mib)
			}),
		"Maxproc": pidsObs(64),
		"Nthr":    pidsObs(77),
		"Pseudoterminals": {amount: 7,
			extra: map[string]any{"Mount_devfs": true,
				"Mount_procfs": true},
			script: "grep devpts /proc/mounts",
			check: func(e *e2e, tk *task, got string) error {
				if !strings.Contains(got, "max=7") {
					return fmt.Errorf("devpts mount %q, want max=7",
						got)
				}
				return nil
			}},
		"Swapuse": {amount: 32 * mib, check: func(e *e2e, tk *task,
			_ string) error {
			if !e.cgroupV1(tk, "memory") {
				got, err := e.cgroupFile(tk, "memory.swap.max")
				if err != nil || got != strconv.Itoa(32*mib) {
					return fmt.Errorf("memory.swap.max = %q (%v)",
						got, err)
				}
				return nil
			}
			// memsw counts memory + swap: either the swap amount
			// on top of Nomad's 256 MiB, or the amount itself.
			got, err := e.cgroupFile(tk, "memory.memsw.limit_in_bytes")
			if err != nil || (got != strconv.Itoa(256*mib+32*mib) &&
				got != strconv.Itoa(32*mib)) {
				return fmt.Errorf("memory.memsw.limit_in_bytes = %q "+
					"(%v)", got, err)
			}
			return nil
		}},
		"Pcpu": {amount: 50, check: func(e *e2e, tk *task, _ string) error {
			if e.cgroupV1(tk, "cpu") {
				q, err1 := e.cgroupFile(tk, "cpu.cfs_quota_us")
				p, err2 := e.cgroupFile(tk, "cpu.cfs_period_us")
				qn, _ := strconv.Atoi(q)
				pn, _ := strconv.Atoi(p)
				if err1 != nil || err2 != nil || pn == 0 ||
					qn*100 != pn*50 {
					return fmt.Errorf("cpu quota %q / period %q "+
						"(%v %v), want 50%%", q, p, err1, err2)
				}
				return nil
			}
			m, err := e.cgroupFile(tk, "cpu.max")
			var qn, pn int
			fmt.Sscanf(m, "%d %d", &qn, &pn)
			if err != nil || pn == 0 || qn*100 != pn*50 {
				return fmt.Errorf("cpu.max %q (%v), want 50%%", m, err)
			}
			return nil
		}},
		"Readbps": cgroupObs(10*mib, "blkio.throttle.read_bps_device",
			"io.max", func(v2 bool) string {
				if v2 {
					return fmt.Sprintf("rbps=%d", 10*mib)
				}
				return fmt.Sprintf(" %d", 10*mib)
			}),
		"Writebps": cgroupObs(11*mib, "blkio.throttle.write_bps_device",
			"io.max", func(v2 bool) string {
				if v2 {
					return fmt.Sprintf("wbps=%d", 11*mib)
				}
				return fmt.Sprintf(" %d", 11*mib)
			}),
		"Readiops": cgroupObs(500, "blkio.throttle.read_iops_device",
			"io.max", func(v2 bool) string {
				if v2 {
					return "riops=500"
				}
				return " 500"
			}),
		"Writeiops": cgroupObs(501, "blkio.throttle.write_iops_device",
			"io.max", func(v2 bool) string {
				if v2 {
					return "wiops=501"
				}
				return " 501"
			}),
		"Nmsgq":    sysctlObs(17, "msgmni", 0),
		"Msgqsize": sysctlObs(8192, "msgmnb", 0),
		"Nshm":     sysctlObs(19, "shmmni", 0),
		"Shmsize":  sysctlObs(16*mib, "shmmax", 0),
		"Nsem":     sysctlObs(300, "sem", 1),
		"Nsemop":   sysctlObs(23, "sem", 2),
	}
}

// TestE2ERctl: each of the 25 resources alone, as a bare amount.
func TestE2ERctl(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	obs := rctlObservers()
	for _, res := range rctlResources {
		t.Run(res, func(t *testing.T) {
			defer e.sub(t)()
			if res == "Wallclock" {
				testWallclock(t, e)
				return
			}
			o, known := obs[res]
			amount := o.amount
			if !known {
				amount = 10
			}
			script := "echo ready; "
			if o.script != "" {
				script += o.script + "; "
			}
			cfg := e.shCfg(script+"echo; echo end; exec sleep 1000",
				"Rctl", map[string]any{res: amount})
			for k, v := range o.extra {
				cfg[k] = v
			}
			tk := e.newTask("rctl", cfg, taskOpts{})
			err := tk.start()
			if err != nil {
				expectBackendRefusal(t, err, res)
				e.checkLeaks(t, true)
				return
			}
			defer tk.stopAndDestroy(5*time.Second, "SIGKILL")
			if !known {
				t.Fatalf("Rctl %s accepted by the linux backend, but "+
					"no effect of it is known that this test could "+
					"observe: refuse it or add an observer", res)
			}
			tk.expectOut("end\n")
			out := tk.out()
			got := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(
				out, "ready\n"), "end\n"))
			if err := o.check(e, tk, got); err != nil {
				t.Errorf("Rctl %s = %v: %v (stderr %q)", res, amount, err,
					tk.errOut())
			}
		})
	}
}

// expectBackendRefusal: a refused Rctl resource must be refused as a
// config error naming the resource and the backend.
func expectBackendRefusal(t *testing.T, err error, res string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument ||
		!strings.Contains(st.Message(), res) ||
		!strings.Contains(strings.ToLower(st.Message()), "linux") {
		t.Errorf("Rctl %s: StartTask failed with %v; a resource the "+
			"backend cannot honour must be INVALID_ARGUMENT naming it "+
			"and \"linux\"", res, err)
		return
	}
	t.Logf("refused by the linux backend: %s", st.Message())
}

// Wallclock = 2 kills the task after 2 s of wall time (bare amount:
// sigkill).
func testWallclock(t *testing.T, e *e2e) {
	tk := e.newTask("wall", e.shCfg("echo ready; exec sleep 1000",
		"Rctl", map[string]any{"Wallclock": 2}), taskOpts{})
	t0 := time.Now()
	if err := tk.start(); err != nil {
		expectBackendRefusal(t, err, "Wallclock")
		e.checkLeaks(t, true)
		return
	}
	res := tk.finish()
	took := time.Since(t0)
	expectExit(t, "Wallclock 2", res, 137, 9)
	if took < 2*time.Second-100*time.Millisecond || took > 12*time.Second {
		t.Errorf("Wallclock 2 ended the task after %v", took)
	}
}

// Nomad's resources become limits even without Rctl: memory (hard when
// alone), memory_max (hard) with memory as the soft limit, cpu shares.
func TestE2ENomadResources(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	const mib = 1 << 20
	cases := []struct {
		name  string
		o     taskOpts
		files map[string]string // v1 file -> value
		v2    map[string]string
	}{
		{"memory only", taskOpts{MemoryMB: 64, CPU: 500},
			map[string]string{
				"memory.limit_in_bytes": strconv.Itoa(64 * mib),
				"cpu.shares":            "500"},
			map[string]string{"memory.max": strconv.Itoa(64 * mib),
				// cpu.weight from shares, as runc converts them.
				"cpu.weight": strconv.Itoa(1 + ((500-2)*9999)/262142)}},
		{"memory and memory_max", taskOpts{MemoryMB: 64,
			MemoryMaxMB: 128, CPU: 1000},
			map[string]string{
				"memory.limit_in_bytes":      strconv.Itoa(128 * mib),
				"memory.soft_limit_in_bytes": strconv.Itoa(64 * mib),
				"cpu.shares":                 "1000"},
			map[string]string{"memory.max": strconv.Itoa(128 * mib)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer e.sub(t)()
			tk := e.newTask("res", e.shCfg("echo ready; exec sleep 1000"),
				c.o).mustStart()
			defer tk.stopAndDestroy(5*time.Second, "SIGKILL")
			tk.expectOut("ready")
			files := c.files
			if !e.cgroupV1(tk, "memory") {
				files = c.v2
			}
			for f, want := range files {
				got, err := e.cgroupFile(tk, f)
				if err != nil || got != want {
					t.Errorf("%s: %s = %q (%v), want %s", c.name, f, got,
						err, want)
				}
			}
		})
	}
}

// A task exceeding Nomad's memory limit is OOM-killed, and ExitResult
// says so.
func TestE2EOOMKill(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, res := e.run("oom", map[string]any{"Path": e.root,
		"Mount_devfs": true,
		"command":     "/bin/dd",
		"args": []any{"if=/dev/zero", "of=/dev/null", "bs=256M",
			"count=1"}}, taskOpts{MemoryMB: 32})
	if !res.GetOomKilled() || res.GetSignal() != 9 {
		t.Errorf("dd of 256 MiB under a 32 MiB limit: %v; want "+
			"oom_killed and signal 9 (stderr %q)", res, tk.errOut())
	}
}
