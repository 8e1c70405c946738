package main

// Host-side helpers of `harness tasks`: the busybox root file system,
// the private mount namespace the run may need for crun, memory figures
// of a process, and checks that nothing is left mounted.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// makeBusyboxRoot lays out a root file system at dir: bin/busybox (a
// copy of the static busybox) and a link for each of its applets, an
// /etc/passwd and /etc/group with root, /tmp, /root, an empty /dev
// (crun insists on one; our driver makes what it needs) and /bench,
// where the harness puts the trigger FIFOs the tasks wait on.
func makeBusyboxRoot(busybox, dir string) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc",
		"root", "tmp", "dev", "bench"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	// /bench must be reachable by any uid the jail runs as.
	if err := os.Chmod(filepath.Join(dir, "bench"), 0o755); err != nil {
		return err
	}

	b, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	bb := filepath.Join(dir, "bin", "busybox")
	if err := os.WriteFile(bb, b, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", bb, err)
	}
	for _, a := range strings.Fields(string(out)) {
		d, _ := filepath.Split(a)
		var rel string
		switch strings.TrimSuffix(d, "/") {
		case "bin":
			rel = "busybox"
		case "sbin":
			rel = "../bin/busybox"
		case "usr/bin", "usr/sbin":
			rel = "../../bin/busybox"
		default:
			continue
		}
		if a == "bin/busybox" {
			continue
		}
		if err := os.Symlink(rel, filepath.Join(dir, a)); err != nil &&
			!errors.Is(err, os.ErrExist) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n" +
			"nobody:x:65534:65534:nobody:/:/bin/sh\n",
		"etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"etc/hostname": "bench\n",
	}
	for f, s := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s),
			0o644); err != nil {
			return err
		}
	}
	for _, f := range []string{"bin/sh", "bin/sleep", "bin/echo"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("root file system lacks %s", f)
		}
	}
	return nil
}

// hybridCgroups reports whether the host mounts cgroup v1 controllers
// beside a cgroup2 tree that offers controllers of its own: crun 1.x
// refuses to run any container there ("cgroups in hybrid mode not
// supported, drop all controllers from cgroupv2").
func hybridCgroups() (string, bool) {
	const unified = "/sys/fs/cgroup/unified"
	var st syscall.Statfs_t
	if err := syscall.Statfs(unified, &st); err != nil ||
		st.Type != 0x63677270 { // CGROUP2_SUPER_MAGIC
		return "", false
	}
	b, err := os.ReadFile(unified + "/cgroup.controllers")
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return "", false
	}
	return unified, true
}

// innerEnv marks the copy of the harness that runs inside the private
// mount namespace.
const innerEnv = "JTD_BENCH_TASKS_INNER"

// reexecPrivate runs this harness again, with the same arguments, in a
// mount namespace of its own where the cgroup2 tree at `hide` is covered
// by an empty tmpfs: crun then manages v1 cgroups, as the plugin does on
// this host, and whatever crun writes there vanishes with the namespace.
// The host's mount table is never touched. It returns the inner run's
// exit code.
func reexecPrivate(args []string, hide string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness tasks:", err)
		return 1
	}
	cmd := exec.Command(self, append([]string{"tasks"}, args...)...)
	cmd.Env = append(os.Environ(), innerEnv+"="+hide)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "harness tasks: private mount "+
			"namespace:", err)
		return 1
	}
	// The inner run cleans up on SIGINT/SIGTERM itself: pass them on,
	// and let this process exit only after it (the harness's signal
	// handler runs the cleanups before it exits).
	done := make(chan struct{})
	atCleanup(func() []string {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(time.Minute):
		}
		return nil
	})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sig {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	close(done)
	signal.Stop(sig)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness tasks:", err)
		return 1
	}
	return 0
}

// enterPrivate finishes the set-up inside the new namespace: everything
// private (Go's unshare already did that; repeated so no mount event
// can ever reach the host), then the tmpfs over the cgroup2 tree.
func enterPrivate(hide string) error {
	if err := syscall.Mount("none", "/", "",
		syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := syscall.Mount("tmpfs", hide, "tmpfs", syscall.MS_NOSUID|
		syscall.MS_NODEV|syscall.MS_NOEXEC, "size=4m,mode=755"); err != nil {
		return fmt.Errorf("cover %s: %w", hide, err)
	}
	return nil
}

// procMem is what one process keeps resident, in KiB.
type procMem struct {
	Pid     int   `json:"pid"`
	VmRSS   int64 `json:"vm_rss_kib"`
	RssAnon int64 `json:"rss_anon_kib"`
	Pss     int64 `json:"pss_kib"` // proportional: shared pages split
}

// readMem reads VmRSS and RssAnon from status and Pss from
// smaps_rollup.
func readMem(pid int) (procMem, error) {
	m := procMem{Pid: pid}
	st, err := ReadStatus(pid)
	if err != nil {
		return m, err
	}
	m.VmRSS, m.RssAnon = st.VmRSS, st.RssAnon
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) >= 2 && w[0] == "Pss:" {
			m.Pss, _ = strconv.ParseInt(w[1], 10, 64)
		}
	}
	return m, sc.Err()
}

// mountsUnder lists mount points at or below dir in this process's
// mount namespace.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
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

// unmountAll detaches whatever is still mounted below dir, deepest
// first, so a failed run cannot leave mounts behind.
func unmountAll(dir string) []string {
	ms := mountsUnder(dir)
	for i := len(ms) - 1; i >= 0; i-- {
		syscall.Unmount(ms[i], syscall.MNT_DETACH)
	}
	return ms
}

// cgroupDirs lists directories named name directly under every mounted
// cgroup hierarchy.
func cgroupDirs(name string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	// The last mount on a mount point is the one visible there (the
	// private tmpfs over a hidden cgroup2 tree is no hierarchy).
	fstype := map[string]string{}
	var order []string
	for _, l := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 1 {
			continue
		}
		mp := unescapeMount(pf[4])
		if _, seen := fstype[mp]; !seen {
			order = append(order, mp)
		}
		fstype[mp] = qf[0]
	}
	var out []string
	for _, mp := range order {
		if fstype[mp] != "cgroup" && fstype[mp] != "cgroup2" {
			continue
		}
		p := filepath.Join(mp, name)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			out = append(out, p)
		}
	}
	return out
}

// removeCgroupTree removes an (empty of processes) cgroup directory and
// its children, deepest first.
func removeCgroupTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	var last error
	for range 50 {
		if last = syscall.Rmdir(dir); last == nil ||
			errors.Is(last, syscall.ENOENT) {
			return nil
		}
		// A group is busy for a moment after its last process died.
		time.Sleep(10 * time.Millisecond)
	}
	return last
}
