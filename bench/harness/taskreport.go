package main

import (
	"fmt"
	"io"
	"strings"
)

// writeTasksMarkdown prints a `harness tasks` result as the Markdown
// used in docs/benchmarks.md (and as the terminal report).
func writeTasksMarkdown(w io.Writer, res *TasksResult) {
	m := res.Machine
	fmt.Fprintf(w, "Run %s on %d CPUs (%s), Linux %s, harness built "+
		"with %s; `%s`.\n", res.When, m.NumCPU, m.CPU, m.Kernel,
		m.GoVersion, res.Command)
	fmt.Fprintf(w, "crun: %s (%s), cgroups: %s.\n", res.Crun.Version,
		res.Crun.Path, res.Crun.Cgroups)
	if res.Plugin.Path != "" {
		fmt.Fprintf(w, "jtd: %s.\n", res.Plugin.Path)
	}
	if res.PluginError != "" {
		fmt.Fprintf(w, "\n**The plugin side could not be measured**; "+
			"figures below are crun's alone. The plugin failed with:\n\n"+
			"```\n%s\n```\n", strings.TrimSpace(res.PluginError))
	}

	val := func(d *Dist, f func(*Dist) float64) string {
		if d == nil {
			return "—"
		}
		return fmt.Sprintf("%.2f ms", f(d))
	}
	q := func(a, b *Dist, f func(*Dist) float64) string {
		if a == nil || b == nil {
			return "—"
		}
		return fmt.Sprintf("%.3f", ratio(f(a), f(b)))
	}
	p10 := func(d *Dist) float64 { return lowDecile(d.Ms) }
	p50 := func(d *Dist) float64 { return d.P50 }
	p90 := func(d *Dist) float64 { return d.P90 }
	p99 := func(d *Dist) float64 { return d.P99 }
	if len(res.Start) > 0 {
		n := 0
		if d := res.Start["crun"]; d != nil {
			n = len(d.Ms)
		}
		fmt.Fprintf(w, "\n| figure (%d samples each) | jtd | crun | "+
			"jtd/crun |\n|---|---:|---:|---:|\n", n)
		js, cs := res.Start["jtd"], res.Start["crun"]
		for _, r := range []struct {
			label string
			f     func(*Dist) float64
		}{{"start → first output byte, p10", p10},
			{"start → first output byte, p50", p50},
			{"start → first output byte, p90", p90},
			{"start → first output byte, p99", p99}} {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.label,
				val(js, r.f), val(cs, r.f), q(js, cs, r.f))
		}
		if sw := res.SyncWrite; sw != nil {
			fmt.Fprintf(w, "| one state-file write with its two fsyncs "+
				"(beside state_dir), p50 / p99 | %.2f / %.2f ms | — | — |\n",
				sw.P50, sw.P99)
		}
		if sc := res.StartCall; sc != nil {
			fmt.Fprintf(w, "| StartTask request → reply, p50 / p99 | "+
				"%.2f / %.2f ms | — | — |\n", sc.P50, sc.P99)
		}
		je, ce := res.Exit["jtd"], res.Exit["crun"]
		for _, r := range []struct {
			label string
			f     func(*Dist) float64
		}{{"exit → seen (WaitTask reply / `crun run` exit), p10", p10},
			{"exit → seen, p50", p50},
			{"exit → seen, p90", p90},
			{"exit → seen, p99", p99}} {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.label,
				val(je, r.f), val(ce, r.f), q(je, ce, r.f))
		}
	}

	if mem := res.Memory; mem != nil {
		fmt.Fprintf(w, "\nMemory, %d sleeping tasks per runtime "+
			"(`/bin/sh -c 'echo ready; exec sleep 1000'`), KiB per "+
			"process:\n\n", mem.Tasks)
		fmt.Fprintf(w, "| resident per task | n | VmRSS mean | VmRSS max "+
			"| RssAnon mean | Pss mean |\n|---|---:|---:|---:|---:|---:|\n")
		row := func(label string, s *MemSummary) {
			if s == nil {
				return
			}
			fmt.Fprintf(w, "| %s | %d | %.0f | %d | %.0f | %.0f |\n",
				label, s.N, s.RSSMean, s.RSSMax, s.AnonMean, s.PssMean)
		}
		row("jtd: shim (supervisor)", mem.Shim)
		row("jtd: jail init", mem.Init)
		row("**jtd: supervision per task**", mem.PerTask)
		row("crun: `crun run` in the foreground", mem.CrunRun)
		row("task program, jtd (not counted)", mem.TaskMain)
		row("task program, crun (not counted)", mem.CrunMain)
		if mem.PluginMany > 0 {
			fmt.Fprintf(w, "\nPlugin VmRSS: %.2f MiB before the tasks "+
				"started, %.2f MiB with %d tasks running "+
				"(VmHWM %.2f MiB, threads %d), %.2f MiB after all were "+
				"stopped and destroyed. Starting the %d tasks one after "+
				"another took %.2f s.\n", mib(mem.PluginIdle),
				mib(mem.PluginMany), mem.Tasks, mib(mem.PluginHWM),
				mem.PluginThr, mib(mem.PluginPost), mem.Tasks,
				mem.StartManyS)
		}
		if len(mem.RoundsPost) > 0 {
			var rs []string
			for i := range mem.RoundsPost {
				rs = append(rs, fmt.Sprintf("%.2f / %.2f",
					mib(mem.RoundsMany[i]), mib(mem.RoundsPost[i])))
			}
			fmt.Fprintf(w, "Plugin VmRSS in %d more rounds of the "+
				"same (MiB, with tasks / after): %s.\n",
				len(mem.RoundsPost), strings.Join(rs, ", "))
		}
	}

	var pr []string
	for _, ph := range []string{"start", "memory"} {
		if v, ok := res.Pressure[ph]; ok && v >= 0 {
			pr = append(pr, fmt.Sprintf("%s %.0f %%", ph, v))
		}
	}
	if len(pr) > 0 {
		fmt.Fprintf(w, "\nCPU pressure during the phases: %s.\n",
			strings.Join(pr, ", "))
	}

	if len(res.Checks) > 0 {
		fmt.Fprintf(w, "\n| target | verdict | measured |\n|---|---|---|\n")
		for _, c := range res.Checks {
			v := "FAIL"
			switch {
			case c.NotRun:
				v = "not measured"
			case c.Pass:
				v = "PASS"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", c.Name, v,
				strings.ReplaceAll(c.Detail, "|", "/"))
		}
	}
}
