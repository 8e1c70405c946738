package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ProcStatus is the memory part of /proc/<pid>/status, in KiB.
type ProcStatus struct {
	VmRSS   int64 `json:"vm_rss_kib"`
	VmHWM   int64 `json:"vm_hwm_kib"`
	RssAnon int64 `json:"rss_anon_kib"`
	RssFile int64 `json:"rss_file_kib"`
	Threads int64 `json:"threads"`
}

// ReadStatus reads the memory figures of a live process.
func ReadStatus(pid int) (ProcStatus, error) {
	var s ProcStatus
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer f.Close()

	fields := map[string]*int64{
		"VmRSS:": &s.VmRSS, "VmHWM:": &s.VmHWM, "RssAnon:": &s.RssAnon,
		"RssFile:": &s.RssFile, "Threads:": &s.Threads,
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 2 {
			continue
		}
		if dst, ok := fields[w[0]]; ok {
			v, err := strconv.ParseInt(w[1], 10, 64)
			if err != nil {
				return s, fmt.Errorf("status %s: %w", w[0], err)
			}
			*dst = v
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if s.VmRSS == 0 {
		return s, fmt.Errorf("pid %d: no VmRSS", pid)
	}
	return s, nil
}

func medianInt(v []int64) int64 {
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

func medianDur(v []time.Duration) time.Duration {
	s := make([]int64, len(v))
	for i, d := range v {
		s[i] = int64(d)
	}
	return time.Duration(medianInt(s))
}

// percentile returns the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.5) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// Machine describes where the numbers were taken.
type Machine struct {
	NumCPU    int    `json:"nproc"`
	Kernel    string `json:"kernel"`
	CPU       string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
}

func machine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func us(d time.Duration) float64 {
	return float64(d) / float64(time.Microsecond)
}

func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

func mib(kib int64) float64 {
	return float64(kib) / 1024
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// CPUTime is the CPU time the process's threads have run so far, from
// /proc/<pid>/task/*/schedstat (nanoseconds, unlike the tick-granular
// utime/stime in /proc/<pid>/stat).
func CPUTime(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread went away meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s schedstat: %w", t.Name(), err)
		}
		sum += v
	}
	return time.Duration(sum), nil
}

// cpuStall is the kernel's count of microseconds in which some runnable
// task waited for a CPU (/proc/pressure/cpu, "some" total); ok is false
// where the kernel has no pressure accounting.
func cpuStall() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "some ") {
			continue
		}
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return 0, false
				}
				return time.Duration(n) * time.Microsecond, true
			}
		}
	}
	return 0, false
}

// pressureMeter measures the share of wall time in which something on
// the machine waited for a CPU: how busy the machine was while a phase
// ran, our own processes included.
type pressureMeter struct {
	start time.Time
	stall time.Duration
	ok    bool
}

func startPressure() pressureMeter {
	s, ok := cpuStall()
	return pressureMeter{start: time.Now(), stall: s, ok: ok}
}

// percent returns the stalled share of the time since start, or -1.
func (m pressureMeter) percent() float64 {
	s, ok := cpuStall()
	wall := time.Since(m.start)
	if !m.ok || !ok || wall <= 0 {
		return -1
	}
	return 100 * float64(s-m.stall) / float64(wall)
}
