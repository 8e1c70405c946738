package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"jtd/conformance/pb/drivers"
)

// lifecycleLanded flips expectValidStart from "the plugin validated the
// config and answered UNIMPLEMENTED" to "the plugin accepted the config
// (it may still fail to create the jail on this machine, but never with
// INVALID_ARGUMENT)".
const lifecycleLanded = true

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)[:n]
}

func uuid() string {
	h := randHex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" +
		h[20:]
}

// taskConfig builds the TaskConfig a Nomad 1.10 client sends for task
// `name` with the given encoded driver config (protocol notes §4.3).
func taskConfig(t testing.TB, name string, raw []byte,
	env map[string]string) *drivers.TaskConfig {
	t.Helper()
	allocID := uuid()
	allocDir := t.TempDir()
	for _, d := range []string{"alloc/logs", "alloc/data", "alloc/tmp",
		name + "/local", name + "/secrets", name + "/private"} {
		if err := os.MkdirAll(filepath.Join(allocDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &drivers.TaskConfig{
		Id:                  allocID + "/" + name + "/" + randHex(8),
		Name:                name,
		MsgpackDriverConfig: raw,
		Env:                 env,
		Resources: &drivers.Resources{
			AllocatedResources: &drivers.AllocatedTaskResources{
				Cpu:    &drivers.AllocatedCpuResources{CpuShares: 100},
				Memory: &drivers.AllocatedMemoryResources{MemoryMb: 300},
			},
			LinuxResources: &drivers.LinuxResources{
				CpuShares: 100, MemoryLimitBytes: 300 << 20,
				PercentTicks: 0.02,
			},
		},
		AllocDir: allocDir,
		// Nomad passes /dev/null when log collection is disabled; it
		// keeps the test from depending on a logmon reader.
		StdoutPath:    "/dev/null",
		StderrPath:    "/dev/null",
		TaskGroupName: "group",
		JobName:       "conformance",
		JobId:         "conformance",
		AllocId:       allocID,
		Namespace:     "default",
		NodeName:      "test-node",
		NodeId:        uuid(),
	}
}

func taskEnv(name string) map[string]string {
	return map[string]string{
		"NOMAD_TASK_NAME":   name,
		"NOMAD_TASK_DIR":    "/local",
		"NOMAD_ALLOC_DIR":   "/alloc",
		"NOMAD_SECRETS_DIR": "/secrets",
		"NOMAD_JOB_NAME":    "conformance",
		"NOMAD_GROUP_NAME":  "group",
		"NOMAD_NAMESPACE":   "default",
		"NOMAD_REGION":      "global",
		"NOMAD_DC":          "dc1",
	}
}

// startTask encodes cfg against the plugin's schema as Nomad does and
// calls StartTask.  A *DecodeError means Nomad itself would have failed
// the task before calling the plugin.
func (h *harness) startTask(name string, cfg map[string]any) (
	*drivers.StartTaskResponse, *drivers.TaskConfig, error) {
	h.t.Helper()
	env := taskEnv(name)
	raw, err := EncodeTaskConfig(h.taskSchema(), cfg, env)
	if err != nil {
		return nil, nil, err
	}
	tc := taskConfig(h.t, name, raw, env)
	resp, err := h.Driver.StartTask(h.ctx(),
		&drivers.StartTaskRequest{Task: tc})
	return resp, tc, err
}

// expectValidStart is the one place that says what a valid config must
// get from StartTask.  Until the lifecycle lands the plugin validates and
// then answers UNIMPLEMENTED; afterwards it must start the task or fail
// for a reason other than the config.
func expectValidStart(t *testing.T, h *harness, resp *drivers.StartTaskResponse,
	tc *drivers.TaskConfig, err error) {
	t.Helper()
	var de *DecodeError
	if errors.As(err, &de) {
		t.Fatalf("Nomad's decode refused a valid config against the "+
			"plugin's schema: %v", err)
	}

	if !lifecycleLanded {
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("StartTask with a valid config: want "+
				"UNIMPLEMENTED (lifecycle not landed), got %v", err)
		}
		return
	}

	if err != nil {
		if status.Code(err) == codes.InvalidArgument &&
			!backendOrHostReason(status.Convert(err).Message()) {
			t.Fatalf("StartTask refused a valid config: %v", err)
		}
		t.Logf("StartTask failed for a non-config reason: %v", err)
		return
	}
	if resp.GetHandle().GetConfig().GetId() != tc.GetId() {
		t.Errorf("handle.config.id = %q, want %q",
			resp.GetHandle().GetConfig().GetId(), tc.GetId())
	}
	_, _ = h.Driver.StopTask(h.ctx(), &drivers.StopTaskRequest{
		TaskId: tc.GetId(), Timeout: durationpb.New(time.Second)})
	if _, err := h.Driver.DestroyTask(h.ctx(), &drivers.DestroyTaskRequest{
		TaskId: tc.GetId(), Force: true}); err != nil {
		t.Errorf("DestroyTask after a test start: %v", err)
	}
}

// backendOrHostReason: an INVALID_ARGUMENT that is not about the config
// as such: a parameter this OS's backend refuses (FreeBSD-only features
// on Linux, named with the backend), or a host path the config names
// that this machine lacks (the seed's /zroot jail roots).
func backendOrHostReason(msg string) bool {
	if strings.Contains(msg, "invalid config") {
		return false
	}
	low := strings.ToLower(msg)
	return strings.Contains(low, "linux backend") ||
		strings.Contains(low, "freebsd backend") ||
		strings.Contains(msg, "No such file or directory")
}

func seedConfig(t testing.TB, file string) map[string]any {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := TaskConfigFromHCL(src, file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func allRctlNumbers() map[string]any {
	m := map[string]any{}
	for i, r := range rctlResources {
		m[r] = 1000 + i
	}
	return m
}

func TestStartTaskValid(t *testing.T) {
	t.Parallel()
	ex1 := seedConfig(t, "seed_example1.hcl")
	ex1Block := seedConfig(t, "seed_example1.hcl")
	ex1Block["Rctl"] = []any{ex1Block["Rctl"]}

	cases := []struct {
		name string
		cfg  map[string]any
	}{
		{"seed example 1", ex1},
		{"seed example 1, Rctl in block syntax", ex1Block},
		{"seed example 2 (later duplicate wins)",
			seedConfig(t, "seed_example2.hcl")},
		{"all 25 rctl resources", map[string]any{
			"Path": "/zroot/jails/a", "Exec_start": "/bin/sh /etc/rc",
			"Rctl": allRctlNumbers()}},
		{"rctl Amount/Action/Per form", map[string]any{
			"Path": "/zroot/jails/a", "Exec_start": "/bin/sh /etc/rc",
			"Rctl": map[string]any{
				"Vmemoryuse": map[string]any{"Amount": 1200000,
					"Action": "deny"},
				"Maxproc": map[string]any{"Amount": 100,
					"Action": "deny", "Per": "jail"},
				"Pcpu": map[string]any{"Amount": 50,
					"Action": "deny", "Per": "jail"},
				"Readbps": map[string]any{"Amount": 10 << 20,
					"Action": "throttle"},
				"Openfiles": map[string]any{"Amount": 1024,
					"Action": "log"},
				"Memoryuse": 1 << 30,
			}}},
		{"command and args", map[string]any{
			"Path": "/zroot/jails/a", "command": "/bin/sleep",
			"args": []any{"60"}}},
		{"Ip4 inherit", map[string]any{"Path": "/zroot/jails/a",
			"Ip4": "inherit", "Exec_start": "/bin/sh /etc/rc"}},
		{"Ip4 new with addresses", map[string]any{"Path": "/zroot/jails/a",
			"Ip4": "new", "Exec_start": "/bin/sh /etc/rc",
			"Ip4_addr": "em0|10.0.0.2/24,10.0.0.3"}},
		{"Vnet new", map[string]any{"Path": "/zroot/jails/a",
			"Vnet": "new", "Vnet_nic": "e0b_a",
			"Exec_start": "/bin/sh /etc/rc"}},
		{"interpolated Exec_start", map[string]any{
			"Path":       "/zroot/jails/a",
			"Exec_start": "/bin/sh ${NOMAD_TASK_DIR}/run.sh"}},
	}

	h := launch(t)
	h.permissivePolicy()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			resp, tc, err := h.startTask("jailtask", c.cfg)
			expectValidStart(t, h, resp, tc, err)
		})
	}
	h.t = t
}

// permissivePolicy sets a plugin config under which the seed examples
// pass the operator policy: their paths are allowed and host hooks on.
func (h *harness) permissivePolicy() {
	h.t.Helper()
	if err := h.setConfig(map[string]any{
		"allow_host_hooks": true,
		"allowed_paths":    []any{"/zroot", "/var/tmp"},
		"state_dir":        h.t.TempDir(),
	}, nomadConfig()); err != nil {
		h.t.Fatalf("SetConfig: %v", err)
	}
}

// invalidConfigCases: one bad config per validation rule (shared with
// the end-to-end test that checks a refused start leaves nothing).
func invalidConfigCases() []configCase {
	base := func(kv map[string]any) map[string]any {
		m := map[string]any{"Path": "/zroot/jails/a",
			"Exec_start": "/bin/sh /etc/rc"}
		for k, v := range kv {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	return []configCase{
		{name: "Ip4 bogus", cfg: base(map[string]any{"Ip4": "bogus"}),
			params: []string{"Ip4"},
			want:   []string{"inherit", "new", "disable"}},
		{name: "Vnet with Ip4_addr", cfg: base(map[string]any{
			"Vnet": true, "Ip4_addr": "em0|10.0.0.2"}),
			params: []string{"Vnet", "Ip4_addr"}},
		{name: "relative Path",
			cfg:    base(map[string]any{"Path": "zroot/jails/a"}),
			params: []string{"Path"}, anyOf: []string{"absolute"}},
		{name: "Allow_chflags not a bool",
			cfg:    base(map[string]any{"Allow_chflags": "maybe"}),
			params: []string{"Allow_chflags"},
			anyOf:  []string{"bool", "true"}, byNomad: true},
		{name: "unknown parameter",
			cfg:    base(map[string]any{"Allow_everything": true}),
			params: []string{"Allow_everything"}, byNomad: true},
		{name: "Rctl unknown resource", cfg: base(map[string]any{
			"Rctl": map[string]any{"Vmemoryuse": 1, "Bogusresource": 5}}),
			params: []string{"Bogusresource"}, anyOf: rctlResources,
			byNomad: true},
		{name: "Rctl bad Action", cfg: base(map[string]any{
			"Rctl": map[string]any{"Vmemoryuse": map[string]any{
				"Amount": 1000, "Action": "explode"}}}),
			params: []string{"Action"}, want: []string{"deny"}},
		{name: "Rctl bad Per", cfg: base(map[string]any{
			"Rctl": map[string]any{"Maxproc": map[string]any{
				"Amount": 10, "Action": "deny", "Per": "galaxy"}}}),
			params: []string{"Per"}, want: []string{"jail"}},
		{name: "Rctl negative amount", cfg: base(map[string]any{
			"Rctl": map[string]any{"Vmemoryuse": -5}}),
			params: []string{"Vmemoryuse"},
			anyOf:  nonNegativeWords},
		{name: "Rctl negative Amount", cfg: base(map[string]any{
			"Rctl": map[string]any{"Maxproc": map[string]any{
				"Amount": -1, "Action": "deny"}}}),
			params: []string{"Maxproc"},
			anyOf:  nonNegativeWords},
		{name: "command with Exec_start", cfg: base(map[string]any{
			"command": "/bin/sleep"}),
			params: []string{"command", "Exec_start"}},
		{name: "args without command", cfg: base(map[string]any{
			"args": []any{"1"}}),
			params: []string{"args", "command"}},
		{name: "Enforce_statfs 5",
			cfg:    base(map[string]any{"Enforce_statfs": 5}),
			params: []string{"Enforce_statfs"},
			want:   []string{"0", "2"}},
		{name: "malformed Ip4_addr",
			cfg:    base(map[string]any{"Ip4_addr": "em0|10.0.0.999"}),
			params: []string{"Ip4_addr"},
			anyOf:  []string{"address", "ipv4"}},
		{name: "Devfs_ruleset 70000",
			cfg:    base(map[string]any{"Devfs_ruleset": 70000}),
			params: []string{"Devfs_ruleset"},
			anyOf:  []string{"65535"}},
		{name: "Vnet bogus",
			cfg:    base(map[string]any{"Vnet": "sideways"}),
			params: []string{"Vnet"},
			want:   []string{"new", "inherit"}},
	}
}

func TestStartTaskInvalid(t *testing.T) {
	t.Parallel()
	cases := invalidConfigCases()
	h := launch(t)
	h.permissivePolicy()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			_, _, err := h.startTask("jailtask", c.cfg)
			checkRejected(t, c, err)
		})
	}
	h.t = t
}

