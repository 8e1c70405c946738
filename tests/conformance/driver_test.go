package conformance

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"jtd/conformance/pb/base"
	"jtd/conformance/pb/drivers"
	"jtd/conformance/pb/structs"
)

// alive fails the test unless the plugin still answers.
func (h *harness) alive() {
	h.t.Helper()
	if _, err := h.Base.PluginInfo(h.ctx(),
		&base.PluginInfoRequest{}); err != nil {
		h.t.Fatalf("plugin no longer answers: %v", err)
	}
	if h.client.Exited() {
		h.t.Fatal("plugin process exited")
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	h := launch(t)

	resp, err := h.Driver.Capabilities(h.ctx(), &drivers.CapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c := resp.GetCapabilities()
	if c == nil {
		t.Fatal("no capabilities message; Nomad would assume all false")
	}
	if !c.GetSendSignals() {
		t.Error("send_signals = false, want true")
	}
	if !c.GetExec() {
		t.Error("exec = false, want true")
	}
	// The jail root is the task's own filesystem image; with IMAGE Nomad
	// does not build a chroot in the task dir.
	if c.GetFsIsolation() != drivers.DriverCapabilities_IMAGE {
		t.Errorf("fs_isolation = %v, want IMAGE", c.GetFsIsolation())
	}
	if c.GetMountConfigs() != drivers.DriverCapabilities_ANY_MOUNTS {
		t.Errorf("mount_configs = %v, want ANY (0)", c.GetMountConfigs())
	}
	if !slices.Contains(c.GetNetworkIsolationModes(),
		drivers.NetworkIsolationSpec_HOST) {
		t.Errorf("network_isolation_modes %v lack HOST",
			c.GetNetworkIsolationModes())
	}
	if c.GetRemoteTasks() {
		t.Error("remote_tasks = true; the field is reserved in Nomad 1.10")
	}
	if c.GetMustCreateNetwork() {
		t.Error("must_create_network = true, but the plugin has no " +
			"CreateNetwork")
	}
}

// fingerprintAttrs is the one list of fingerprint attributes the plugin
// documents (src/backend/*/probe.c).  required: always present on this
// OS; check, when set, must hold for the value.  Any other key must
// still carry the driver's prefix.
var fingerprintAttrs = []struct {
	key      string
	required bool
	check    func(*structs.Attribute) string
}{
	{key: "version", required: true, check: nonEmptyString},
	{key: "os", required: true, check: oneOf(runtime.GOOS)},
	{key: "backend", required: true,
		check: oneOf(map[string]string{"linux": "linux-namespaces",
			"freebsd": "freebsd-jail"}[runtime.GOOS])},
	{key: "os_release", check: nonEmptyString},
	{key: "root", required: true, check: func(a *structs.Attribute) string {
		v, ok := a.GetValue().(*structs.Attribute_BoolVal)
		if !ok || v.BoolVal != (os.Geteuid() == 0) {
			return fmt.Sprintf("want bool %v", os.Geteuid() == 0)
		}
		return ""
	}},
	// Linux backend.
	{key: "namespaces", required: runtime.GOOS == "linux",
		check: nonEmptyString},
	{key: "cgroup.version", required: runtime.GOOS == "linux",
		check: oneOf("v1", "v2", "hybrid")},
	{key: "cgroup.v1_controllers", check: nonEmptyString},
	{key: "cgroup.v2_controllers", check: nonEmptyString},
	// FreeBSD backend.
	{key: "jailed", check: isBool},
	{key: "racct", required: runtime.GOOS == "freebsd", check: isBool},
	{key: "vimage", required: runtime.GOOS == "freebsd", check: isBool},
}

func nonEmptyString(a *structs.Attribute) string {
	if a.GetStringVal() == "" {
		return "want a non-empty string"
	}
	return ""
}

func isBool(a *structs.Attribute) string {
	if _, ok := a.GetValue().(*structs.Attribute_BoolVal); !ok {
		return "want a bool"
	}
	return ""
}

func oneOf(vals ...string) func(*structs.Attribute) string {
	return func(a *structs.Attribute) string {
		if !slices.Contains(vals, a.GetStringVal()) {
			return fmt.Sprintf("want one of %q", vals)
		}
		return ""
	}
}

func checkFingerprint(t *testing.T, fp *drivers.FingerprintResponse) {
	t.Helper()
	attrs := fp.GetAttributes()
	for _, a := range fingerprintAttrs {
		v, ok := attrs[attrPrefix+a.key]
		if !ok {
			if a.required {
				t.Errorf("fingerprint lacks %s; have %v",
					attrPrefix+a.key, sortedKeys(attrs))
			}
			continue
		}
		if why := a.check(v); why != "" {
			t.Errorf("fingerprint %s = %v: %s", attrPrefix+a.key, v, why)
		}
	}
	for k, v := range attrs {
		if k != "driver."+pluginName && !strings.HasPrefix(k, attrPrefix) {
			t.Errorf("fingerprint attribute %q outside %s*", k, attrPrefix)
		}
		if v == nil || v.GetValue() == nil {
			t.Errorf("fingerprint attribute %q has no value", k)
		}
	}

	switch fp.GetHealth() {
	case drivers.FingerprintResponse_HEALTHY,
		drivers.FingerprintResponse_UNHEALTHY,
		drivers.FingerprintResponse_UNDETECTED:
	default:
		t.Errorf("health %v is not a known state", fp.GetHealth())
	}
	if strings.TrimSpace(fp.GetHealthDescription()) == "" {
		t.Errorf("health %v without a description", fp.GetHealth())
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	h := launch(t)
	if err := h.setConfig(map[string]any{}, nomadConfig()); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}

	const hold = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), hold)
	defer cancel()

	start := time.Now()
	stream, err := h.Driver.Fingerprint(ctx, &drivers.FingerprintRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("first fingerprint: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("first fingerprint took %v, want it at once (< 1 s)", d)
	}
	checkFingerprint(t, first)
	t.Logf("fingerprint: health %v %q", first.GetHealth(),
		first.GetHealthDescription())
	for _, k := range sortedKeys(first.GetAttributes()) {
		t.Logf("  %s = %v", k, first.GetAttributes()[k])
	}

	// The stream must stay open: only our own deadline may end it.
	n := 1
	for {
		fp, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("fingerprint stream ended after %v with %v "+
					"(Nomad would mark the driver unhealthy and "+
					"re-open it)", time.Since(start), err)
			}
			break
		}
		n++
		checkFingerprint(t, fp)
	}
	t.Logf("%d fingerprints in %v", n, hold)
	h.alive()
}

