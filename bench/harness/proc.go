package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Nomad's go-plugin handshake settings (plugins/base Handshake) and the
// port range go-plugin's client puts in every plugin's environment.
const (
	cookieKey   = "NOMAD_PLUGIN_MAGIC_COOKIE"
	cookieValue = "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255"
)

// handshakeTimeout bounds the wait for the handshake line; go-plugin waits
// a minute, a benchmark has no reason to.
const handshakeTimeout = 10 * time.Second

// killGrace is how long go-plugin's Kill waits for the process to exit
// after GRPCController.Shutdown before it sends SIGKILL.
const killGrace = 2 * time.Second

// stderrTail is how many of the last stderr lines are kept for error
// messages.
const stderrTail = 20

// Target is one plugin binary to measure.
type Target struct {
	Name string
	Path string
	Args []string
	Env  []string // added to Nomad's plugin environment
}

// Plugin is one running plugin process.
type Plugin struct {
	Target    Target
	Pid       int
	Network   string
	Addr      string
	Handshake time.Duration
	Started   time.Time

	cmd    *exec.Cmd
	exited chan struct{}
	werr   error

	mu   sync.Mutex
	tail []string
}

// procs tracks every process launched, so that nothing outlives the
// harness even when a measurement fails half-way.
var procs = struct {
	sync.Mutex
	m map[*Plugin]struct{}
}{m: map[*Plugin]struct{}{}}

// sockDir is where plugins are told to create their sockets (TMPDIR, which
// Go plugins use when PLUGIN_UNIX_SOCKET_DIR is unset).
var sockDir string

func pluginEnv() []string {
	env := os.Environ()
	env = append(env,
		cookieKey+"="+cookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=2",
		"PLUGIN_MIN_PORT=10000",
		"PLUGIN_MAX_PORT=25000")
	if sockDir != "" {
		env = append(env, "TMPDIR="+sockDir)
	}
	return env
}

// Launch starts the target with Nomad's environment and returns once the
// handshake line has been read from its stdout. Handshake is the time from
// just before fork/exec to the moment that line was read, on the
// monotonic clock.
func Launch(t Target) (*Plugin, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}

	cmd := exec.Command(t.Path, t.Args...)
	cmd.Env = append(pluginEnv(), t.Env...)
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &Plugin{Target: t, cmd: cmd, exited: make(chan struct{})}

	p.Started = time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	p.Pid = cmd.Process.Pid
	procs.Lock()
	procs.m[p] = struct{}{}
	procs.Unlock()

	go func() {
		p.werr = cmd.Wait()
		close(p.exited)
	}()
	go p.drainStderr(errR)

	line, err := p.readHandshake(outR)
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("%s: %w%s", t.Name, err, p.stderrNote())
	}
	if err := p.parseHandshake(line); err != nil {
		p.Kill()
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	return p, nil
}

// readHandshake reads the first stdout line, then keeps draining stdout
// in the background like go-plugin does.
func (p *Plugin) readHandshake(r *os.File) (string, error) {
	type result struct {
		line string
		at   time.Time
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		br := bufio.NewReader(r)
		line, err := br.ReadString('\n')
		ch <- result{line, time.Now(), err}
		if err == nil {
			io.Copy(io.Discard, br)
		}
		r.Close()
	}()

	timer := time.NewTimer(handshakeTimeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		if res.err != nil {
			select {
			case <-p.exited:
				return "", fmt.Errorf("no handshake line (%v, "+
					"exit: %v)", res.err, p.werr)
			case <-timer.C:
				return "", fmt.Errorf("stdout closed without a "+
					"handshake line (%v)", res.err)
			}
		}
		p.Handshake = res.at.Sub(p.Started)
		return res.line, nil
	case <-timer.C:
		return "", fmt.Errorf("no handshake line within %v",
			handshakeTimeout)
	}
}

// parseHandshake checks CORE|APP|NET|ADDR|PROTO the way go-plugin's client
// does for Nomad (core 1, app 2, grpc only).
func (p *Plugin) parseHandshake(line string) error {
	f := strings.Split(strings.TrimSpace(line), "|")
	if len(f) < 5 {
		return fmt.Errorf("bad handshake line %q", line)
	}
	if f[0] != "1" || f[1] != "2" || f[4] != "grpc" {
		return fmt.Errorf("unexpected handshake %q", line)
	}
	switch f[2] {
	case "unix":
	case "tcp":
		if !strings.HasPrefix(f[3], "127.0.0.1:") {
			return fmt.Errorf("tcp address %q is not loopback", f[3])
		}
	default:
		return fmt.Errorf("unknown network in %q", line)
	}
	p.Network, p.Addr = f[2], f[3]
	return nil
}

func (p *Plugin) drainStderr(r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		p.mu.Lock()
		if len(p.tail) == stderrTail {
			copy(p.tail, p.tail[1:])
			p.tail = p.tail[:stderrTail-1]
		}
		p.tail = append(p.tail, sc.Text())
		p.mu.Unlock()
	}
	// A line too long for the scanner ends it; keep draining so the
	// plugin never blocks on a full pipe.
	io.Copy(io.Discard, r)
}

func (p *Plugin) stderrNote() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == 0 {
		return ""
	}
	return "\nlast stderr lines:\n  " + strings.Join(p.tail, "\n  ")
}

// Exited reports whether the process has been reaped.
func (p *Plugin) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// StopResult says how a plugin went away after Stop.
type StopResult struct {
	Exit       time.Duration // Shutdown call to process exit
	Killed     bool          // needed SIGKILL after the grace period
	LeftSocket bool          // its socket file was still there
	ShutdownOK bool          // GRPCController.Shutdown answered OK
}

// Stop ends the plugin the way go-plugin's Client.Kill does for Nomad:
// GRPCController.Shutdown (its error ignored), close the connection, wait
// up to two seconds, then SIGKILL. c may be nil when never dialled.
func (p *Plugin) Stop(c *Conn) StopResult {
	var r StopResult
	start := time.Now()
	if c != nil {
		r.ShutdownOK = c.Shutdown() == nil
		c.Close()
	}

	timer := time.NewTimer(killGrace)
	select {
	case <-p.exited:
		timer.Stop()
	case <-timer.C:
		r.Killed = true
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	r.Exit = time.Since(start)
	r.LeftSocket = p.removeSocket()
	p.forget()
	return r
}

// Kill ends the plugin at once (error paths and the final sweep).
func (p *Plugin) Kill() {
	if !p.Exited() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	p.removeSocket()
	p.forget()
}

// removeSocket deletes a Unix socket the plugin left behind and says
// whether there was one.
func (p *Plugin) removeSocket() bool {
	if p.Network != "unix" || p.Addr == "" {
		return false
	}
	fi, err := os.Lstat(p.Addr)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return false
	}
	os.Remove(p.Addr)
	return true
}

func (p *Plugin) forget() {
	procs.Lock()
	delete(procs.m, p)
	procs.Unlock()
}

// KillAll ends every process still running.
func KillAll() {
	procs.Lock()
	all := make([]*Plugin, 0, len(procs.m))
	for p := range procs.m {
		all = append(all, p)
	}
	procs.Unlock()
	for _, p := range all {
		p.Kill()
	}
}

var errExited = errors.New("plugin exited")