// Nomad sends `c0` for every absent parameter and may send a number as a
// decimal string (notes §5.4); a hand-made payload checks the plugin
// decodes what Nomad can produce, not only what this encoder happens to.
func TestStartTaskRawPayloads(t *testing.T) {
	t.Parallel()
	h := launch(t)
	h.permissivePolicy()

	// {"Exec_start": "/bin/sh /etc/rc", "Path": "/zroot/jails/a",
	//  "Rctl": {"Vmemoryuse": "1200000"}} with the number as a string.
	raw := []byte{0x83}
	raw = appendStr(raw, "Exec_start")
	raw = appendStr(raw, "/bin/sh /etc/rc")
	raw = appendStr(raw, "Path")
	raw = appendStr(raw, "/zroot/jails/a")
	raw = appendStr(raw, "Rctl")
	raw = append(raw, 0x81)
	raw = appendStr(raw, "Vmemoryuse")
	raw = appendStr(raw, "1200000")

	tc := taskConfig(t, "jailtask", raw, taskEnv("jailtask"))
	resp, err := h.Driver.StartTask(h.ctx(),
		&drivers.StartTaskRequest{Task: tc})
	expectValidStart(t, h, resp, tc, err)

	// Garbage bytes are a config error, not a crash.
	tc = taskConfig(t, "jailtask", []byte{0xc1, 0xff, 0x00},
		taskEnv("jailtask"))
	_, err = h.Driver.StartTask(h.ctx(), &drivers.StartTaskRequest{Task: tc})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("StartTask with undecodable config: want "+
			"INVALID_ARGUMENT, got %v", err)
	}

	// No task at all.
	_, err = h.Driver.StartTask(h.ctx(), &drivers.StartTaskRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("StartTask without a task: want INVALID_ARGUMENT, "+
			"got %v", err)
	}
	h.alive()
}

