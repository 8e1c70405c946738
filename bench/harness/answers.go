package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"jtd/bench/pb/base"
	"jtd/bench/pb/drivers"
)

// cmdAnswers saves the responses of a plugin to PluginInfo, ConfigSchema,
// Capabilities, TaskConfigSchema and the first Fingerprint message, one
// serialized message per file, in the layout refplugin -answers reads.
func cmdAnswers(args []string) int {
	fs := flag.NewFlagSet("answers", flag.ExitOnError)
	path := fs.String("plugin", "", "plugin binary")
	pargs := fs.String("args", "", "plugin arguments, space separated")
	out := fs.String("out", "", "directory to write the answers to")
	fs.Parse(args)
	if *path == "" || *out == "" {
		fs.Usage()
		return 2
	}

	t := Target{Name: filepath.Base(*path), Path: *path,
		Args: strings.Fields(*pargs)}
	if err := saveAnswers(t, *out); err != nil {
		fmt.Fprintln(os.Stderr, "harness answers:", err)
		return 1
	}
	return 0
}

func saveAnswers(t Target, dir string) error {
	p, err := Launch(t)
	if err != nil {
		return err
	}
	c, err := Dial(p)
	if err != nil {
		p.Kill()
		return err
	}
	defer p.Stop(c)

	msgs, err := fetchAnswers(c)
	if err != nil {
		return fmt.Errorf("%s: %w%s", t.Name, err, p.stderrNote())
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, m := range msgs {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.msg)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, m.file), b,
			0o644); err != nil {
			return err
		}
		fmt.Printf("%-24s %6d bytes\n", m.file, len(b))
	}
	return nil
}

type answer struct {
	file string
	msg  proto.Message
}

func fetchAnswers(c *Conn) ([]answer, error) {
	if err := c.OpenHostStreams(); err != nil {
		return nil, err
	}
	ctx, cancel := c.watchdog(callTimeout)
	defer cancel()

	info, err := c.Base.PluginInfo(ctx, &base.PluginInfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("PluginInfo: %w", err)
	}
	cs, err := c.Base.ConfigSchema(ctx, &base.ConfigSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("ConfigSchema: %w", err)
	}
	caps, err := c.Driver.Capabilities(ctx, &drivers.CapabilitiesRequest{})
	if err != nil {
		return nil, fmt.Errorf("Capabilities: %w", err)
	}
	tcs, err := c.Driver.TaskConfigSchema(ctx,
		&drivers.TaskConfigSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("TaskConfigSchema: %w", err)
	}
	fp, err := firstFingerprint(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("Fingerprint: %w", err)
	}
	return []answer{
		{"plugin_info.pb", info},
		{"config_schema.pb", cs},
		{"capabilities.pb", caps},
		{"task_config_schema.pb", tcs},
		{"fingerprint.pb", fp},
	}, nil
}

func firstFingerprint(ctx context.Context, c *Conn) (
	*drivers.FingerprintResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.Driver.Fingerprint(ctx, &drivers.FingerprintRequest{})
	if err != nil {
		return nil, err
	}
	return st.Recv()
}
