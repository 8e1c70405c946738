package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// cmdMarkdown prints a saved `harness plugin` or `harness tasks` result
// as the Markdown tables used in docs/benchmarks.md, so the document
// carries the run's own numbers, not hand-copied ones.
func cmdMarkdown(args []string) int {
	fs := flag.NewFlagSet("markdown", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: harness markdown RESULT.json")
	}
	fs.Parse(args)
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness markdown:", err)
		return 1
	}
	var kind struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(b, &kind) == nil && kind.Kind == "tasks" {
		var tr TasksResult
		if err := json.Unmarshal(b, &tr); err != nil {
			fmt.Fprintln(os.Stderr, "harness markdown:", err)
			return 1
		}
		writeTasksMarkdown(os.Stdout, &tr)
		return 0
	}
	var res PluginResult
	if err := json.Unmarshal(b, &res); err != nil {
		fmt.Fprintln(os.Stderr, "harness markdown:", err)
		return 1
	}
	if len(res.Targets) != 2 {
		fmt.Fprintln(os.Stderr, "harness markdown: not a plugin result")
		return 1
	}
	writeMarkdown(os.Stdout, &res)
	return 0
}

func writeMarkdown(w io.Writer, res *PluginResult) {
	s, r := res.Targets[0].Name, res.Targets[1].Name
	m := res.Machine
	fmt.Fprintf(w, "Run %s on %d CPUs (%s), Linux %s, harness built "+
		"with %s.\n\n", res.When, m.NumCPU, m.CPU, m.Kernel, m.GoVersion)

	fmt.Fprintf(w, "| figure (median) | %s | %s | %s/%s |\n", s, r, s, r)
	fmt.Fprintf(w, "|---|---:|---:|---:|\n")
	row := func(label, unit string, a, b float64, prec int) {
		va := strings.TrimSpace(fmt.Sprintf("%.*f %s", prec, a, unit))
		vb := strings.TrimSpace(fmt.Sprintf("%.*f %s", prec, b, unit))
		fmt.Fprintf(w, "| %s | %s | %s | %.3f |\n", label, va, vb,
			ratio(a, b))
	}

	if ls, lr := res.Launch[s], res.Launch[r]; ls != nil && lr != nil {
		row(fmt.Sprintf("exec → handshake line (%d launches each)",
			len(ls.HandshakeMs)), "ms", ls.HandshakeMedianMs,
			lr.HandshakeMedianMs, 2)
		row("exec → handshake line, 10th percentile", "ms",
			ls.HandshakeP10Ms, lr.HandshakeP10Ms, 2)
		row("exec → first PluginInfo reply", "ms",
			ls.FirstCallMedianMs, lr.FirstCallMedianMs, 2)
		row("Shutdown call → process exit", "ms", ls.StopMedianMs,
			lr.StopMedianMs, 2)
	}
	if ms, mr := res.Memory[s], res.Memory[r]; ms != nil && mr != nil {
		extra := 0
		if v, ok := res.Settings["streams"].(float64); ok {
			extra = int(v)
		}
		row(fmt.Sprintf("idle VmRSS (%d launches each)", len(ms.Idle)),
			"MiB", mib(ms.IdleRSSKiB), mib(mr.IdleRSSKiB), 2)
		row("idle threads", "", float64(ms.IdleThreads),
			float64(mr.IdleThreads), 0)
		row(fmt.Sprintf("VmRSS with %d more open streams", extra), "MiB",
			mib(ms.StreamsRSSKiB), mib(mr.StreamsRSSKiB), 2)
		if extra > 0 {
			row("RSS per extra stream", "KiB",
				float64(ms.StreamsRSSKiB-ms.IdleRSSKiB)/float64(extra),
				float64(mr.StreamsRSSKiB-mr.IdleRSSKiB)/float64(extra), 1)
		}
	}
	if f := res.Floor; f != nil {
		fmt.Fprintf(w, "\nFloor of the handshake figure (fork, exec and "+
			"pipe of `%s`): %.2f ms median, %.2f ms 10th percentile.\n",
			f.Program, f.MedianMs, f.P10Ms)
	}

	if len(res.Latency) > 0 {
		calls := res.Latency[0].Calls
		fmt.Fprintf(w, "\nUnary calls, %d per plugin, method and "+
			"concurrency; latency in µs, plugin CPU in µs per call.\n\n",
			calls)
		fmt.Fprintf(w, "| call × callers | p50 %s | p50 %s | p50 ratio "+
			"| p99 %s | p99 %s | calls/s %s | calls/s %s "+
			"| CPU/call %s | CPU/call %s |\n", s, r, s, r, s, r, s, r)
		fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"+
			"---:|\n")
		for i := 0; i+1 < len(res.Latency); i += 2 {
			a, b := res.Latency[i], res.Latency[i+1]
			fmt.Fprintf(w, "| %s ×%d | %.1f | %.1f | %.3f | %.1f | %.1f "+
				"| %.0f | %.0f | %.1f | %.1f |\n", a.Method, a.Conc,
				a.P50us, b.P50us, ratio(a.P50us, b.P50us), a.P99us,
				b.P99us, a.CallsPerS, b.CallsPerS, a.CPUPerCallUs,
				b.CPUPerCallUs)
		}
	}

	var pr []string
	for _, ph := range []string{"launch", "memory", "latency"} {
		if v, ok := res.Pressure[ph]; ok && v >= 0 {
			pr = append(pr, fmt.Sprintf("%s %.0f %%", ph, v))
		}
	}
	if len(pr) > 0 {
		fmt.Fprintf(w, "\nCPU pressure during the phases (share of time "+
			"some task waited for a CPU): %s.\n", strings.Join(pr, ", "))
	}

	if len(res.Checks) > 0 {
		fmt.Fprintf(w, "\n| target | verdict | measured |\n|---|---|---|\n")
		for _, c := range res.Checks {
			v := "FAIL"
			if c.Pass {
				v = "PASS"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", c.Name, v,
				strings.ReplaceAll(c.Detail, "|", "/"))
		}
	}
}