// Ways of saying "0 or more".
var nonNegativeWords = []string{"negative", ">= 0", ">=0", "at least 0",
	"0 or more", "from 0", "positive"}

func appendStr(b []byte, s string) []byte {
	return append(append(b, byte(0xa0+len(s))), s...)
}

// The operator's plugin config limits what jobs may do; a refusal is
// PERMISSION_DENIED naming the task parameter and the plugin option.
func TestStartTaskPolicy(t *testing.T) {
	t.Parallel()
	ex1 := seedConfig(t, "seed_example1.hcl")
	ex2 := seedConfig(t, "seed_example2.hcl")
	noPath := map[string]any{"Exec_start": "/bin/sh /etc/rc"}

	cases := []struct {
		name   string
		policy map[string]any
		cfg    map[string]any
		params []string // nil: the config must pass the policy
	}{
		{"default policy, Path outside allowed_paths", map[string]any{},
			ex1, []string{"Path", "allowed_paths"}},
		{"default policy, no Path (task dir)", map[string]any{},
			noPath, nil},
		{"host hooks not allowed", map[string]any{
			"allowed_paths": []any{"/zroot", "/var/tmp"}},
			ex2, []string{"Exec_prestart", "allow_host_hooks"}},
		{"Exec_consolelog outside allowed_paths", map[string]any{
			"allow_host_hooks": true, "allowed_paths": []any{"/zroot"}},
			ex2, []string{"Exec_consolelog", "allowed_paths"}},
		{"denied parameter", map[string]any{
			"allowed_paths":     []any{"/"},
			"denied_parameters": []any{"Allow_chflags"}},
			ex1, []string{"Allow_chflags", "denied_parameters"}},
		{"allowed_paths / allows any Path", map[string]any{
			"allowed_paths": []any{"/"}}, ex1, nil},
	}

	h := launch(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			// Tasks that do start keep their state in the test's
			// own directory.
			c.policy["state_dir"] = t.TempDir()
			if err := h.setConfig(c.policy, nomadConfig()); err != nil {
				t.Fatalf("SetConfig(%v): %v", c.policy, err)
			}
			resp, tc, err := h.startTask("jailtask", c.cfg)
			if c.params == nil {
				expectValidStart(t, h, resp, tc, err)
				return
			}
			st, _ := status.FromError(err)
			if st.Code() != codes.PermissionDenied {
				t.Fatalf("want PERMISSION_DENIED, got %v", err)
			}
			for _, p := range c.params {
				if !strings.Contains(st.Message(), p) {
					t.Errorf("message %q does not name %q",
						st.Message(), p)
				}
			}
			t.Logf("refused: %s", st.Message())
		})
	}
	h.t = t
}

// enabled = false: the driver reports itself undetected and refuses
// every task, saying why.
func TestDisabledDriver(t *testing.T) {
	t.Parallel()
	h := launch(t)
	if err := h.setConfig(map[string]any{"enabled": false,
		"state_dir":     t.TempDir(),
		"allowed_paths": []any{"/"}}, nomadConfig()); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}

	fp, err := h.Driver.Fingerprint(h.ctx(), &drivers.FingerprintRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := fp.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.GetHealth() == drivers.FingerprintResponse_HEALTHY {
		t.Errorf("disabled driver fingerprints HEALTHY")
	}
	if !strings.Contains(first.GetHealthDescription(), "enabled") {
		t.Errorf("health description %q does not say why",
			first.GetHealthDescription())
	}

	_, _, err = h.startTask("jailtask", seedConfig(t, "seed_example1.hcl"))
	if err == nil || status.Code(err) == codes.Unimplemented {
		t.Fatalf("disabled driver: StartTask = %v, want a refusal", err)
	}
	if !strings.Contains(status.Convert(err).Message(), "enabled") {
		t.Errorf("refusal %q does not mention enabled = false", err)
	}
}
