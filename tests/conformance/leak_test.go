package conformance

// The leak check every end-to-end test ends with: nothing a task had may
// outlive DestroyTask (or a failed StartTask): no mount under the test's
// directories in the host's or the plugin's mount table, no cgroup, no
// process (jailed processes are found by their PID namespace, host-side
// ones by their executable, cwd, root, open files or command line under
// the test directory), no extra descriptor in the plugin, no state
// directory entry.  Afterwards forceCleanup removes by force whatever
// leaked, so that a failing test leaves the machine clean too.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type procID struct {
	pid   int
	start string // starttime from /proc/<pid>/stat, guards pid reuse
}

type leakTracker struct {
	mu       sync.Mutex
	hostPid  string            // our own PID namespace
	pidns    map[string]string // jails' PID namespaces -> jail
	procs    map[procID]string // shim/init/main -> what
	cgroups  map[string]string // task cgroup dirs -> jail
	jails    map[string]bool
	mainPids map[string]int // task id -> main (or init) pid
	mainProc map[string]procID
	// Open references to the jails' PID namespaces: they keep a
	// namespace's inode number from being reused by another one
	// (another test's, another program's) before the leak check.
	nsRefs []*os.File
}

func (lk *leakTracker) init(t testing.TB) {
	lk.hostPid, _ = os.Readlink("/proc/self/ns/pid")
	lk.pidns = map[string]string{}
	lk.procs = map[procID]string{}
	lk.cgroups = map[string]string{}
	lk.jails = map[string]bool{}
	lk.mainPids = map[string]int{}
	lk.mainProc = map[string]procID{}
}

// track records, right after a successful StartTask, what the task is
// made of on the host: its state entry, processes, PID namespace and
// cgroups.  What it cannot find is logged: the leak check then relies
// on the generic scans.
func (e *e2e) track(tk *task) {
	jail := e.jailOf(tk)
	if jail == "" {
		e.t.Logf("task %s: no entry under %s/tasks names its id; "+
			"leak tracking by state dir is off", tk.name, e.state)
		return
	}
	tk.jail = jail
	shim, init, main := e.taskPids(jail)
	lk := &e.lk
	lk.mu.Lock()
	defer lk.mu.Unlock()
	lk.jails[jail] = true
	for what, pid := range map[string]int{"shim": shim, "init": init,
		"main": main} {
		if pid > 0 {
			lk.procs[procID{pid, procStart(pid)}] = what + " of " + jail
		}
	}
	p := main
	if p == 0 {
		p = init
	}
	if p == 0 {
		e.t.Logf("task %s: no init/main pid in %s/tasks/%s/pids",
			tk.name, e.state, jail)
		return
	}
	lk.mainPids[tk.tc.GetId()] = p
	if main > 0 {
		lk.mainProc[tk.tc.GetId()] = procID{main, procStart(main)}
	}
	nsPath := fmt.Sprintf("/proc/%d/ns/pid", p)
	if ref, err := os.Open(nsPath); err == nil {
		ns, err := os.Readlink(nsPath)
		if err == nil && ns != lk.hostPid {
			lk.pidns[ns] = jail
			lk.nsRefs = append(lk.nsRefs, ref)
		} else {
			ref.Close()
		}
	}
	for _, dir := range procCgroups(p) {
		if strings.Contains(dir, jail) ||
			strings.Contains(dir, "jail-task-driver") {
			lk.cgroups[dir] = jail
		}
	}
}

// taskPid is the host pid of the task's main process (or its jail's
// first process) as recorded at start.
func (e *e2e) taskPid(tk *task) int {
	e.lk.mu.Lock()
	defer e.lk.mu.Unlock()
	return e.lk.mainPids[tk.tc.GetId()]
}

// waitMainGone waits until the task's main process (as recorded at
// start) has exited; no RPC tells that while no plugin runs or while a
// persistent jail stays, so it is polled, within limit.  If the main
// pid is unknown it falls back to the stdout FIFO's end of file.
func (e *e2e) waitMainGone(tk *task, limit time.Duration) bool {
	e.lk.mu.Lock()
	p, ok := e.lk.mainProc[tk.tc.GetId()]
	e.lk.mu.Unlock()
	if !ok {
		return tk.stdout.waitEOF(1, limit)
	}
	deadline := time.Now().Add(limit)
	for procAlive(p) && procState(p.pid) != "Z" {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

func procPPid(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return ""
	}
	return f[1]
}

func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 of stat: starttime
}

func procAlive(p procID) bool {
	st := procStart(p.pid)
	return st != "" && st == p.start
}

// ---- mounts ---------------------------------------------------------

type mountEnt struct {
	root, point, fstype, super string
}

func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func readMountinfo(path string) []mountEnt {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []mountEnt
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 > len(f) {
			continue
		}
		out = append(out, mountEnt{root: unescapeMount(f[3]),
			point: unescapeMount(f[4]), fstype: f[sep+1],
			super: f[sep+3]})
	}
	return out
}

