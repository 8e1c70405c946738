package conformance

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"jtd/conformance/pb/base"
	"jtd/conformance/pb/drivers"
)

// goPluginEnv is the environment go-plugin gives a plugin it launches for
// Nomad: the host's, then these four (protocol notes §1.2).
func goPluginEnv(cookie bool) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, nomadHandshake.MagicCookieKey+"=") &&
			!strings.HasPrefix(kv, "PLUGIN_") {
			env = append(env, kv)
		}
	}
	if cookie {
		env = append(env, nomadHandshake.MagicCookieKey+"="+
			nomadHandshake.MagicCookieValue)
	}
	return append(env, "PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000",
		"PLUGIN_PROTOCOL_VERSIONS=2")
}

func TestHandshakeWithoutCookie(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(),
		10*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, binaryPath(t))
	cmd.Env = goPluginEnv(false)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("run without cookie: want exit status 1, got %v", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout must stay empty, got %q", stdout.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		t.Fatal("no explanation on stderr")
	}
	// A human explanation, not a log record: it should tell the user
	// that this is a plugin, meant to be started by its host.
	if !strings.Contains(strings.ToLower(msg), "plugin") {
		t.Errorf("stderr does not explain what the binary is: %q", msg)
	}
	t.Logf("explanation: %q", msg)
}

// handRun is the plugin started by hand with go-plugin's environment;
// the test reads the handshake line itself.
type handRun struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *lineSink
	line   string

	waitOnce sync.Once
	done     chan struct{}
	waitErr  error
}

// wait reaps the process (once) and returns its exit error; callers give
// up after `limit`.
func (r *handRun) wait(limit time.Duration) (bool, error) {
	r.waitOnce.Do(func() {
		go func() {
			r.waitErr = r.cmd.Wait()
			close(r.done)
		}()
	})
	select {
	case <-r.done:
		return true, r.waitErr
	case <-time.After(limit):
		return false, nil
	}
}

func startByHand(t *testing.T) *handRun {
	t.Helper()
	r := &handRun{cmd: exec.Command(binaryPath(t)), stderr: &lineSink{},
		done: make(chan struct{})}
	r.cmd.Env = goPluginEnv(true)
	r.cmd.Stderr = r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.stdout = bufio.NewReader(out)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A no-op when the test already saw the process exit.
		_ = r.cmd.Process.Kill()
		r.wait(10 * time.Second)
	})

	lineCh := make(chan string, 1)
	errCh := make(chan error, 1)
	go func() {
		l, err := r.stdout.ReadString('\n')
		if err != nil {
			errCh <- err
			return
		}
		lineCh <- l
	}()
	select {
	case r.line = <-lineCh:
	case err := <-errCh:
		t.Fatalf("reading handshake line: %v (stderr %q)", err,
			r.stderr.Lines())
	case <-time.After(10 * time.Second):
		t.Fatal("no handshake line within 10 s")
	}
	return r
}

func TestHandshakeLine(t *testing.T) {
	t.Parallel()
	r := startByHand(t)

	if !strings.HasSuffix(r.line, "\n") {
		t.Fatalf("handshake line not newline-terminated: %q", r.line)
	}
	fields := strings.Split(strings.TrimSuffix(r.line, "\n"), "|")
	if len(fields) != 5 {
		t.Fatalf("handshake %q: want exactly 5 fields "+
			"CORE|APP|unix|PATH|grpc", r.line)
	}
	if fields[0] != "1" || fields[1] != "2" || fields[2] != "unix" ||
		fields[4] != "grpc" {
		t.Fatalf("handshake %q: want 1|2|unix|<path>|grpc", r.line)
	}
	sock := fields[3]
	if !filepath.IsAbs(sock) {
		t.Fatalf("socket path %q is not absolute", sock)
	}

	st, err := os.Stat(sock)
	if err != nil {
		t.Fatalf("socket %s: %v", sock, err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s is not a socket (mode %v)", sock, st.Mode())
	}
	dir := filepath.Dir(sock)
	dst, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := dst.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket directory %s has mode %o, want 700", dir, perm)
	}

	// Talk to it the way a reattaching agent does, exercise a few RPCs,
	// then shut it down with go-plugin's kill sequence.
	addr, err := net.ResolveUnixAddr("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hostLog := &syncBuffer{}
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: nomadHandshake,
		Plugins:         map[string]plugin.Plugin{"driver": driverPlugin{}},
		Reattach: &plugin.ReattachConfig{Protocol: plugin.ProtocolGRPC,
			ProtocolVersion: 2, Addr: addr, Pid: r.cmd.Process.Pid},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           newHostLogger(hostLog),
	})
	proto, err := c.Client()
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	raw, err := proto.Dispense("driver")
	if err != nil {
		t.Fatal(err)
	}
	pc := raw.(*pluginClients)
	ctx, cancel := context.WithTimeout(context.Background(),
		20*time.Second)
	defer cancel()
	if _, err := pc.Base.PluginInfo(ctx, &base.PluginInfoRequest{}); err != nil {
		t.Errorf("PluginInfo: %v", err)
	}
	if _, err := pc.Driver.Capabilities(ctx,
		&drivers.CapabilitiesRequest{}); err != nil {
		t.Errorf("Capabilities: %v", err)
	}
	if _, err := pc.Driver.TaskConfigSchema(ctx,
		&drivers.TaskConfigSchemaRequest{}); err != nil {
		t.Errorf("TaskConfigSchema: %v", err)
	}
	fctx, fcancel := context.WithCancel(ctx)
	fp, err := pc.Driver.Fingerprint(fctx, &drivers.FingerprintRequest{})
	if err == nil {
		_, err = fp.Recv()
	}
	if err != nil {
		t.Errorf("Fingerprint: %v", err)
	}
	fcancel()
	// A refused task is worth a log line even at the default level.
	_, err = pc.Driver.StartTask(ctx, &drivers.StartTaskRequest{
		Task: taskConfig(t, "bad", []byte{0xc1}, nil)})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("StartTask with garbage config: want INVALID_ARGUMENT, "+
			"got %v", err)
	}

	rest := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r.stdout)
		rest <- b
	}()
	// Reap the child ourselves so go-plugin's pid polling sees it go.
	r.wait(0)
	c.Kill()

	exited, err := r.wait(5 * time.Second)
	if !exited {
		t.Fatal("plugin still running 5 s after the kill sequence")
	}
	if err != nil {
		t.Errorf("plugin exit after Shutdown: %v", err)
	}
	if b := <-rest; len(b) != 0 {
		t.Errorf("stdout after the handshake line must stay empty, "+
			"got %q", b)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s still exists after exit (%v)", sock, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("socket directory %s still exists after exit (%v)",
			dir, err)
	}
	checkStderr(t, r.stderr.Lines())
	if len(r.stderr.Lines()) == 0 {
		t.Error("plugin logged nothing on stderr, not even the " +
			"refused StartTask")
	}
}

