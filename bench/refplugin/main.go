// Command refplugin is the Go reference for the plugin benchmark: a Nomad
// task-driver plugin built the way every Go Nomad driver is built
// (go-plugin's plugin.Serve with Nomad's handshake, gRPC, an hclog JSON
// logger on stderr at TRACE level) that serves the same BasePlugin and
// Driver services as jail-task-driver, with the same answers.
//
// The answers come from -answers DIR when given: files holding the
// serialized response messages of the plugin under test (written by
// `harness answers`), returned verbatim so both plugins put the same bytes
// on the wire. Without the flag it uses small built-in answers, enough to
// prove the benchmark machinery against itself.
//
// Only the four services' Go types come from our protos; go-plugin itself
// registers the GRPCController, GRPCStdio, GRPCBroker and health services,
// exactly as in a real Go driver.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"jtd/bench/pb/base"
	"jtd/bench/pb/drivers"
	"jtd/bench/pb/hclspec"
	"jtd/bench/pb/structs"
)

// handshake is Nomad's go-plugin handshake (plugins/base Handshake).
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  2,
	MagicCookieKey:   "NOMAD_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255",
}

// fingerprintPeriod is how often Go Nomad drivers re-send their
// fingerprint on an open stream.
const fingerprintPeriod = 30 * time.Second

// answers holds the responses returned by the unary calls and the
// fingerprint stream.
type answers struct {
	pluginInfo       *base.PluginInfoResponse
	configSchema     *base.ConfigSchemaResponse
	capabilities     *drivers.CapabilitiesResponse
	taskConfigSchema *drivers.TaskConfigSchemaResponse
	fingerprint      *drivers.FingerprintResponse
}

func attr(name, typ string, required bool) *hclspec.Spec {
	return &hclspec.Spec{Block: &hclspec.Spec_Attr{Attr: &hclspec.Attr{
		Name: name, Type: typ, Required: required}}}
}

func defaultAnswers() *answers {
	return &answers{
		pluginInfo: &base.PluginInfoResponse{
			Type:              base.PluginType_DRIVER,
			PluginApiVersions: []string{"v0.1.0"},
			PluginVersion:     "0.1.0",
			Name:              "jail-task-driver",
		},
		configSchema: &base.ConfigSchemaResponse{
			Spec: &hclspec.Spec{Block: &hclspec.Spec_Object{
				Object: &hclspec.Object{Attributes: map[string]*hclspec.Spec{
					"enabled": attr("enabled", "bool", false),
				}}}},
		},
		capabilities: &drivers.CapabilitiesResponse{
			Capabilities: &drivers.DriverCapabilities{
				SendSignals: true,
				Exec:        true,
				FsIsolation: drivers.DriverCapabilities_CHROOT,
			},
		},
		taskConfigSchema: &drivers.TaskConfigSchemaResponse{
			Spec: &hclspec.Spec{Block: &hclspec.Spec_Object{
				Object: &hclspec.Object{Attributes: map[string]*hclspec.Spec{
					"command": attr("command", "string", true),
					"args":    attr("args", "list(string)", false),
					"env":     attr("env", "map(string)", false),
				}}}},
		},
		fingerprint: &drivers.FingerprintResponse{
			Attributes: map[string]*structs.Attribute{
				"driver.jail-task-driver": {Value: &structs.Attribute_BoolVal{
					BoolVal: true}},
			},
			Health:            drivers.FingerprintResponse_HEALTHY,
			HealthDescription: "Healthy",
		},
	}
}

