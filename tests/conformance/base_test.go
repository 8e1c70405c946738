package conformance

import (
	"errors"
	"strings"
	"testing"

	version "github.com/hashicorp/go-version"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"jtd/conformance/pb/base"
	"jtd/conformance/pb/hclspec"
)

func TestPluginInfo(t *testing.T) {
	t.Parallel()
	h := launch(t)

	info, err := h.Base.PluginInfo(h.ctx(), &base.PluginInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetType() != base.PluginType_DRIVER {
		t.Errorf("type = %v, want DRIVER", info.GetType())
	}
	if info.GetName() != pluginName {
		t.Errorf("name = %q, want %q", info.GetName(), pluginName)
	}
	// Nomad parses plugin_version with hashicorp/go-version and refuses
	// to start when it fails.
	if _, err := version.NewVersion(info.GetPluginVersion()); err != nil {
		t.Errorf("plugin_version %q does not parse: %v",
			info.GetPluginVersion(), err)
	}
	t.Logf("PluginInfo: %v", info)
	if pickAPIVersion(t, info) == "" {
		t.Errorf("plugin_api_versions %q has no version equal to %s; "+
			"Nomad would skip the plugin", info.GetPluginApiVersions(),
			apiVersion)
	}
}

// pickAPIVersion does Nomad's negotiation: every entry must parse (a
// failure fails the load) and the first one semver-equal to the host's
// 0.1.0 wins, spelled as the plugin spelled it.
func pickAPIVersion(t testing.TB, info *base.PluginInfoResponse) string {
	t.Helper()
	want := version.Must(version.NewVersion(apiVersion))
	picked := ""
	for _, v := range info.GetPluginApiVersions() {
		pv, err := version.NewVersion(v)
		if err != nil {
			t.Errorf("plugin_api_versions entry %q does not parse: %v",
				v, err)
			continue
		}
		if picked == "" && pv.Equal(want) {
			picked = v
		}
	}
	return picked
}

func (h *harness) apiVersion() string {
	info, err := h.Base.PluginInfo(h.ctx(), &base.PluginInfoRequest{})
	if err != nil {
		h.t.Fatalf("PluginInfo: %v", err)
	}
	v := pickAPIVersion(h.t, info)
	if v == "" {
		h.t.Fatalf("no usable plugin api version in %q",
			info.GetPluginApiVersions())
	}
	return v
}

func (h *harness) configSchema() *hclspec.Spec {
	resp, err := h.Base.ConfigSchema(h.ctx(), &base.ConfigSchemaRequest{})
	if err != nil {
		h.t.Fatalf("ConfigSchema: %v", err)
	}
	if resp.GetSpec() == nil {
		h.t.Fatal("ConfigSchema returned no spec; the plugin documents " +
			"a plugin config block")
	}
	return resp.GetSpec()
}

// nomadConfig is what the long-lived instance gets (defaults of a
// client agent).
func nomadConfig() *base.NomadConfig {
	return &base.NomadConfig{Driver: &base.NomadDriverConfig{
		ClientMinPort: 14000, ClientMaxPort: 14512}}
}

// setConfig encodes cfg as Nomad does and sends it.  A Nomad-side
// rejection is returned as *DecodeError without calling the plugin.
func (h *harness) setConfig(cfg map[string]any, nc *base.NomadConfig) error {
	h.t.Helper()
	raw, err := EncodePluginConfig(h.configSchema(), cfg)
	if err != nil {
		return err
	}
	_, err = h.Base.SetConfig(h.ctx(), &base.SetConfigRequest{
		MsgpackConfig: raw, NomadConfig: nc,
		PluginApiVersion: h.apiVersion()})
	return err
}

func TestConfigSchema(t *testing.T) {
	t.Parallel()
	h := launch(t)

	spec := h.configSchema()
	if _, diags := SpecToHCLDec(spec); diags.HasErrors() {
		t.Fatalf("ConfigSchema is not convertible: %v", diags)
	}
	names := topLevelNames(spec)
	for _, want := range []string{"enabled", "allow_host_hooks",
		"allowed_paths", "denied_parameters"} {
		if !names[want] {
			t.Errorf("plugin config parameter %q missing; have %v",
				want, sortedKeys(names))
		}
	}
}

func TestSetConfigGood(t *testing.T) {
	t.Parallel()
	full := map[string]any{
		"enabled":           true,
		"allow_host_hooks":  true,
		"allowed_paths":     []any{"/zroot/iocage/jails", "/usr/jails"},
		"denied_parameters": []any{"Allow_raw_sockets", "Mount_devfs"},
	}
	cases := []struct {
		name string
		cfg  map[string]any
		nc   *base.NomadConfig
	}{
		{"empty map, validation instance", map[string]any{}, nil},
		{"empty map, long-lived instance", map[string]any{}, nomadConfig()},
		{"full, validation instance", full, nil},
		{"full, long-lived instance", full, nomadConfig()},
		{"disabled", map[string]any{"enabled": false}, nomadConfig()},
	}
	h := launch(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			if err := h.setConfig(c.cfg, c.nc); err != nil {
				t.Fatalf("SetConfig(%v): %v", c.cfg, err)
			}
		})
	}
	h.t = t

	// The plugin documents an empty payload as "all defaults" (Nomad
	// itself always encodes at least an empty map when a schema exists).
	if _, err := h.Base.SetConfig(h.ctx(), &base.SetConfigRequest{
		NomadConfig:      nomadConfig(),
		PluginApiVersion: h.apiVersion()}); err != nil {
		t.Fatalf("SetConfig with zero-length msgpack_config: %v", err)
	}

	// Nomad sends the same bytes twice to the validation instance.
	raw, err := EncodePluginConfig(h.configSchema(), full)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := h.Base.SetConfig(h.ctx(), &base.SetConfigRequest{
			MsgpackConfig: raw, PluginApiVersion: h.apiVersion()}); err != nil {
			t.Fatalf("repeated SetConfig: %v", err)
		}
	}
}

