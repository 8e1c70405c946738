package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"jtd/conformance/pb/base"
	"jtd/conformance/pb/drivers"
)

// The go-plugin handshake Nomad uses for every plugin (plugins/base).
var nomadHandshake = plugin.HandshakeConfig{
	ProtocolVersion:  2,
	MagicCookieKey:   "NOMAD_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255",
}

const (
	pluginName    = "jail-task-driver"
	apiVersion    = "0.1.0"
	attrPrefix    = "driver." + pluginName + "."
	defaultBinary = "../../build/src/jail-task-driver"
)

// binaryPath is the plugin under test: $JTD_BINARY, else the default
// build location.  A missing binary fails the test: the suite must never
// pass without having run the plugin.
func binaryPath(t testing.TB) string {
	t.Helper()
	p := os.Getenv("JTD_BINARY")
	if p == "" {
		p = defaultBinary
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatalf("JTD_BINARY %q: %v", p, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		t.Fatalf("plugin binary not found (set JTD_BINARY): %v", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("plugin binary %s is not an executable file", abs)
	}
	return abs
}

// pluginClients is what dispensing "driver" yields: the two Nomad
// services on the plugin's connection.
type pluginClients struct {
	Base   base.BasePluginClient
	Driver drivers.DriverClient
	Conn   *grpc.ClientConn
}

// driverPlugin is the host half of go-plugin's GRPCPlugin for "driver".
type driverPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (driverPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the suite is a client only")
}

func (driverPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker,
	c *grpc.ClientConn) (interface{}, error) {
	return &pluginClients{Base: base.NewBasePluginClient(c),
		Driver: drivers.NewDriverClient(c), Conn: c}, nil
}

// lineSink collects the plugin's raw stderr lines as go-plugin hands
// them over (the line, then a separate "\n").
type lineSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
}

func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.buf.Write(p)
	for {
		i := bytes.IndexByte(s.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		s.lines = append(s.lines, string(s.buf.Next(i + 1)[:i]))
	}
	return len(p), nil
}

func (s *lineSink) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := append([]string(nil), s.lines...)
	if s.buf.Len() > 0 {
		out = append(out, s.buf.String())
	}
	return out
}

// CompleteLines is Lines without a trailing unterminated line.
func (s *lineSink) CompleteLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]string(nil), s.lines...)
}

// harness is one plugin process started as Nomad starts it.
type harness struct {
	t      testing.TB
	bin    string
	client *plugin.Client
	rpc    *plugin.GRPCClient
	*pluginClients
	stderr  *lineSink
	hostLog *syncBuffer
	// killed: the test SIGKILLed the plugin, so its last stderr line
	// may be cut short; only complete lines are checked.
	killed bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHostLogger(w *syncBuffer) hclog.Logger {
	// Trace, so go-plugin parses every stderr line as Nomad's agent
	// would at its most verbose level.
	return hclog.New(&hclog.LoggerOptions{Name: "nomad",
		Level: hclog.Trace, Output: w, JSONFormat: false})
}

// launch starts the plugin with the real go-plugin client, dispenses
// "driver", and registers a cleanup that kills it and checks its stderr.
// The plugin logs at trace level (JTD_LOG_LEVEL, inherited from the
// agent's environment like any variable) so that every test checks as
// many stderr lines as possible; TestHandshakeLine covers the default.
func launch(t testing.TB) *harness {
	t.Helper()
	return launchEnv(t, "JTD_LOG_LEVEL=trace")
}

// launchEnv is launch with extra environment variables, which go-plugin
// puts before the host's environment and its own variables.
func launchEnv(t testing.TB, env ...string) *harness {
	t.Helper()

	h := newHarness(t, env...)
	t.Cleanup(h.close)
	h.connect()
	return h
}

// newHarness prepares the go-plugin client without starting the plugin;
// the caller arranges for h.close and then calls h.connect.
func newHarness(t testing.TB, env ...string) *harness {
	t.Helper()
	h := &harness{t: t, bin: binaryPath(t), stderr: &lineSink{},
		hostLog: &syncBuffer{}}
	cmd := exec.Command(h.bin)
	cmd.Env = env
	h.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  nomadHandshake,
		Plugins:          map[string]plugin.Plugin{"driver": driverPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           newHostLogger(h.hostLog),
		Stderr:           h.stderr,
	})
	return h
}

// connect launches the plugin (handshake) and dispenses "driver".
func (h *harness) connect() {
	t := h.t
	t.Helper()
	proto, err := h.client.Client()
	if err != nil {
		t.Fatalf("go-plugin could not start the plugin: %v\nhost log:\n%s",
			err, h.hostLog.String())
	}
	h.rpc = proto.(*plugin.GRPCClient)

	raw, err := proto.Dispense("driver")
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	h.pluginClients = raw.(*pluginClients)
}

func (h *harness) close() {
	h.client.Kill()
	if h.killed {
		checkStderr(h.t, h.stderr.CompleteLines())
	} else {
		checkStderr(h.t, h.stderr.Lines())
	}
	if h.t.Failed() {
		h.t.Logf("host log:\n%s", h.hostLog.String())
	}
}

// ctx gives each call a generous bound so a hung plugin fails the test
// instead of hanging it.
func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(),
		20*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

var hclogTimestamp = regexp.MustCompile(
	`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$`)

var hclogLevels = map[string]bool{"trace": true, "debug": true,
	"info": true, "warn": true, "error": true}

// checkStderrLine says what is wrong with one stderr line, or "".
// go-plugin type-asserts @message and @level to strings (a number would
// panic the agent) and reads @timestamp in one fixed layout.
func checkStderrLine(line string) string {
	if len(line) >= 64*1024 {
		return "line longer than go-plugin's 64 KiB buffer"
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		return "not a JSON object: " + err.Error()
	}
	lvl, ok := obj["@level"].(string)
	if !ok {
		return "@level missing or not a string"
	}
	if !hclogLevels[strings.ToLower(lvl)] {
		return fmt.Sprintf("@level %q is not an hclog level", lvl)
	}
	if _, ok := obj["@message"].(string); !ok {
		return "@message missing or not a string"
	}
	ts, ok := obj["@timestamp"].(string)
	if !ok {
		return "@timestamp missing or not a string"
	}
	if !hclogTimestamp.MatchString(ts) {
		return fmt.Sprintf("@timestamp %q not in hclog layout", ts)
	}
	return ""
}

func checkStderr(t testing.TB, lines []string) {
	t.Helper()
	for i, l := range lines {
		if why := checkStderrLine(l); why != "" {
			t.Errorf("stderr line %d: %s: %q", i+1, why, l)
		}
	}
}
