package main

// The crun side of `harness tasks`: one OCI bundle per container, on the
// same busybox root file system our tasks use, run in the foreground
// (`crun run`, stdout a pipe the harness reads), which is how crun
// itself supervises a container and reports its exit status.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// crunSide runs containers with one crun binary and a private state
// root, and knows every container it started.
type crunSide struct {
	bin      string
	version  string
	state    string // crun --root
	work     string // bundles and task dirs
	rootfs   string
	cgParent string // cgroupsPath parent, "" when cgroups are disabled
	memLimit int64  // bytes, as our task gets from Nomad's resources
	cpu      int64  // cpu shares, likewise

	mu   sync.Mutex
	live map[string]*crunCtr
	seq  int
}

// crunCtr is one `crun run` process and its container.
type crunCtr struct {
	id     string
	dir    string // bundle and task dir
	cmd    *exec.Cmd
	out    *outReader
	errf   *os.File
	exited chan struct{}
	exitAt time.Time
	state  *os.ProcessState
	werr   error
}

func newCrunSide(bin, work, rootfs string, cgroups bool, memLimit,
	cpu int64) (*crunSide, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", path, err)
	}
	c := &crunSide{bin: path, state: filepath.Join(work, "crun-state"),
		work: work, rootfs: rootfs, memLimit: memLimit, cpu: cpu,
		live:    map[string]*crunCtr{},
		version: strings.SplitN(string(out), "\n", 2)[0]}
	if cgroups {
		c.cgParent = fmt.Sprintf("jtd-bench-%d", os.Getpid())
	}
	if err := os.MkdirAll(c.state, 0o700); err != nil {
		return nil, err
	}
	return c, nil
}

// globalArgs are crun's options before the command.
func (c *crunSide) globalArgs() []string {
	a := []string{"--root", c.state}
	if c.cgParent == "" {
		a = append(a, "--cgroup-manager=disabled")
	}
	return a
}

// ociSpec is the part of the OCI runtime spec the bundle uses.
type ociSpec struct {
	OCIVersion string         `json:"ociVersion"`
	Process    ociProcess     `json:"process"`
	Root       map[string]any `json:"root"`
	Hostname   string         `json:"hostname"`
	Mounts     []ociMount     `json:"mounts"`
	Linux      map[string]any `json:"linux"`
}

type ociProcess struct {
	Terminal     bool                `json:"terminal"`
	User         map[string]int      `json:"user"`
	Args         []string            `json:"args"`
	Env          []string            `json:"env"`
	Cwd          string              `json:"cwd"`
	Capabilities map[string][]string `json:"capabilities"`
}

type ociMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options"`
}

// bundle writes a bundle for one container, matching what our driver
// gives a task with the same config: the shared root, its own
// alloc/local/secrets directories bound at /alloc, /local and /secrets,
// PID, mount, UTS and IPC namespaces (the host's network, as our
// default `Ip4`/`Vnet` inherit), the memory limit and CPU shares Nomad's
// resources give it, root with the default OCI capabilities.
func (c *crunSide) bundle(id string, args []string) (string, error) {
	dir := filepath.Join(c.work, "crun", id)
	for _, d := range []string{"alloc", "local", "secrets"} {
		if err := os.MkdirAll(filepath.Join(dir, "task", d),
			0o755); err != nil {
			return "", err
		}
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL",
		"CAP_NET_BIND_SERVICE"}
	bind := func(d string) ociMount {
		return ociMount{Destination: "/" + d, Type: "bind",
			Source:  filepath.Join(dir, "task", d),
			Options: []string{"rbind", "rw"}}
	}
	linux := map[string]any{
		"namespaces": []map[string]string{{"type": "pid"},
			{"type": "mount"}, {"type": "uts"}, {"type": "ipc"}},
		"resources": map[string]any{
			"memory": map[string]any{"limit": c.memLimit},
			"cpu":    map[string]any{"shares": c.cpu},
		},
	}
	if c.cgParent != "" {
		linux["cgroupsPath"] = "/" + c.cgParent + "/" + id
	}
	spec := ociSpec{
		OCIVersion: "1.0.0",
		Process: ociProcess{
			User: map[string]int{"uid": 0, "gid": 0},
			Args: args,
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:" +
				"/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
			Cwd: "/",
			Capabilities: map[string][]string{"bounding": caps,
				"effective": caps, "permitted": caps},
		},
		Root:     map[string]any{"path": c.rootfs},
		Hostname: "bench",
		Mounts:   []ociMount{bind("alloc"), bind("local"), bind("secrets")},
		Linux:    linux,
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}

// newID returns a fresh container id.
func (c *crunSide) newID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return fmt.Sprintf("bench-%d-%d", os.Getpid(), c.seq)
}