// configCase is one rejected config: the parameter the message must name
// and the words that tell the user what is accepted (all of want, and
// one of anyOf when given).
type configCase struct {
	name   string
	cfg    map[string]any
	params []string
	want   []string
	anyOf  []string
	// byNomad: Nomad's own decode against the plugin's schema refuses
	// it (a type error or an unknown key), so the plugin never sees it;
	// otherwise the schema must let it through and the plugin refuse it
	// with INVALID_ARGUMENT.
	byNomad bool
}

func TestSetConfigBad(t *testing.T) {
	t.Parallel()
	cases := []configCase{
		{name: "enabled not a bool",
			cfg:    map[string]any{"enabled": "maybe"},
			params: []string{"enabled"}, anyOf: []string{"bool"},
			byNomad: true},
		{name: "allowed_paths not a list",
			cfg:    map[string]any{"allowed_paths": map[string]any{"a": 1}},
			params: []string{"allowed_paths"}, byNomad: true},
		{name: "allowed_paths relative",
			cfg:    map[string]any{"allowed_paths": []any{"jails/x"}},
			params: []string{"allowed_paths"},
			anyOf:  []string{"absolute"}},
		{name: "denied_parameters unknown name",
			cfg: map[string]any{
				"denied_parameters": []any{"No_such_parameter"}},
			params: []string{"denied_parameters", "No_such_parameter"}},
	}
	h := launch(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			err := h.setConfig(c.cfg, nomadConfig())
			checkRejected(t, c, err)
		})
	}
	h.t = t

	// The plugin still accepts a good config afterwards.
	if err := h.setConfig(map[string]any{}, nomadConfig()); err != nil {
		t.Fatalf("SetConfig after rejections: %v", err)
	}
}

// checkRejected asserts err is a rejection that names the parameter and
// what is accepted, and says which side rejected.
func checkRejected(t *testing.T, c configCase, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted %v; want a rejection naming %v", c.cfg,
			c.params)
	}

	var de *DecodeError
	if errors.As(err, &de) {
		if !c.byNomad {
			t.Fatalf("Nomad's decode refused %v before the plugin "+
				"saw it (%v); the schema should accept it and the "+
				"plugin validate it", c.cfg, err)
		}
		// hcldec names the attribute it refused.
		mentionsAny(t, "Nomad-side decode error", err.Error(), c.params)
		t.Logf("rejected by Nomad's decode against the plugin schema: %v",
			err)
		return
	}
	if c.byNomad {
		t.Errorf("Nomad's decode let %v through to the plugin; the "+
			"schema should type the parameter so Nomad refuses it", c.cfg)
	}

	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("want INVALID_ARGUMENT, got %v", err)
	}
	msg := st.Message()
	for _, p := range c.params {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q does not name %q", msg, p)
		}
	}
	low := strings.ToLower(msg)
	for _, w := range c.want {
		if !strings.Contains(low, strings.ToLower(w)) {
			t.Errorf("message %q does not say %q is accepted", msg, w)
		}
	}
	if len(c.anyOf) > 0 {
		found := false
		for _, w := range c.anyOf {
			found = found || strings.Contains(low, strings.ToLower(w))
		}
		if !found {
			t.Errorf("message %q says none of %q", msg, c.anyOf)
		}
	}
	t.Logf("rejected by the plugin: %s", msg)
}

func mentionsAny(t *testing.T, what, msg string, names []string) {
	t.Helper()
	for _, n := range names {
		if strings.Contains(msg, n) {
			return
		}
	}
	t.Errorf("%s %q names none of %q", what, msg, names)
}
