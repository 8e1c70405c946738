package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"jtd/conformance/pb/base"
	"jtd/conformance/pb/drivers"
)

// 64 long-lived streams held open on one connection (as Nomad holds
// Fingerprint, TaskEvents, WaitTask, TaskStats…) while 500 unary calls
// run from several goroutines; then the client cancels the streams and
// the plugin must carry on.
func TestConcurrentStreamsAndUnary(t *testing.T) {
	t.Parallel()
	h := launch(t)

	const (
		nFingerprint = 32
		nEvents      = 32
		nUnary       = 500
		workers      = 8
	)

	streamCtx, cancelStreams := context.WithCancel(context.Background())
	defer cancelStreams()

	type ended struct {
		kind string
		i    int
		err  error
	}
	endCh := make(chan ended, nFingerprint+nEvents)
	var open sync.WaitGroup

	for i := range nFingerprint {
		s, err := h.Driver.Fingerprint(streamCtx,
			&drivers.FingerprintRequest{})
		if err != nil {
			t.Fatalf("Fingerprint stream %d: %v", i, err)
		}
		// The first message proves the plugin serves this stream.
		if _, err := s.Recv(); err != nil {
			t.Fatalf("Fingerprint stream %d first message: %v", i, err)
		}
		open.Add(1)
		go func() {
			defer open.Done()
			for {
				if _, err := s.Recv(); err != nil {
					endCh <- ended{"Fingerprint", i, err}
					return
				}
			}
		}()
	}
	for i := range nEvents {
		s, err := h.Driver.TaskEvents(streamCtx,
			&drivers.TaskEventsRequest{})
		if err != nil {
			t.Fatalf("TaskEvents stream %d: %v", i, err)
		}
		open.Add(1)
		go func() {
			defer open.Done()
			for {
				if _, err := s.Recv(); err != nil {
					endCh <- ended{"TaskEvents", i, err}
					return
				}
			}
		}()
	}

	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, nUnary)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < nUnary; i += workers {
				ctx, cancel := context.WithTimeout(context.Background(),
					20*time.Second)
				var err error
				switch i % 3 {
				case 0:
					var r *base.PluginInfoResponse
					r, err = h.Base.PluginInfo(ctx,
						&base.PluginInfoRequest{})
					if err == nil && r.GetName() != pluginName {
						err = fmt.Errorf("PluginInfo name %q", r.GetName())
					}
				case 1:
					var r *drivers.CapabilitiesResponse
					r, err = h.Driver.Capabilities(ctx,
						&drivers.CapabilitiesRequest{})
					if err == nil && r.GetCapabilities() == nil {
						err = fmt.Errorf("Capabilities without body")
					}
				case 2:
					var r *drivers.TaskConfigSchemaResponse
					r, err = h.Driver.TaskConfigSchema(ctx,
						&drivers.TaskConfigSchemaRequest{})
					if err == nil && r.GetSpec() == nil {
						err = fmt.Errorf("TaskConfigSchema without spec")
					}
				}
				cancel()
				if err != nil {
					errs <- fmt.Errorf("unary call %d: %w", i, err)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := done.Load(); got != nUnary {
		t.Errorf("%d of %d unary calls succeeded", got, nUnary)
	}

	// No stream may have ended while we were busy.
	select {
	case e := <-endCh:
		t.Fatalf("%s stream %d ended during the load: %v", e.kind, e.i,
			e.err)
	default:
	}

	cancelStreams()
	open.Wait()
	close(endCh)
	for e := range endCh {
		if status.Code(e.err) != codes.Canceled {
			t.Errorf("%s stream %d ended with %v, want our cancel",
				e.kind, e.i, e.err)
		}
	}
	h.alive()

	// New streams still work after the mass cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := h.Driver.Fingerprint(ctx, &drivers.FingerprintRequest{})
	if err == nil {
		_, err = s.Recv()
	}
	if err != nil {
		t.Fatalf("Fingerprint after cancelling 64 streams: %v", err)
	}
}

// Nomad reattaches to a surviving plugin after an unclean agent exit:
// new connection, PluginInfo, then Fingerprint and TaskEvents, no
// SetConfig (notes §1.7).
func TestReattach(t *testing.T) {
	t.Parallel()
	h := launch(t)
	if err := h.setConfig(map[string]any{}, nomadConfig()); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	rc := h.client.ReattachConfig()
	if rc == nil {
		t.Fatal("no reattach config")
	}

	// Drop the connection as a dying agent would, not the process.
	if err := h.rpc.Conn.Close(); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		hostLog := &syncBuffer{}
		c := plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig:  nomadHandshake,
			Plugins:          map[string]plugin.Plugin{"driver": driverPlugin{}},
			Reattach:         rc,
			AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
			Logger:           newHostLogger(hostLog),
		})
		proto, err := c.Client()
		if err != nil {
			t.Fatalf("round %d: reattach: %v\n%s", round, err,
				hostLog.String())
		}
		raw, err := proto.Dispense("driver")
		if err != nil {
			t.Fatal(err)
		}
		pc := raw.(*pluginClients)
		ctx, cancel := context.WithTimeout(context.Background(),
			20*time.Second)
		info, err := pc.Base.PluginInfo(ctx, &base.PluginInfoRequest{})
		if err != nil {
			cancel()
			t.Fatalf("round %d: PluginInfo after reattach: %v", round, err)
		}
		if info.GetName() != pluginName {
			t.Errorf("name %q", info.GetName())
		}
		fp, err := pc.Driver.Fingerprint(ctx, &drivers.FingerprintRequest{})
		if err == nil {
			_, err = fp.Recv()
		}
		if err != nil {
			t.Errorf("round %d: Fingerprint after reattach: %v", round, err)
		}
		cancel()

		if round == 0 {
			// Close only the connection; the process lives on.
			if err := proto.(*plugin.GRPCClient).Conn.Close(); err != nil {
				t.Fatal(err)
			}
			if h.client.Exited() {
				t.Fatal("plugin exited when its connections closed")
			}
			continue
		}

		// The reattached host can shut the plugin down gracefully.
		c.Kill()
		if strings.Contains(hostLog.String(), "plugin failed to exit") {
			t.Errorf("reattached kill had to force the plugin:\n%s",
				hostLog.String())
		}
	}
}