// start prepares a bundle, then execs `crun run` with its stdout a pipe
// and returns the container and the moment just before the exec.
func (c *crunSide) start(args []string) (*crunCtr, time.Time, error) {
	id := c.newID()
	dir, err := c.bundle(id, args)
	if err != nil {
		return nil, time.Time{}, err
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, time.Time{}, err
	}
	w := os.NewFile(uintptr(p[1]), "stdout")
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		w.Close()
		syscall.Close(p[0])
		return nil, time.Time{}, err
	}
	k := &crunCtr{id: id, dir: dir, errf: errf,
		exited: make(chan struct{})}
	k.cmd = exec.Command(c.bin, append(c.globalArgs(), "run",
		"--bundle", dir, id)...)
	k.cmd.Stdout = w
	k.cmd.Stderr = errf
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	k.out = readPipe(p[0])

	c.mu.Lock()
	c.live[id] = k
	c.mu.Unlock()
	t0 := time.Now()
	err = k.cmd.Start()
	w.Close()
	if err != nil {
		c.mu.Lock()
		delete(c.live, id)
		c.mu.Unlock()
		errf.Close()
		return nil, t0, err
	}
	go func() {
		// Process.Wait is waitpid alone: cmd.Wait would also wait
		// for I/O copies, and there are none to wait for here.
		k.state, k.werr = k.cmd.Process.Wait()
		k.exitAt = time.Now()
		close(k.exited)
	}()
	return k, t0, nil
}

// stderr returns what crun and the container wrote on stderr.
func (k *crunCtr) stderr() string {
	b, _ := os.ReadFile(filepath.Join(k.dir, "stderr"))
	return strings.TrimSpace(string(b))
}

// waitExit waits for `crun run` to exit.
func (k *crunCtr) waitExit(limit time.Duration) bool {
	select {
	case <-k.exited:
		return true
	case <-time.After(limit):
		return false
	}
}

// remove stops the container if it still runs (SIGKILL to its init;
// `crun run` then deletes it and exits), makes sure crun forgot it,
// and removes its bundle.
func (c *crunSide) remove(k *crunCtr) error {
	var err error
	select {
	case <-k.exited:
	default:
		exec.Command(c.bin, append(c.globalArgs(), "kill", k.id,
			"KILL")...).Run()
		if !k.waitExit(10 * time.Second) {
			k.cmd.Process.Signal(syscall.SIGKILL)
			<-k.exited
			err = fmt.Errorf("crun run %s did not exit after kill", k.id)
		}
	}
	// `crun run` deletes its container when it exits; a container it
	// could not delete (the run was killed) is deleted here.
	if _, serr := os.Stat(filepath.Join(c.state, k.id)); serr == nil {
		exec.Command(c.bin, append(c.globalArgs(), "delete", "-f",
			k.id)...).Run()
	}
	k.out.close()
	k.errf.Close()
	os.RemoveAll(k.dir)
	c.mu.Lock()
	delete(c.live, k.id)
	c.mu.Unlock()
	return err
}

// sweep removes every container still known, then crun's state and the
// cgroup parent directories. It returns what it had to clean.
func (c *crunSide) sweep() []string {
	var left []string
	c.mu.Lock()
	all := make([]*crunCtr, 0, len(c.live))
	for _, k := range c.live {
		all = append(all, k)
	}
	c.mu.Unlock()
	for _, k := range all {
		left = append(left, "container "+k.id)
		c.remove(k)
	}
	if ents, err := os.ReadDir(c.state); err == nil {
		for _, e := range ents {
			left = append(left, "crun state "+e.Name())
			exec.Command(c.bin, append(c.globalArgs(), "delete", "-f",
				e.Name())...).Run()
		}
	}
	if c.cgParent != "" {
		for _, d := range cgroupDirs(c.cgParent) {
			if ents, _ := os.ReadDir(d); hasSubdirs(ents) {
				left = append(left, "cgroup "+d)
			}
			removeCgroupTree(d)
		}
	}
	os.RemoveAll(c.state)
	return left
}

func hasSubdirs(ents []os.DirEntry) bool {
	for _, e := range ents {
		if e.IsDir() {
			return true
		}
	}
	return false
}
