package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// pluginOpts are the settings of `harness plugin`.
type pluginOpts struct {
	targets     [2]Target // subject, reference
	handshakes  int
	rssLaunches int
	streams     int
	calls       int
	chunks      int
	warmup      int
	conc        []int
	methods     []string
	settle      time.Duration
	outDir      string
	limit       time.Duration
	strict      bool
	phases      map[string]bool
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func cmdPlugin(args []string) int {
	var o pluginOpts
	fs := flag.NewFlagSet("plugin", flag.ExitOnError)
	sPath := fs.String("subject", "", "plugin binary under test")
	sName := fs.String("subject-name", "jtd", "label of the subject")
	sArgs := fs.String("subject-args", "", "subject arguments")
	rPath := fs.String("reference", "", "reference plugin binary")
	rName := fs.String("reference-name", "go", "label of the reference")
	rArgs := fs.String("reference-args", "", "reference arguments")
	fs.IntVar(&o.handshakes, "handshakes", 50, "launches per plugin "+
		"for the handshake figure")
	fs.IntVar(&o.rssLaunches, "rss-launches", 10, "launches per plugin "+
		"for the memory figures")
	fs.IntVar(&o.streams, "streams", 64, "server streams opened for "+
		"the streams memory figure (half Fingerprint, half TaskEvents)")
	fs.IntVar(&o.calls, "calls", 20000, "measured calls per plugin, "+
		"method and concurrency")
	fs.IntVar(&o.chunks, "chunks", 10, "interleaved chunks the calls "+
		"are split into")
	fs.IntVar(&o.warmup, "warmup", 2000, "unmeasured calls per plugin "+
		"and method first")
	conc := fs.String("conc", "1,64", "concurrent callers, comma separated")
	meth := fs.String("methods", "PluginInfo,Capabilities,TaskConfigSchema",
		"unary methods to time")
	fs.DurationVar(&o.settle, "settle", 500*time.Millisecond,
		"pause before reading memory figures")
	fs.StringVar(&o.outDir, "out", "", "directory for the JSON result")
	fs.DurationVar(&o.limit, "limit", 8*time.Minute, "give up after this")
	fs.BoolVar(&o.strict, "strict", false, "exit 3 when a target fails")
	phases := fs.String("phases", "launch,memory,latency",
		"phases to run, comma separated")
	fs.Parse(args)

	if *sPath == "" || *rPath == "" {
		fs.Usage()
		return 2
	}
	var err error
	if o.conc, err = parseInts(*conc); err != nil {
		fmt.Fprintln(os.Stderr, "harness plugin: -conc:", err)
		return 2
	}
	o.phases = map[string]bool{}
	for _, ph := range strings.Split(*phases, ",") {
		switch ph {
		case "launch", "memory", "latency":
			o.phases[ph] = true
		default:
			fmt.Fprintf(os.Stderr, "harness plugin: unknown phase %q\n", ph)
			return 2
		}
	}
	o.methods = strings.Split(*meth, ",")
	for _, m := range o.methods {
		if _, ok := methods[m]; !ok {
			fmt.Fprintf(os.Stderr, "harness plugin: unknown method %q\n", m)
			return 2
		}
	}
	if *sName == *rName {
		fmt.Fprintln(os.Stderr, "harness plugin: labels must differ")
		return 2
	}
	o.targets = [2]Target{
		{Name: *sName, Path: *sPath, Args: strings.Fields(*sArgs)},
		{Name: *rName, Path: *rPath, Args: strings.Fields(*rArgs)},
	}

	// The harness is the client for both plugins; fewer collections keep
	// its own pauses out of the latency samples.
	debug.SetGCPercent(400)

	watchdog := time.AfterFunc(o.limit, func() {
		fmt.Fprintf(os.Stderr, "harness plugin: over the %v limit, "+
			"stopping\n", o.limit)
		KillAll()
		os.RemoveAll(sockDir)
		os.Exit(1)
	})
	defer watchdog.Stop()

	res, err := runPlugin(&o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness plugin:", err)
		return 1
	}
	printResult(os.Stdout, res)
	if o.outDir != "" {
		path, err := writeResult(o.outDir, res)
		if err != nil {
			fmt.Fprintln(os.Stderr, "harness plugin:", err)
			return 1
		}
		fmt.Printf("\nresult written to %s\n", path)
	}
	if o.strict && !res.allPass() {
		return 3
	}
	return 0
}

// TargetInfo describes one measured binary.
type TargetInfo struct {
	Name  string   `json:"name"`
	Path  string   `json:"path"`
	Args  []string `json:"args,omitempty"`
	Bytes int64    `json:"file_bytes"`
}

// LaunchFigures are the per-launch samples of the handshake phase.
type LaunchFigures struct {
	HandshakeMs []float64 `json:"handshake_ms"`
	FirstCallMs []float64 `json:"first_call_ms"`
	StopMs      []float64 `json:"stop_ms"`
	Killed      int       `json:"killed_after_grace"`
	NoShutdown  int       `json:"shutdown_call_failed"`
	LeftSockets int       `json:"left_sockets"`

	HandshakeMedianMs float64 `json:"handshake_median_ms"`
	HandshakeP10Ms    float64 `json:"handshake_p10_ms"`
	FirstCallMedianMs float64 `json:"first_call_median_ms"`
	StopMedianMs      float64 `json:"stop_median_ms"`
}

// FloorFigures time the same launch path for a program that does nothing
// but print a line: the share of the handshake figure that is fork, exec
// and pipe, not plugin.
type FloorFigures struct {
	Program  string    `json:"program"`
	Ms       []float64 `json:"ms"`
	MedianMs float64   `json:"median_ms"`
	P10Ms    float64   `json:"p10_ms"`
}

// floorProgram prints a well-formed handshake line and exits.
var floorProgram = Target{Name: "floor", Path: "/bin/echo",
	Args: []string{"1|2|unix|/nonexistent/floor|grpc"}}

// MemFigures are the per-launch samples of the memory phase.
type MemFigures struct {
	Idle    []ProcStatus `json:"idle"`
	Streams []ProcStatus `json:"streams"`

	IdleRSSKiB     int64 `json:"idle_rss_median_kib"`
	IdleHWMKiB     int64 `json:"idle_hwm_median_kib"`
	StreamsRSSKiB  int64 `json:"streams_rss_median_kib"`
	StreamsHWMKiB  int64 `json:"streams_hwm_median_kib"`
	IdleThreads    int64 `json:"idle_threads_median"`
	StreamsThreads int64 `json:"streams_threads_median"`
}

// LatencyFigures summarise one plugin, method and concurrency.
type LatencyFigures struct {
	Plugin    string  `json:"plugin"`
	Method    string  `json:"method"`
	Conc      int     `json:"concurrency"`
	Calls     int     `json:"calls"`
	P50us     float64 `json:"p50_us"`
	P90us     float64 `json:"p90_us"`
	P99us     float64 `json:"p99_us"`
	MeanUs    float64 `json:"mean_us"`
	CallsPerS float64 `json:"calls_per_s"`
	// CPUPerCallUs is the plugin process's own CPU time per call: the
	// server's share, without the client's, which is the same for both.
	CPUPerCallUs float64 `json:"plugin_cpu_per_call_us"`
	// ChunkP50us is the median of each interleaved chunk, in run order:
	// its spread shows how steady the machine was.
	ChunkP50us []float64 `json:"chunk_p50_us"`
}

// Check is one target verdict.
type Check struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	NotRun bool   `json:"not_measured,omitempty"`
	Detail string `json:"detail"`
}