func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func mountsUnder(mountinfo, dir string) []string {
	var out []string
	for _, m := range readMountinfo(mountinfo) {
		if under(m.point, dir) {
			out = append(out, m.point+" ("+m.fstype+")")
		}
	}
	return out
}

// ---- cgroups --------------------------------------------------------

// cgroupMounts maps each v1 controller ("memory", ...) to its mount
// point, and "" to the cgroup2 mount.
func cgroupMounts() map[string]string {
	out := map[string]string{}
	for _, m := range readMountinfo("/proc/self/mountinfo") {
		if m.root != "/" {
			continue
		}
		switch m.fstype {
		case "cgroup2":
			if _, ok := out[""]; !ok {
				out[""] = m.point
			}
		case "cgroup":
			for _, o := range strings.Split(m.super, ",") {
				if o != "rw" && o != "ro" {
					out[o] = m.point
				}
			}
		}
	}
	return out
}

// procCgroups gives the cgroup directory of a process per controller
// ("" for the v2 hierarchy).
func procCgroups(pid int) map[string]string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil
	}
	mounts := cgroupMounts()
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		ctrls := []string{""}
		if f[1] != "" {
			ctrls = strings.Split(f[1], ",")
		} else if f[0] != "0" {
			continue
		}
		for _, c := range ctrls {
			if mp, ok := mounts[c]; ok {
				out[c] = filepath.Join(mp, f[2])
			}
		}
	}
	return out
}

// driverCgroups lists the directories below every "jail-task-driver"
// cgroup parent (searched a few levels deep in every hierarchy).
func driverCgroups() []string {
	seen := map[string]bool{}
	var out []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, d := range ents {
			if !d.IsDir() {
				continue
			}
			p := filepath.Join(dir, d.Name())
			if strings.HasPrefix(d.Name(), "jail-task-driver") {
				kids, _ := os.ReadDir(p)
				for _, k := range kids {
					if k.IsDir() && !seen[p+"/"+k.Name()] {
						seen[p+"/"+k.Name()] = true
						out = append(out, filepath.Join(p, k.Name()))
					}
				}
				continue
			}
			if depth > 0 {
				walk(p, depth-1)
			}
		}
	}
	for _, mp := range cgroupMounts() {
		walk(mp, 2)
	}
	return out
}

// ownsName says whether a jail (cgroup) name belongs to one of this
// test's tasks, also one whose start failed before the test learnt its
// name: names carry the allocation id's first 8 characters, which are
// random per task.
func (e *e2e) ownsName(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tk := range e.tasks {
		if a := tk.tc.GetAllocId(); len(a) >= 8 &&
			strings.Contains(name, a[:8]) &&
			strings.Contains(name, tk.name) {
			return true
		}
	}
	return false
}

// ---- processes ------------------------------------------------------

type leakedProc struct {
	pid  int
	why  string
	desc string
}

func procDesc(pid int) string {
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	return fmt.Sprintf("%d %s (state %s, wchan %s, parent %s) [%s]", pid,
		strings.TrimSpace(string(comm)), procState(pid), wchan,
		procPPid(pid),
		strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"),
			"\x00", " "))
}

// leakedProcs scans /proc for processes that belong to this test.
func (e *e2e) leakedProcs() []leakedProc {
	skip := map[int]bool{os.Getpid(): true}
	for _, p := range e.pids {
		skip[p] = true
	}
	e.lk.mu.Lock()
	pidns := map[string]string{}
	for k, v := range e.lk.pidns {
		pidns[k] = v
	}
	procs := map[int]procID{}
	whats := map[int]string{}
	for p, what := range e.lk.procs {
		procs[p.pid] = p
		whats[p.pid] = what
	}
	e.lk.mu.Unlock()

	ents, _ := os.ReadDir("/proc")
	var out []leakedProc
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || skip[pid] {
			continue
		}
		base := "/proc/" + d.Name()
		if procState(pid) == "Z" && procPPid(pid) == "1" {
			// An orphan that init has not reaped yet: nothing the
			// driver could still do about it.
			continue
		}
		why := ""
		if ns, err := os.Readlink(base + "/ns/pid"); err == nil &&
			pidns[ns] != "" {
			why = "in the PID namespace of jail " + pidns[ns]
		}
		if p, ok := procs[pid]; why == "" && ok && procAlive(p) {
			why = "still running: " + whats[pid]
		}
		for _, l := range []string{"exe", "cwd", "root"} {
			if why != "" {
				break
			}
			if target, err := os.Readlink(base + "/" + l); err == nil &&
				under(target, e.dir) {
				why = l + " is " + target
			}
		}
		if why == "" {
			cmd, _ := os.ReadFile(base + "/cmdline")
			if strings.Contains(string(cmd), e.dir) {
				why = "command line names " + e.dir
			}
		}
		if why == "" {
			fds, _ := os.ReadDir(base + "/fd")
			for _, fd := range fds {
				target, err := os.Readlink(base + "/fd/" + fd.Name())
				if err == nil && under(target, e.dir) {
					why = "holds " + target
					break
				}
			}
		}
		if why != "" && procState(pid) == "Z" {
			why += " (a zombie: its parent never reaped it)"
		}
		if why != "" {
			out = append(out, leakedProc{pid, why, procDesc(pid)})
		}
	}
	return out
}

