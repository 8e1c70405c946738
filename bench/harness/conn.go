package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"jtd/bench/pb/base"
	"jtd/bench/pb/drivers"
)

// callTimeout bounds every single call the harness makes, so a plugin
// that hangs fails the run instead of stalling it.
const callTimeout = 10 * time.Second

// Conn is a gRPC client connection to one plugin, set up the way
// go-plugin's client sets it up for Nomad.
type Conn struct {
	cc     *grpc.ClientConn
	Base   base.BasePluginClient
	Driver drivers.DriverClient

	ctx    context.Context
	cancel context.CancelFunc
}

// Dial connects to the plugin's socket: plaintext HTTP/2, the target
// string "unused" (go-plugin dials through its own dialer), and 2^31-1
// message size limits.
func Dial(p *Plugin) (*Conn, error) {
	network, addr := p.Network, p.Addr
	dialer := func(ctx context.Context, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	cc, err := grpc.NewClient("passthrough:///unused",
		grpc.WithContextDialer(dialer),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(math.MaxInt32),
			grpc.MaxCallSendMsgSize(math.MaxInt32)))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Conn{
		cc:     cc,
		Base:   base.NewBasePluginClient(cc),
		Driver: drivers.NewDriverClient(cc),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// OpenHostStreams opens the two streams go-plugin's client opens on every
// connection before the host makes its first call: the broker stream and
// the stdio stream. Their messages are read and thrown away; a plugin that
// answers UNIMPLEMENTED is fine (go-plugin tolerates it too). The request
// and reply types are google.protobuf.Empty, wire-identical to
// plugin.Empty, and unknown fields are skipped on receive, so the
// go-plugin message types are not needed here.
func (c *Conn) OpenHostStreams() error {
	broker, err := c.cc.NewStream(c.ctx, &grpc.StreamDesc{
		ServerStreams: true, ClientStreams: true},
		"/plugin.GRPCBroker/StartStream")
	if err != nil {
		return fmt.Errorf("broker stream: %w", err)
	}
	go discard(broker)

	stdio, err := c.cc.NewStream(c.ctx, &grpc.StreamDesc{
		ServerStreams: true}, "/plugin.GRPCStdio/StreamStdio")
	if err != nil {
		return fmt.Errorf("stdio stream: %w", err)
	}
	if err := stdio.SendMsg(&emptypb.Empty{}); err != nil {
		return fmt.Errorf("stdio stream: %w", err)
	}
	if err := stdio.CloseSend(); err != nil {
		return fmt.Errorf("stdio stream: %w", err)
	}
	go discard(stdio)
	return nil
}

func discard(s grpc.ClientStream) {
	for {
		if err := s.RecvMsg(&emptypb.Empty{}); err != nil {
			return
		}
	}
}

// Stream is one open server stream whose messages are read and dropped.
type Stream struct {
	Kind  string
	ready chan struct{} // closed on the first message
	done  chan struct{} // closed when the stream ended
	err   error
}

// Ended reports whether the stream has ended, and how.
func (s *Stream) Ended() (bool, error) {
	select {
	case <-s.done:
		return true, s.err
	default:
		return false, nil
	}
}

// OpenFingerprint opens a Fingerprint stream and returns once its first
// message arrived, which proves the plugin is serving it.
func (c *Conn) OpenFingerprint() (*Stream, error) {
	st, err := c.Driver.Fingerprint(c.ctx, &drivers.FingerprintRequest{})
	if err != nil {
		return nil, err
	}
	s := &Stream{Kind: "Fingerprint", ready: make(chan struct{}),
		done: make(chan struct{})}
	go func() {
		first := true
		for {
			if _, err := st.Recv(); err != nil {
				s.err = err
				close(s.done)
				return
			}
			if first {
				close(s.ready)
				first = false
			}
		}
	}()

	timer := time.NewTimer(callTimeout)
	defer timer.Stop()
	select {
	case <-s.ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("fingerprint stream ended: %v", s.err)
	case <-timer.C:
		return nil, fmt.Errorf("no fingerprint within %v", callTimeout)
	}
}

// OpenTaskEvents opens a TaskEvents stream. With no task running the
// plugin sends nothing on it, so there is no reply to wait for; callers
// check Ended() later to see that the plugin kept it open.
func (c *Conn) OpenTaskEvents() (*Stream, error) {
	st, err := c.Driver.TaskEvents(c.ctx, &drivers.TaskEventsRequest{})
	if err != nil {
		return nil, err
	}
	s := &Stream{Kind: "TaskEvents", ready: make(chan struct{}),
		done: make(chan struct{})}
	go func() {
		for {
			if _, err := st.Recv(); err != nil {
				s.err = err
				close(s.done)
				return
			}
		}
	}()
	return s, nil
}

// watchdog returns a context that is cancelled after d. It carries no
// deadline, so no grpc-timeout header goes on the wire: Nomad sends none
// on driver calls, and a deadline could change how a server handles them.
func (c *Conn) watchdog(d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.ctx)
	t := time.AfterFunc(d, cancel)
	return ctx, func() {
		t.Stop()
		cancel()
	}
}

// Shutdown calls plugin.GRPCController/Shutdown as go-plugin's Kill does.
func (c *Conn) Shutdown() error {
	ctx, cancel := c.watchdog(killGrace)
	defer cancel()
	return c.cc.Invoke(ctx, "/plugin.GRPCController/Shutdown",
		&emptypb.Empty{}, &emptypb.Empty{})
}

// Close cancels every stream and closes the connection.
func (c *Conn) Close() {
	c.cancel()
	c.cc.Close()
}

// Method is one unary call to measure.
type Method struct {
	Name string
	Call func(ctx context.Context, c *Conn) error
}

var methods = map[string]Method{
	"PluginInfo": {"PluginInfo", func(ctx context.Context, c *Conn) error {
		_, err := c.Base.PluginInfo(ctx, &base.PluginInfoRequest{})
		return err
	}},
	"ConfigSchema": {"ConfigSchema", func(ctx context.Context, c *Conn) error {
		_, err := c.Base.ConfigSchema(ctx, &base.ConfigSchemaRequest{})
		return err
	}},
	"Capabilities": {"Capabilities", func(ctx context.Context, c *Conn) error {
		_, err := c.Driver.Capabilities(ctx, &drivers.CapabilitiesRequest{})
		return err
	}},
	"TaskConfigSchema": {"TaskConfigSchema",
		func(ctx context.Context, c *Conn) error {
			_, err := c.Driver.TaskConfigSchema(ctx,
				&drivers.TaskConfigSchemaRequest{})
			return err
		}},
}

// Call makes one call of the named method with the per-call timeout.
func (c *Conn) Call(name string) error {
	ctx, cancel := c.watchdog(callTimeout)
	defer cancel()
	if err := methods[name].Call(ctx, c); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