// PluginResult is everything `harness plugin` measured.
type PluginResult struct {
	When     string                    `json:"when"`
	Machine  Machine                   `json:"machine"`
	Settings map[string]any            `json:"settings"`
	Targets  []TargetInfo              `json:"targets"`
	Launch   map[string]*LaunchFigures `json:"launch"`
	Floor    *FloorFigures             `json:"exec_floor,omitempty"`
	// Pressure is, per phase, the share of time in which some task on
	// the machine waited for a CPU (-1: not available).
	Pressure map[string]float64     `json:"cpu_pressure_pct"`
	Memory   map[string]*MemFigures `json:"memory"`
	Latency  []LatencyFigures       `json:"latency"`
	Checks   []Check                `json:"checks"`
}

func (r *PluginResult) allPass() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return true
}

// order returns the targets in the order used for round i: alternating
// which plugin goes first cancels slow drifts of the machine.
func (o *pluginOpts) order(i int) []Target {
	if i%2 == 0 {
		return []Target{o.targets[0], o.targets[1]}
	}
	return []Target{o.targets[1], o.targets[0]}
}

func runPlugin(o *pluginOpts) (*PluginResult, error) {
	res := &PluginResult{
		When:    time.Now().UTC().Format(time.RFC3339),
		Machine: machine(),
		Settings: map[string]any{
			"handshakes": o.handshakes, "rss_launches": o.rssLaunches,
			"streams": o.streams, "calls": o.calls, "chunks": o.chunks,
			"warmup": o.warmup, "concurrency": o.conc,
			"methods": o.methods, "settle_ms": ms(o.settle),
		},
		Launch:   map[string]*LaunchFigures{},
		Memory:   map[string]*MemFigures{},
		Pressure: map[string]float64{},
	}
	for _, t := range o.targets {
		ti := TargetInfo{Name: t.Name, Path: t.Path, Args: t.Args}
		if fi, err := os.Stat(t.Path); err == nil {
			ti.Bytes = fi.Size()
		}
		res.Targets = append(res.Targets, ti)
	}

	if o.phases["launch"] {
		fmt.Fprintf(os.Stderr, "launch phase: %d launches per plugin\n",
			o.handshakes)
		pm := startPressure()
		if err := launchPhase(o, res); err != nil {
			return nil, err
		}
		res.Pressure["launch"] = pm.percent()
	}
	if o.phases["memory"] {
		fmt.Fprintf(os.Stderr, "memory phase: %d launches per plugin\n",
			o.rssLaunches)
		pm := startPressure()
		if err := memoryPhase(o, res); err != nil {
			return nil, err
		}
		res.Pressure["memory"] = pm.percent()
	}
	if o.phases["latency"] {
		fmt.Fprintf(os.Stderr, "latency phase: %d calls per plugin, "+
			"method and concurrency\n", o.calls)
		pm := startPressure()
		if err := latencyPhase(o, res); err != nil {
			return nil, err
		}
		res.Pressure["latency"] = pm.percent()
	}
	res.Checks = checks(o, res)
	return res, nil
}

