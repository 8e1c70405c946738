package main

import (
	"fmt"
	"io"
	"strings"
)

// printResult writes the human-readable table: one row per figure, the
// subject and the reference side by side, and subject/reference.
func printResult(w io.Writer, res *PluginResult) {
	s, r := res.Targets[0], res.Targets[1]
	m := res.Machine
	fmt.Fprintf(w, "\nplugin benchmark, %s\n", res.When)
	fmt.Fprintf(w, "machine: %d CPUs, %s, Linux %s\n", m.NumCPU, m.CPU,
		m.Kernel)
	fmt.Fprintf(w, "subject   %-6s %s %s (%.1f MiB file)\n", s.Name, s.Path,
		strings.Join(s.Args, " "), float64(s.Bytes)/(1<<20))
	fmt.Fprintf(w, "reference %-6s %s %s (%.1f MiB file)\n\n", r.Name,
		r.Path, strings.Join(r.Args, " "), float64(r.Bytes)/(1<<20))

	row := func(label, unit string, a, b float64, prec int) {
		fmt.Fprintf(w, "%-42s %10.*f %10.*f  %-4s %7.3f\n", label, prec, a,
			prec, b, unit, ratio(a, b))
	}
	fmt.Fprintf(w, "%-42s %10s %10s  %-4s %7s\n", "figure (median)", s.Name,
		r.Name, "unit", "ratio")
	fmt.Fprintln(w, strings.Repeat("-", 78))

	if ls, lr := res.Launch[s.Name], res.Launch[r.Name]; ls != nil {
		row(fmt.Sprintf("exec -> handshake line (%d launches)",
			len(ls.HandshakeMs)), "ms",
			ls.HandshakeMedianMs, lr.HandshakeMedianMs, 3)
		row("  10th percentile", "ms", ls.HandshakeP10Ms,
			lr.HandshakeP10Ms, 3)
		if f := res.Floor; f != nil {
			fmt.Fprintf(w, "%-42s %10.3f %10s  %-4s\n",
				"  floor: /bin/echo, median", f.MedianMs, "", "ms")
			fmt.Fprintf(w, "%-42s %10.3f %10s  %-4s\n",
				"  floor: /bin/echo, 10th percentile", f.P10Ms, "", "ms")
		}
		row("exec -> first PluginInfo reply", "ms",
			ls.FirstCallMedianMs, lr.FirstCallMedianMs, 3)
		row("Shutdown call -> process exit", "ms",
			ls.StopMedianMs, lr.StopMedianMs, 3)
	}
	if ms, mr := res.Memory[s.Name], res.Memory[r.Name]; ms != nil {
		printMemory(w, row, res, ms, mr)
	}

	for i := 0; i+1 < len(res.Latency); i += 2 {
		a, b := res.Latency[i], res.Latency[i+1]
		label := fmt.Sprintf("%s x%d", a.Method, a.Conc)
		row(label+" p50", "us", a.P50us, b.P50us, 1)
		row(label+" p99", "us", a.P99us, b.P99us, 1)
		row(label+" throughput", "/s", a.CallsPerS, b.CallsPerS, 0)
		row(label+" plugin CPU per call", "us", a.CPUPerCallUs,
			b.CPUPerCallUs, 1)
	}

	for _, t := range res.Targets {
		f := res.Launch[t.Name]
		if f != nil && f.Killed+f.LeftSockets > 0 {
			fmt.Fprintf(w, "\n%s: of %d launches %d needed SIGKILL "+
				"after Shutdown, %d left their socket file", t.Name,
				len(f.HandshakeMs), f.Killed, f.LeftSockets)
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "\nCPU pressure (share of time some task, ours "+
		"included, waited for a CPU):")
	for _, ph := range []string{"launch", "memory", "latency"} {
		if v, ok := res.Pressure[ph]; ok && v >= 0 {
			fmt.Fprintf(w, " %s %.0f%%", ph, v)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\ntargets:\n")
	for _, c := range res.Checks {
		v := "FAIL"
		if c.Pass {
			v = "PASS"
		}
		fmt.Fprintf(w, "%s  %-52s %s\n", v, c.Name, c.Detail)
	}
}

type rowFunc func(label, unit string, a, b float64, prec int)

func printMemory(w io.Writer, row rowFunc, res *PluginResult,
	ms, mr *MemFigures) {
	n := len(ms.Idle)
	row(fmt.Sprintf("idle VmRSS (%d launches)", n), "MiB",
		mib(ms.IdleRSSKiB), mib(mr.IdleRSSKiB), 2)
	row("idle VmHWM", "MiB", mib(ms.IdleHWMKiB), mib(mr.IdleHWMKiB), 2)
	row("idle threads", "", float64(ms.IdleThreads),
		float64(mr.IdleThreads), 0)
	extra := 0
	if v, ok := res.Settings["streams"].(int); ok {
		extra = v
	}
	row(fmt.Sprintf("VmRSS with %d more open streams", extra), "MiB",
		mib(ms.StreamsRSSKiB), mib(mr.StreamsRSSKiB), 2)
	row("VmHWM with those streams", "MiB", mib(ms.StreamsHWMKiB),
		mib(mr.StreamsHWMKiB), 2)
	if extra > 0 {
		row("RSS per extra stream", "KiB",
			float64(ms.StreamsRSSKiB-ms.IdleRSSKiB)/float64(extra),
			float64(mr.StreamsRSSKiB-mr.IdleRSSKiB)/float64(extra), 1)
	}
}