func TestTaskEventsStaysOpen(t *testing.T) {
	t.Parallel()
	h := launch(t)

	ctx, cancel := context.WithTimeout(context.Background(),
		3*time.Second)
	defer cancel()
	stream, err := h.Driver.TaskEvents(ctx, &drivers.TaskEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("TaskEvents ended with %v; Nomad re-opens "+
					"it in a loop", err)
			}
			break
		}
		// No task runs, so any event is unexpected but not fatal.
		t.Logf("unexpected event: %v", ev)
	}
	h.alive()
}

func TestUnknownTaskID(t *testing.T) {
	t.Parallel()
	h := launch(t)
	const id = "00000000-0000-0000-0000-000000000000/nope/abcdef12"

	calls := map[string]func(context.Context) error{
		"WaitTask": func(ctx context.Context) error {
			_, err := h.Driver.WaitTask(ctx,
				&drivers.WaitTaskRequest{TaskId: id})
			return err
		},
		"StopTask": func(ctx context.Context) error {
			_, err := h.Driver.StopTask(ctx, &drivers.StopTaskRequest{
				TaskId: id, Timeout: durationpb.New(time.Second),
				Signal: "SIGINT"})
			return err
		},
		"DestroyTask": func(ctx context.Context) error {
			_, err := h.Driver.DestroyTask(ctx,
				&drivers.DestroyTaskRequest{TaskId: id, Force: true})
			return err
		},
		"InspectTask": func(ctx context.Context) error {
			_, err := h.Driver.InspectTask(ctx,
				&drivers.InspectTaskRequest{TaskId: id})
			return err
		},
		"SignalTask": func(ctx context.Context) error {
			_, err := h.Driver.SignalTask(ctx,
				&drivers.SignalTaskRequest{TaskId: id, Signal: "SIGHUP"})
			return err
		},
		"ExecTask": func(ctx context.Context) error {
			_, err := h.Driver.ExecTask(ctx, &drivers.ExecTaskRequest{
				TaskId: id, Command: []string{"/bin/true"},
				Timeout: durationpb.New(time.Second)})
			return err
		},
		"TaskStats": func(ctx context.Context) error {
			s, err := h.Driver.TaskStats(ctx, &drivers.TaskStatsRequest{
				TaskId:             id,
				CollectionInterval: durationpb.New(time.Second)})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
		"ExecTaskStreaming": func(ctx context.Context) error {
			s, err := h.Driver.ExecTaskStreaming(ctx)
			if err != nil {
				return err
			}
			err = s.Send(&drivers.ExecTaskStreamingRequest{
				Setup: &drivers.ExecTaskStreamingRequest_Setup{
					TaskId: id, Command: []string{"/bin/sh"}}})
			if err != nil && err != io.EOF {
				return err
			}
			_, err = s.Recv()
			return err
		},
	}
	for _, name := range sortedKeys(calls) {
		t.Run(name, func(t *testing.T) {
			h.t = t
			err := calls[name](h.ctx())
			// DestroyTask is idempotent: destroying what does not
			// exist (any more) succeeds; Nomad ignores its result.
			if name == "DestroyTask" && err == nil {
				h.alive()
				return
			}
			if status.Code(err) != codes.NotFound {
				t.Errorf("%s on an unknown task: want NOT_FOUND, got %v",
					name, err)
			}
			h.alive()
		})
	}
	h.t = t
}

func TestRecoverTaskWithoutConfig(t *testing.T) {
	t.Parallel()
	h := launch(t)

	cases := map[string]*drivers.RecoverTaskRequest{
		"no handle":         {},
		"handle w/o config": {Handle: &drivers.TaskHandle{Version: 1}},
		"task_id only":      {TaskId: "a/b/c"},
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) {
			h.t = t
			_, err := h.Driver.RecoverTask(h.ctx(), cases[name])
			if err == nil {
				t.Errorf("RecoverTask(%s) succeeded; there is "+
					"nothing to recover", name)
			} else {
				t.Logf("RecoverTask(%s): %v", name, err)
			}
			h.alive()
		})
	}
	h.t = t
}