// launchOnce starts a plugin, makes the calls go-plugin and Nomad make
// first (host streams, PluginInfo), and stops it the way Nomad does.
func launchOnce(t Target, f *LaunchFigures) error {
	p, err := Launch(t)
	if err != nil {
		return err
	}
	c, err := Dial(p)
	if err != nil {
		p.Kill()
		return err
	}
	if err := c.OpenHostStreams(); err != nil {
		p.Stop(c)
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	if err := c.Call("PluginInfo"); err != nil {
		p.Stop(c)
		return fmt.Errorf("%s: %w%s", t.Name, err, p.stderrNote())
	}
	first := time.Since(p.Started)
	sr := p.Stop(c)

	f.HandshakeMs = append(f.HandshakeMs, ms(p.Handshake))
	f.FirstCallMs = append(f.FirstCallMs, ms(first))
	f.StopMs = append(f.StopMs, ms(sr.Exit))
	if sr.Killed {
		f.Killed++
	}
	if !sr.ShutdownOK {
		f.NoShutdown++
	}
	if sr.LeftSocket {
		f.LeftSockets++
	}
	return nil
}

// lowDecile is the nearest-rank 10th percentile: the launches the rest
// of the machine disturbed least.
func lowDecile(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[max(0, (len(s)+5)/10-1)]
}

func medianF(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func launchPhase(o *pluginOpts, res *PluginResult) error {
	for _, t := range o.targets {
		res.Launch[t.Name] = &LaunchFigures{}
	}
	floor := &FloorFigures{Program: floorProgram.Path + " " +
		strings.Join(floorProgram.Args, " ")}
	_, err := os.Stat(floorProgram.Path)
	haveFloor := err == nil
	for i := 0; i < o.handshakes; i++ {
		for _, t := range o.order(i) {
			if err := launchOnce(t, res.Launch[t.Name]); err != nil {
				return err
			}
		}
		if haveFloor {
			p, err := Launch(floorProgram)
			if err != nil {
				return err
			}
			p.Kill()
			floor.Ms = append(floor.Ms, ms(p.Handshake))
		}
	}
	if haveFloor {
		floor.MedianMs = medianF(floor.Ms)
		floor.P10Ms = lowDecile(floor.Ms)
		res.Floor = floor
	}
	for _, f := range res.Launch {
		f.HandshakeMedianMs = medianF(f.HandshakeMs)
		f.HandshakeP10Ms = lowDecile(f.HandshakeMs)
		f.FirstCallMedianMs = medianF(f.FirstCallMs)
		f.StopMedianMs = medianF(f.StopMs)
	}
	return nil
}

// nomadState brings a fresh connection to the state a long-lived Nomad
// driver instance is in: go-plugin's host streams, the first calls of a
// task start, and the Fingerprint and TaskEvents streams Nomad keeps open.
func nomadState(c *Conn) ([]*Stream, error) {
	if err := c.OpenHostStreams(); err != nil {
		return nil, err
	}
	for _, m := range []string{"PluginInfo", "ConfigSchema",
		"Capabilities", "TaskConfigSchema"} {
		if err := c.Call(m); err != nil {
			return nil, err
		}
	}
	fp, err := c.OpenFingerprint()
	if err != nil {
		return nil, err
	}
	te, err := c.OpenTaskEvents()
	if err != nil {
		return nil, err
	}
	return []*Stream{fp, te}, nil
}

// openStreams opens n more server streams, half Fingerprint (each waited
// for until its first message) and half TaskEvents.
func openStreams(c *Conn, n int) ([]*Stream, error) {
	var out []*Stream
	for i := 0; i < n; i++ {
		var s *Stream
		var err error
		if i%2 == 0 {
			s, err = c.OpenFingerprint()
		} else {
			s, err = c.OpenTaskEvents()
		}
		if err != nil {
			return nil, fmt.Errorf("stream %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// checkOpen fails when the plugin ended a stream it should keep open.
func checkOpen(ss []*Stream) error {
	for i, s := range ss {
		if ended, err := s.Ended(); ended {
			return fmt.Errorf("%s stream %d was ended by the plugin: %v",
				s.Kind, i+1, err)
		}
	}
	return nil
}

func memoryOnce(o *pluginOpts, t Target, f *MemFigures) error {
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
	fail := func(err error) error {
		return fmt.Errorf("%s: %w%s", t.Name, err, p.stderrNote())
	}

	ss, err := nomadState(c)
	if err != nil {
		return fail(err)
	}
	time.Sleep(o.settle)
	if err := checkOpen(ss); err != nil {
		return fail(err)
	}
	idle, err := ReadStatus(p.Pid)
	if err != nil {
		return fail(err)
	}

	more, err := openStreams(c, o.streams)
	if err != nil {
		return fail(err)
	}
	time.Sleep(o.settle)
	if err := checkOpen(append(ss, more...)); err != nil {
		return fail(err)
	}
	st, err := ReadStatus(p.Pid)
	if err != nil {
		return fail(err)
	}

	f.Idle = append(f.Idle, idle)
	f.Streams = append(f.Streams, st)
	return nil
}

func memoryPhase(o *pluginOpts, res *PluginResult) error {
	for _, t := range o.targets {
		res.Memory[t.Name] = &MemFigures{}
	}
	for i := 0; i < o.rssLaunches; i++ {
		for _, t := range o.order(i) {
			if err := memoryOnce(o, t, res.Memory[t.Name]); err != nil {
				return err
			}
		}
	}
	for _, f := range res.Memory {
		pick := func(v []ProcStatus, g func(ProcStatus) int64) int64 {
			x := make([]int64, len(v))
			for i, s := range v {
				x[i] = g(s)
			}
			return medianInt(x)
		}
		rss := func(s ProcStatus) int64 { return s.VmRSS }
		hwm := func(s ProcStatus) int64 { return s.VmHWM }
		thr := func(s ProcStatus) int64 { return s.Threads }
		f.IdleRSSKiB = pick(f.Idle, rss)
		f.IdleHWMKiB = pick(f.Idle, hwm)
		f.IdleThreads = pick(f.Idle, thr)
		f.StreamsRSSKiB = pick(f.Streams, rss)
		f.StreamsHWMKiB = pick(f.Streams, hwm)
		f.StreamsThreads = pick(f.Streams, thr)
	}
	return nil
}

// chunkLimit bounds one chunk of calls.
const chunkLimit = time.Minute

// chunk is what one run of calls measured.
type chunk struct {
	lat  []time.Duration // per call
	wall time.Duration   // all calls
	cpu  time.Duration   // the plugin's CPU time meanwhile
}

// runChunk makes n calls of m with conc concurrent callers on one
// connection and returns each call's latency, the wall time and the
// CPU time the plugin process used.
func runChunk(p *Plugin, c *Conn, m Method, conc, n int) (chunk, error) {
	lat := make([]time.Duration, n)
	cpu0, err := CPUTime(p.Pid)
	if err != nil {
		return chunk{}, err
	}
	ctx, cancel := c.watchdog(chunkLimit)
	defer cancel()

	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t := time.Now()
				err := m.Call(ctx, c)
				lat[i] = time.Since(t)
				if err != nil {
					once.Do(func() {
						first = fmt.Errorf("%s: %w", m.Name, err)
						cancel()
					})
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if first != nil {
		return chunk{}, first
	}
	cpu1, err := CPUTime(p.Pid)
	if err != nil {
		return chunk{}, err
	}
	return chunk{lat: lat, wall: wall, cpu: cpu1 - cpu0}, nil
}

func summarize(name, method string, conc int, lat []time.Duration,
	wall time.Duration) LatencyFigures {
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	f := LatencyFigures{Plugin: name, Method: method, Conc: conc,
		Calls: len(lat),
		P50us: us(percentile(lat, 50)), P90us: us(percentile(lat, 90)),
		P99us: us(percentile(lat, 99))}
	if len(lat) > 0 {
		f.MeanUs = us(sum / time.Duration(len(lat)))
	}
	if wall > 0 {
		f.CallsPerS = float64(len(lat)) / wall.Seconds()
	}
	return f
}

type live struct {
	t  Target
	p  *Plugin
	c  *Conn
	ss []*Stream
}

func latencyPhase(o *pluginOpts, res *PluginResult) error {
	var ls []*live
	defer func() {
		for _, l := range ls {
			l.p.Stop(l.c)
		}
	}()
	for _, t := range o.targets {
		p, err := Launch(t)
		if err != nil {
			return err
		}
		c, err := Dial(p)
		if err != nil {
			p.Kill()
			return err
		}
		l := &live{t: t, p: p, c: c}
		ls = append(ls, l)
		if l.ss, err = nomadState(c); err != nil {
			return fmt.Errorf("%s: %w%s", t.Name, err, p.stderrNote())
		}
	}
	byName := map[string]*live{}
	for _, l := range ls {
		byName[l.t.Name] = l
	}

	for _, mn := range o.methods {
		m := methods[mn]
		for _, l := range ls {
			if _, err := runChunk(l.p, l.c, m, slices.Max(o.conc),
				o.warmup); err != nil {
				return fmt.Errorf("%s warm-up: %w", l.t.Name, err)
			}
		}
		for _, conc := range o.conc {
			lat := map[string][]time.Duration{}
			wall := map[string]time.Duration{}
			cpu := map[string]time.Duration{}
			chunkP50 := map[string][]float64{}
			per := o.calls / o.chunks
			for k := 0; k < o.chunks; k++ {
				for _, t := range o.order(k) {
					l := byName[t.Name]
					ch, err := runChunk(l.p, l.c, m, conc, per)
					if err != nil {
						return fmt.Errorf("%s: %w%s", t.Name, err,
							l.p.stderrNote())
					}
					lat[t.Name] = append(lat[t.Name], ch.lat...)
					wall[t.Name] += ch.wall
					cpu[t.Name] += ch.cpu
					slices.Sort(ch.lat)
					chunkP50[t.Name] = append(chunkP50[t.Name],
						us(percentile(ch.lat, 50)))
				}
			}
			for _, t := range o.targets {
				f := summarize(t.Name, mn, conc, lat[t.Name], wall[t.Name])
				f.ChunkP50us = chunkP50[t.Name]
				f.CPUPerCallUs = us(cpu[t.Name]) / float64(f.Calls)
				res.Latency = append(res.Latency, f)
			}
		}
	}
	for _, l := range ls {
		if err := checkOpen(l.ss); err != nil {
			return fmt.Errorf("%s: %w", l.t.Name, err)
		}
		if l.p.Exited() {
			return fmt.Errorf("%s: %w", l.t.Name, errExited)
		}
	}
	return nil
}

// The targets the project set for the C plugin against a Go plugin.
const (
	idleRSSLimitKiB = 4 * 1024
	idleRSSRatio    = 0.25
	handshakeRatio  = 1.0 / 3
	unaryP50Ratio   = 1.0
)

func checks(o *pluginOpts, res *PluginResult) []Check {
	s, r := o.targets[0].Name, o.targets[1].Name
	var out []Check

	ms, mr := res.Memory[s], res.Memory[r]
	if ms != nil && mr != nil {
		out = append(out, Check{
			Name:   "idle RSS under 4 MiB",
			Pass:   ms.IdleRSSKiB < idleRSSLimitKiB,
			Detail: fmt.Sprintf("%s %.2f MiB", s, mib(ms.IdleRSSKiB)),
		})
		q := ratio(float64(ms.IdleRSSKiB), float64(mr.IdleRSSKiB))
		out = append(out, Check{
			Name: "idle RSS under 1/4 of the reference",
			Pass: q < idleRSSRatio,
			Detail: fmt.Sprintf("%s/%s = %.3f (%.2f / %.2f MiB)", s, r, q,
				mib(ms.IdleRSSKiB), mib(mr.IdleRSSKiB)),
		})
	}

	ls, lr := res.Launch[s], res.Launch[r]
	if ls != nil && lr != nil {
		q := ratio(ls.HandshakeMedianMs, lr.HandshakeMedianMs)
		out = append(out, Check{
			Name: "handshake under 1/3 of the reference",
			Pass: q < handshakeRatio,
			Detail: fmt.Sprintf("%s/%s = %.3f (%.3f / %.3f ms)", s, r, q,
				ls.HandshakeMedianMs, lr.HandshakeMedianMs),
		})
	}

	if len(res.Latency) == 0 {
		return out
	}
	for _, mn := range o.methods {
		for _, conc := range o.conc {
			a, b := findLat(res, s, mn, conc), findLat(res, r, mn, conc)
			q := ratio(a.P50us, b.P50us)
			out = append(out, Check{
				Name: fmt.Sprintf("unary p50 %s x%d no slower than "+
					"the reference", mn, conc),
				Pass: q <= unaryP50Ratio,
				Detail: fmt.Sprintf("%s/%s = %.3f (%.1f / %.1f us)", s, r,
					q, a.P50us, b.P50us),
			})
		}
	}
	return out
}

func findLat(res *PluginResult, name, method string,
	conc int) LatencyFigures {
	for _, l := range res.Latency {
		if l.Plugin == name && l.Method == method && l.Conc == conc {
			return l
		}
	}
	return LatencyFigures{}
}

func writeResult(dir string, res *PluginResult) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return "", err
	}
	stamp := strings.ReplaceAll(res.When, ":", "")
	path := filepath.Join(dir, "plugin-"+stamp+".json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	latest := filepath.Join(dir, "plugin-latest.json")
	os.Remove(latest)
	if err := os.Symlink(filepath.Base(path), latest); err != nil &&
		!errors.Is(err, os.ErrExist) {
		return "", err
	}
	return path, nil
}