// ---- descriptors ----------------------------------------------------

func countFDs(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

func listFDs(pid int) string {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var out []string
	for _, d := range ents {
		t, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, d.Name()))
		out = append(out, d.Name()+"->"+t)
	}
	return strings.Join(out, " ")
}

// ---- the check ------------------------------------------------------

// checkLeaks reports, as errors on t, everything of this test's tasks
// still present.  pluginAlive: the current plugin answers, so its mount
// table and descriptors are checked too.
func (e *e2e) checkLeaks(t testing.TB, pluginAlive bool) {
	t.Helper()
	// A process that is exiting (a sanitizer build's shim runs its
	// leak check at exit) gets a moment to finish; what is still there
	// after it, or is a zombie, is a leak.
	procs := e.leakedProcs()
	t0 := time.Now()
	for len(procs) > 0 && time.Since(t0) < 10*time.Second {
		live := false
		for _, p := range procs {
			live = live || procState(p.pid) != "Z"
		}
		if !live {
			break
		}
		time.Sleep(20 * time.Millisecond)
		procs = e.leakedProcs()
	}
	if len(procs) == 0 && time.Since(t0) > 50*time.Millisecond {
		t.Logf("processes of the tasks were still exiting; gone %v "+
			"after the task was destroyed", time.Since(t0))
	}
	for _, p := range procs {
		t.Errorf("leak: process %s: %s", p.desc, p.why)
	}
	for _, m := range mountsUnder("/proc/self/mountinfo", e.dir) {
		t.Errorf("leak: host mount %s", m)
	}
	if pluginAlive {
		pid := e.pluginPid()
		for _, m := range mountsUnder(fmt.Sprintf("/proc/%d/mountinfo",
			pid), e.dir) {
			t.Errorf("leak: mount %s in the plugin's mount table", m)
		}
		if n := countFDs(pid); n >= 0 && n != e.fdBase {
			t.Errorf("leak: plugin has %d descriptors, %d at rest "+
				"before the tasks: %s", n, e.fdBase, listFDs(pid))
		}
	}

	e.lk.mu.Lock()
	for dir, jail := range e.lk.cgroups {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("leak: cgroup %s of jail %s", dir, jail)
		}
	}
	jails := map[string]bool{}
	for j := range e.lk.jails {
		jails[j] = true
	}
	tracked := map[string]bool{}
	for d := range e.lk.cgroups {
		tracked[d] = true
	}
	e.lk.mu.Unlock()
	for _, dir := range driverCgroups() {
		if (jails[filepath.Base(dir)] || e.ownsName(filepath.Base(dir))) &&
			!tracked[dir] {
			t.Errorf("leak: cgroup %s", dir)
		}
	}

	if left := e.stateTasks(); len(left) > 0 {
		t.Errorf("leak: %s/tasks still holds %v", e.state, left)
	}
}

// forceCleanup kills, unmounts and removes whatever checkLeaks found, so
// that a failing test leaves the machine as it found it.
func (lk *leakTracker) forceCleanup(t testing.TB, e *e2e) {
	for round := 0; round < 50; round++ {
		procs := e.leakedProcs()
		if len(procs) == 0 {
			break
		}
		for _, p := range procs {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}

	mounts := readMountinfo("/proc/self/mountinfo")
	var points []string
	for _, m := range mounts {
		if under(m.point, e.dir) {
			points = append(points, m.point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
			t.Logf("clean-up: umount %s: %v", p, err)
		}
	}

	lk.mu.Lock()
	var dirs []string
	for d := range lk.cgroups {
		dirs = append(dirs, d)
	}
	jails := lk.jails
	lk.mu.Unlock()
	for _, d := range driverCgroups() {
		if jails[filepath.Base(d)] || e.ownsName(filepath.Base(d)) {
			dirs = append(dirs, d)
		}
	}
	// Children first.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		removeCgroup(d)
	}
	lk.mu.Lock()
	for _, f := range lk.nsRefs {
		f.Close()
	}
	lk.nsRefs = nil
	lk.mu.Unlock()
}

// removeCgroup removes a cgroup directory and its sub-cgroups.
func removeCgroup(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, d := range ents {
		if d.IsDir() {
			removeCgroup(filepath.Join(dir, d.Name()))
		}
	}
	for range 50 {
		if err := syscall.Rmdir(dir); err == nil || err == syscall.ENOENT {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