// load replaces *dst by the message in dir/name when that file exists.
func load(dir, name string, dst proto.Message) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	proto.Reset(dst)
	if err := proto.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func loadAnswers(dir string) (*answers, error) {
	a := defaultAnswers()
	if dir == "" {
		return a, nil
	}
	files := []struct {
		name string
		msg  proto.Message
	}{
		{"plugin_info.pb", a.pluginInfo},
		{"config_schema.pb", a.configSchema},
		{"capabilities.pb", a.capabilities},
		{"task_config_schema.pb", a.taskConfigSchema},
		{"fingerprint.pb", a.fingerprint},
	}
	for _, f := range files {
		if err := load(dir, f.name, f.msg); err != nil {
			return nil, err
		}
	}
	return a, nil
}

type baseServer struct {
	base.UnimplementedBasePluginServer
	a *answers
}

func (s *baseServer) PluginInfo(context.Context, *base.PluginInfoRequest) (
	*base.PluginInfoResponse, error) {
	return s.a.pluginInfo, nil
}

func (s *baseServer) ConfigSchema(context.Context, *base.ConfigSchemaRequest) (
	*base.ConfigSchemaResponse, error) {
	return s.a.configSchema, nil
}

func (s *baseServer) SetConfig(context.Context, *base.SetConfigRequest) (
	*base.SetConfigResponse, error) {
	return &base.SetConfigResponse{}, nil
}

type driverServer struct {
	drivers.UnimplementedDriverServer
	a      *answers
	logger hclog.Logger
}

func (s *driverServer) TaskConfigSchema(context.Context,
	*drivers.TaskConfigSchemaRequest) (*drivers.TaskConfigSchemaResponse, error) {
	return s.a.taskConfigSchema, nil
}

func (s *driverServer) Capabilities(context.Context,
	*drivers.CapabilitiesRequest) (*drivers.CapabilitiesResponse, error) {
	return s.a.capabilities, nil
}

// Fingerprint mirrors the shape of Nomad's Go driver code: the driver
// produces fingerprints on a channel from its own goroutine (one now, then
// one per period) and the gRPC handler forwards them.
func (s *driverServer) Fingerprint(_ *drivers.FingerprintRequest,
	srv drivers.Driver_FingerprintServer) error {
	ctx := srv.Context()
	ch := make(chan *drivers.FingerprintResponse)
	go func() {
		defer close(ch)
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				t.Reset(fingerprintPeriod)
			}
			select {
			case <-ctx.Done():
				return
			case ch <- s.a.fingerprint:
			}
		}
	}()
	for f := range ch {
		if err := srv.Send(f); err != nil {
			return err
		}
	}
	return nil
}

// TaskEvents stays open until the caller goes away, forwarding events
// from a channel the way Nomad's eventer does; the benchmark starts no
// task, so no event is ever sent.
func (s *driverServer) TaskEvents(_ *drivers.TaskEventsRequest,
	srv drivers.Driver_TaskEventsServer) error {
	ctx := srv.Context()
	ch := make(chan *drivers.DriverTaskEvent)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	for ev := range ch {
		if err := srv.Send(ev); err != nil {
			return err
		}
	}
	return nil
}

// driverPlugin registers both services, as Nomad's plugins.Serve does with
// its "base" and "driver" plugin entries.
type driverPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	a      *answers
	logger hclog.Logger
	driver bool
}

func (p *driverPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.driver {
		drivers.RegisterDriverServer(s, &driverServer{a: p.a, logger: p.logger})
	} else {
		base.RegisterBasePluginServer(s, &baseServer{a: p.a})
	}
	return nil
}

func (p *driverPlugin) GRPCClient(context.Context, *plugin.GRPCBroker,
	*grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("refplugin is a server only")
}

func main() {
	dir := flag.String("answers", "", "directory of serialized responses")
	flag.Parse()

	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		JSONFormat: true,
	})

	a, err := loadAnswers(*dir)
	if err != nil {
		logger.Error("cannot load answers", "error", err)
		os.Exit(1)
	}

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshake,
		Plugins: map[string]plugin.Plugin{
			"base":   &driverPlugin{a: a, logger: logger},
			"driver": &driverPlugin{a: a, logger: logger, driver: true},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     logger,
	})
}
