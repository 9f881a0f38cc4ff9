package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// hostInfo is the machine a run ran on, as run -o's file records it.
type hostInfo struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`   // runtime.GOOS
	Arch     string `json:"arch"` // runtime.GOARCH
	CPU      string `json:"cpu"`  // /proc/cpuinfo's first "model name", or "unknown"
	Cores    int    `json:"cores"`
}

// describeHost describes this machine.
func describeHost() *hostInfo {
	h := &hostInfo{Hostname: "unknown", OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: "unknown", Cores: runtime.NumCPU()}
	if n, err := os.Hostname(); err == nil {
		h.Hostname = n
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}

func (h *hostInfo) String() string {
	return fmt.Sprintf("%s, %s/%s, %s, %d cores", h.Hostname, h.OS, h.Arch, h.CPU, h.Cores)
}

// runFileHeader writes the lines that open run -o's text file: what identifies the run
// (the vmsim version, the whole configuration as JSON, the trace's sha256 and format,
// the cost set and its values), the host and the wall time.
func runFileHeader(w io.Writer, res *sim.Result, format, sum string, set cost.Set, host *hostInfo, wall float64) error {
	cfg, err := json.Marshal(res.Config)
	if err != nil {
		return err
	}
	vals, err := json.Marshal(set.Model)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "vmsim %s\nconfig %s\ntrace sha256 %s (format %s)\ncost set %s %s\nhost %s\nwall time %.3f s\n\n",
		version, cfg, sum, format, set.Name, vals, host, wall)
	return err
}

// counterApplies reports whether run's text table shows counter key (a sim.Stats key, or
// "scheme.KEY" for a scheme's own) of a run of configuration c with scheme info, whose
// value is v; --all shows them all. The rule, which runLong documents: a counter that is
// not zero is shown; so are, zero or not, those that count what every run does (refs,
// reads, writes, pages_touched, pages_written, checkpoints) and the scheme's own
// counters, and those of a feature the run has: replayed_refs, rollbacks, crashes and
// recovery_bytes with failures (--fail-at, --mtbf); the paging counters (first_writes
// to wrap_sweeps) for a scheme that pages (takes --frames); skipped_lines with --lenient;
// verify_* with --verify; cache_* with a cache; coh_* with --cores above 1; tlb_* with a
// TLB (tlb_stale_writes under --tlb-checkpoint tag); io_* under --io hold. The common
// channels (bytes_copied to mem_overhead_peak_bytes) are shown when not zero: a scheme
// reports those it moves bytes through.
func counterApplies(key string, v int64, c sim.Config, info scheme.Info) bool {
	if v != 0 || strings.HasPrefix(key, "scheme.") {
		return true
	}
	failures := len(c.FailAt) > 0 || c.MTBF > 0
	switch key {
	case "refs", "reads", "writes", "pages_touched", "pages_written", "checkpoints":
		return true
	case "replayed_refs", "rollbacks", "crashes", "recovery_bytes":
		return failures
	case "skipped_lines":
		return c.Lenient
	case "tlb_stale_writes":
		return c.TLBEntries > 0 && c.TLBCheckpoint == sim.TLBTag
	}
	switch {
	case pagingKeys[key]:
		return info.Takes("frames")
	case strings.HasPrefix(key, "verify_"):
		return c.Verify
	case strings.HasPrefix(key, "cache_"):
		return c.CacheSize > 0
	case strings.HasPrefix(key, "coh_"):
		return c.Cores > 1
	case strings.HasPrefix(key, "tlb_"):
		return c.TLBEntries > 0
	case strings.HasPrefix(key, "io_"):
		return c.IO == sim.IOHold
	}
	return false
}

// pagingKeys are the keys of scheme.Paging's counters.
var pagingKeys = func() map[string]bool {
	defs, err := scheme.CounterDefsOf(reflect.TypeFor[scheme.Paging]())
	if err != nil {
		panic(err)
	}
	m := map[string]bool{}
	for _, d := range defs {
		m[d.Key] = true
	}
	return m
}()

// statsOut is where run --stats-every writes its lines: a file, written atomically (it
// appears only when the run succeeds), or standard output, the lines held until the run
// succeeds (a run that fails writes nothing there).
type statsOut struct {
	f      *atomicfile.File // nil for standard output
	w      *bufio.Writer
	held   *bytes.Buffer // standard output's lines
	stdout io.Writer
	cfg    sim.Config
	set    cost.Set
}

// openStatsOut opens path ("-": stdout) for run --stats-every's lines.
func openStatsOut(path string, stdout io.Writer) (*statsOut, error) {
	if path == "-" {
		held := &bytes.Buffer{}
		return &statsOut{w: bufio.NewWriter(held), held: held, stdout: stdout}, nil
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--stats-out: %w", err)
	}
	return &statsOut{f: f, w: bufio.NewWriter(f)}, nil
}

// statsLine is one line of --stats-out: an interval's counts and the modeled time so far.
type statsLine struct {
	sim.IntervalStats
	// TimeNs is the modeled time of the run so far, from its start (after --warmup) to
	// the interval's end, by the cost set (cost.Model.Time of the counts so far, not
	// charged against the baseline: the overhead rule needs the baseline's whole run).
	TimeNs float64 `json:"time_ns"`
}

// write writes iv's line.
func (o *statsOut) write(iv sim.IntervalStats) error {
	b, err := json.Marshal(statsLine{iv, o.set.Model.Time(iv.Total, o.cfg).Total})
	if err != nil {
		return err
	}
	o.w.Write(b)
	return o.w.WriteByte('\n')
}

// commit makes the lines final.
func (o *statsOut) commit() error {
	if err := o.w.Flush(); err != nil {
		return fmt.Errorf("--stats-out: %w", err)
	}
	if o.f != nil {
		if err := o.f.Commit(); err != nil {
			return fmt.Errorf("--stats-out: %w", err)
		}
		return nil
	}
	_, err := o.held.WriteTo(o.stdout)
	return err
}

// abort drops a file's lines (does nothing after commit).
func (o *statsOut) abort() {
	if o.f != nil {
		o.f.Abort()
	}
}