func TestStderrIsHclogJSON(t *testing.T) {
	t.Parallel()
	h := launch(t)

	// Provoke some logging: normal calls, failing ones, a stream.
	ctx := h.ctx()
	_, _ = h.Base.PluginInfo(ctx, &base.PluginInfoRequest{})
	_, _ = h.Driver.WaitTask(ctx, &drivers.WaitTaskRequest{TaskId: "nope"})
	_, _ = h.Driver.StartTask(ctx, &drivers.StartTaskRequest{
		Task: taskConfig(t, "bad", []byte{0xc1}, nil)})
	_ = h.setConfig(map[string]any{"allowed_paths": []any{"rel"}}, nil)
	if fp, err := h.Driver.Fingerprint(ctx,
		&drivers.FingerprintRequest{}); err == nil {
		_, _ = fp.Recv()
	}
	h.client.Kill()

	lines := h.stderr.Lines()
	if len(lines) == 0 {
		t.Fatal("plugin wrote nothing on stderr; expected hclog JSON logs")
	}
	// Every line is checked by the harness cleanup too; check here so the
	// failure names this test.
	checkStderr(t, lines)
	if strings.Contains(h.hostLog.String(), "plugin failed to exit") {
		t.Errorf("go-plugin had to force-kill the plugin")
	}
}

func TestSigintIgnored(t *testing.T) {
	t.Parallel()
	h := launch(t)
	pid := h.client.ReattachConfig().Pid

	for range 3 {
		if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		// A pending signal is delivered before the plugin runs user code
		// again, so an answer after kill() returned proves it survived.
		if _, err := h.Base.PluginInfo(h.ctx(),
			&base.PluginInfoRequest{}); err != nil {
			t.Fatalf("plugin stopped answering after SIGINT: %v", err)
		}
	}
	if h.client.Exited() {
		t.Fatal("plugin exited on SIGINT")
	}
}

func TestHealthService(t *testing.T) {
	t.Parallel()
	h := launch(t)

	hc := grpc_health_v1.NewHealthClient(h.rpc.Conn)
	resp, err := hc.Check(h.ctx(),
		&grpc_health_v1.HealthCheckRequest{Service: "plugin"})
	if err != nil {
		t.Fatalf("Health/Check(plugin): %v", err)
	}
	if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("Health/Check(plugin) = %v, want SERVING", resp.GetStatus())
	}
	// go-plugin's own Ping uses the same call.
	if err := h.rpc.Ping(); err != nil {
		t.Fatalf("go-plugin Ping: %v", err)
	}
}

func TestKillSequence(t *testing.T) {
	t.Parallel()
	h := launch(t)

	rc := h.client.ReattachConfig()
	sock := rc.Addr.String()
	if rc.Addr.Network() != "unix" {
		t.Fatalf("plugin listens on %s, want unix", rc.Addr.Network())
	}
	// Streams Nomad keeps open must not delay the shutdown.
	ctx := h.ctx()
	fp, err := h.Driver.Fingerprint(ctx, &drivers.FingerprintRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fp.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Driver.TaskEvents(ctx,
		&drivers.TaskEventsRequest{}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	h.client.Kill()
	took := time.Since(start)

	// go-plugin waits 2 s before SIGKILL; staying below that proves the
	// plugin left on its own after GRPCController/Shutdown.
	if took >= 2*time.Second {
		t.Errorf("kill sequence took %v; the plugin did not exit by "+
			"itself within go-plugin's 2 s grace", took)
	}
	if strings.Contains(h.hostLog.String(), "plugin failed to exit") {
		t.Errorf("go-plugin force-killed the plugin")
	}
	if !h.client.Exited() {
		t.Error("process still running after Kill")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s still exists after exit (%v)", sock, err)
	}
	if _, err := os.Stat(filepath.Dir(sock)); !os.IsNotExist(err) {
		t.Errorf("socket directory %s still exists after exit (%v)",
			filepath.Dir(sock), err)
	}
	t.Logf("kill sequence took %v", took)
}
