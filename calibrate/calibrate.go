package calibrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vmsim/vmsim/internal/textpos"
	"github.com/vmsim/vmsim/validate"
)

// Format names the cost file's format and version.
const Format = "vmsim-calibration/1"

// File is a cost file: the machine, and each measured value.
type File struct {
	Format  string  `json:"format"`
	Machine Machine `json:"machine"`
	// Repeats is the runs of each probe. Invariant: ≥ 1.
	Repeats int `json:"repeats"`
	// Values in the order of Probes. Invariant: names unique, each with Repeats samples.
	Values []Value `json:"values"`
	// Notes say what limits a value on this machine (a file system without O_DIRECT, a
	// buffer not in huge pages).
	Notes []string `json:"notes,omitempty"`
}

// Machine describes where the values were measured.
type Machine struct {
	CPU      string `json:"cpu"`       // /proc/cpuinfo's first "model name"
	CPUs     int    `json:"cpus"`      // logical CPUs this process may use
	Kernel   string `json:"kernel"`    // OS type, release and version (/proc/sys/kernel)
	Arch     string `json:"arch"`      // GOARCH
	PageSize int    `json:"page_size"` // bytes
	// LoadAvg is /proc/loadavg's three load averages at the start: a shared machine's
	// load inflates what is measured.
	LoadAvg string `json:"loadavg,omitempty"`
	// Date is when the measurement started, RFC 3339 in UTC.
	Date string `json:"date"`
	// ScratchFS is the file system type of the directory the disk probe wrote in.
	ScratchFS string `json:"scratch_fs,omitempty"`
}

// Value is one measured cost.
type Value struct {
	Name string `json:"name"`
	Unit string `json:"unit"` // "ns" or "B/s"
	// Median is the median of Samples; Spread their interquartile range over the median
	// (validate.Summarize).
	Median      float64   `json:"median"`
	Spread      float64   `json:"spread"`
	Samples     []float64 `json:"samples"`
	Description string    `json:"description"`
}

// Value returns the value called name.
func (f *File) Value(name string) (Value, bool) {
	for _, v := range f.Values {
		if v.Name == name {
			return v, true
		}
	}
	return Value{}, false
}

// Runner runs a probe once (the probe program's first argument, then args) and returns
// the numbers it printed by name. ProbeRunner runs the real probe; tests give a fake.
type Runner interface {
	Run(ctx context.Context, probe string, args ...string) (map[string]float64, error)
}

// def defines a measured value: computed from one run's numbers.
type def struct {
	name, unit, desc string
	// value returns the value from raw, a run's numbers, or an error saying what is
	// missing; skip (with a note) when this machine cannot measure it.
	value func(raw map[string]float64) (v float64, skip string, err error)
	// difference: the value is one timing less another, which noise can make 0 or
	// negative in a run; a median at or below 0 is no measurement: the value is left out,
	// with a note.
	difference bool
}

// Probe is one probe program run: the values it yields.
type Probe struct {
	Name string // the probe program's argument
	Doc  string // for the progress line
	defs []def
	// note, when not nil, returns a note on a run's numbers, or "".
	note func(raw map[string]float64) string
}

// ValueNames returns the names of the values p measures.
func (p Probe) ValueNames() []string {
	var names []string
	for _, d := range p.defs {
		names = append(names, d.name)
	}
	return names
}

// per returns raw[num] / raw[den], both required and den positive.
func per(raw map[string]float64, num, den string) (float64, error) {
	n, ok1 := raw[num]
	d, ok2 := raw[den]
	switch {
	case !ok1 || !ok2:
		return 0, fmt.Errorf("want %s and %s", num, den)
	case !(d > 0) || n < 0:
		return 0, fmt.Errorf("%s = %v, %s = %v: want a positive count and a time of 0 or more", den, d, num, n)
	}
	return n / d, nil
}

// Probes are the measurements, in the order they run. doc.go says which cost.Model
// field each value is meant for.
var Probes = []Probe{
	{Name: "copy", Doc: "page copy bandwidth", defs: []def{{
		name: "page_copy_bytes_per_sec", unit: "B/s",
		desc: "4 KiB page copies (memcpy) over 64 MiB, memory to memory: bytes copied per second",
		value: func(raw map[string]float64) (float64, string, error) {
			ns, err := per(raw, "ns", "bytes")
			if err == nil && ns == 0 {
				err = errors.New("ns = 0: the copies took no time")
			}
			if err != nil {
				return 0, "", err
			}
			return 1e9 / ns, "", nil
		}}}},
	{Name: "fault", Doc: "minor page fault", defs: []def{{
		name: "minor_fault_ns", unit: "ns",
		desc: "the first write to a fresh anonymous page: trap, zero fill, page-table update",
		value: func(raw map[string]float64) (float64, string, error) {
			v, err := per(raw, "ns", "faults")
			return v, "", err
		}}}},
	{Name: "trap", Doc: "write-protection trap and mprotect", defs: []def{{
		name: "wp_trap_ns", unit: "ns",
		desc: "a write to a write-protected present page: SIGSEGV, a handler that mprotects the page writable, the write retried",
		value: func(raw map[string]float64) (float64, string, error) {
			v, err := per(raw, "trap_ns", "traps")
			return v, "", err
		}}, {
		name: "mprotect_ns", unit: "ns",
		desc: "one mprotect call on one present page (splitting or merging its mapping), as a checkpoint's re-protection",
		value: func(raw map[string]float64) (float64, string, error) {
			v, err := per(raw, "mprotect_ns", "calls")
			return v, "", err
		}}}},
	{Name: "disk", Doc: "durable 4 KiB write and direct read", defs: []def{{
		name: "durable_write_ns", unit: "ns",
		desc: "a 4 KiB write at a random offset of a 16 MiB file and fdatasync",
		value: func(raw map[string]float64) (float64, string, error) {
			v, err := per(raw, "write_ns", "writes")
			return v, "", err
		}}, {
		name: "disk_read_ns", unit: "ns",
		desc: "a 4 KiB O_DIRECT read at a random offset of the same file, past the page cache",
		value: func(raw map[string]float64) (float64, string, error) {
			if r, ok := raw["reads"]; ok && r == 0 {
				return 0, "the scratch directory's file system refuses O_DIRECT: disk_read_ns not measured", nil
			}
			v, err := per(raw, "read_ns", "reads")
			return v, "", err
		}}}},
	{Name: "miss", Doc: "cache miss latency", defs: []def{{
		name: "cache_miss_ns", unit: "ns",
		desc: "a dependent load missing every cache (random pointer chase over 64 MiB, in huge pages where given) less one hitting L1 (over 16 KiB)",
		value: func(raw map[string]float64) (float64, string, error) {
			large, err1 := per(raw, "large_ns", "loads")
			small, err2 := per(raw, "small_ns", "loads")
			if err := errors.Join(err1, err2); err != nil {
				return 0, "", err
			}
			return large - small, "", nil
		},
		difference: true}},
		note: func(raw map[string]float64) string {
			huge, large := raw["huge_kb"], raw["large_kb"]
			if huge >= 0 && huge < large {
				return fmt.Sprintf("only %.0f KiB of the %.0f KiB the cache-miss probe chases was in transparent huge pages: cache_miss_ns includes TLB misses", huge, large)
			}
			return ""
		}},
	{Name: "walk", Doc: "page walk", defs: []def{{
		name: "page_walk_ns", unit: "ns",
		desc: "a dependent load over 16,384 lines one to a page (a TLB miss each) less the same packed 64 lines to a page",
		value: func(raw map[string]float64) (float64, string, error) {
			spread, err1 := per(raw, "spread_ns", "loads")
			packed, err2 := per(raw, "packed_ns", "loads")
			if err := errors.Join(err1, err2); err != nil {
				return 0, "", err
			}
			return spread - packed, "", nil
		},
		difference: true}}},
}

// Options controls Measure.
type Options struct {
	// Repeats is the runs of each probe; 5 when 0.
	Repeats int
	// Scratch is the directory the disk probe writes its file in (on the disk to be
	// measured: a tmpfs measures memory); the current directory when "".
	Scratch string
	// Only, when not empty, names the probes to run (Probe.Name).
	Only []string
	// Progress, when not nil, receives a line per probe.
	Progress io.Writer
	// Now gives the date recorded; time.Now when nil.
	Now func() time.Time
	// Describe describes the machine; DescribeMachine when nil.
	Describe func(scratch string) Machine
}

// Measure runs each probe opt.Repeats times through r and returns the cost file: the
// machine, and each value's samples, median and spread.
func Measure(ctx context.Context, r Runner, opt Options) (*File, error) {
	if opt.Repeats == 0 {
		opt.Repeats = 5
	}
	if opt.Repeats < 0 {
		return nil, fmt.Errorf("%d repeats: want at least 1", opt.Repeats)
	}
	if opt.Scratch == "" {
		opt.Scratch = "."
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Describe == nil {
		opt.Describe = DescribeMachine
	}
	probes := Probes
	if len(opt.Only) > 0 {
		probes = nil
		for _, name := range opt.Only {
			i := slices.IndexFunc(Probes, func(p Probe) bool { return p.Name == name })
			if i < 0 {
				return nil, fmt.Errorf("probe %q: want one of %s", name, strings.Join(ProbeNames(), ", "))
			}
			if !slices.ContainsFunc(probes, func(p Probe) bool { return p.Name == name }) {
				probes = append(probes, Probes[i])
			}
		}
	}
	m := opt.Describe(opt.Scratch)
	m.Date = opt.Now().UTC().Format(time.RFC3339)
	f := &File{Format: Format, Machine: m, Repeats: opt.Repeats}
	if m.ScratchFS == "tmpfs" || m.ScratchFS == "ramfs" {
		f.Notes = append(f.Notes, fmt.Sprintf("the scratch directory %s is on %s, in memory: durable_write_ns and disk_read_ns measure memory, not a disk", opt.Scratch, m.ScratchFS))
	}
	for i, p := range probes {
		if opt.Progress != nil {
			fmt.Fprintf(opt.Progress, "calibrate: [%d/%d] %s, %d runs:", i+1, len(probes), p.Doc, opt.Repeats)
		}
		vals, notes, err := runProbe(ctx, r, p, opt)
		if opt.Progress != nil {
			if err != nil {
				fmt.Fprintf(opt.Progress, " failed\n")
			} else {
				var parts []string
				for _, v := range vals {
					parts = append(parts, fmt.Sprintf(" %s %s (spread %.1f%%)", v.Name, human(v.Median, v.Unit), 100*v.Spread))
				}
				fmt.Fprintf(opt.Progress, "%s\n", strings.Join(parts, ","))
			}
		}
		if err != nil {
			return nil, err
		}
		f.Values = append(f.Values, vals...)
		f.Notes = append(f.Notes, notes...)
	}
	return f, nil
}

// runProbe runs p opt.Repeats times and summarises each of its values. A value the
// machine cannot measure (in any run) is left out, with a note.
func runProbe(ctx context.Context, r Runner, p Probe, opt Options) ([]Value, []string, error) {
	var args []string
	if p.Name == "disk" {
		args = []string{opt.Scratch}
	}
	samples := make([][]float64, len(p.defs))
	skips := make([]string, len(p.defs))
	var runNotes []string
	for range opt.Repeats {
		raw, err := r.Run(ctx, p.Name, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("probe %s: %w", p.Name, err)
		}
		if p.note != nil {
			if n := p.note(raw); n != "" && !slices.Contains(runNotes, n) {
				runNotes = append(runNotes, n)
			}
		}
		for j, d := range p.defs {
			v, skip, err := d.value(raw)
			switch {
			case err != nil:
				return nil, nil, fmt.Errorf("probe %s: %s: %w", p.Name, d.name, err)
			case skip != "":
				skips[j] = skip
			case math.IsNaN(v) || math.IsInf(v, 0):
				return nil, nil, fmt.Errorf("probe %s: %s = %v", p.Name, d.name, v)
			default:
				samples[j] = append(samples[j], v)
			}
		}
	}
	var vals []Value
	notes := runNotes
	for j, d := range p.defs {
		if skips[j] != "" {
			notes = append(notes, skips[j])
			continue
		}
		med, spread := validate.Summarize(samples[j])
		if d.difference && !(med > 0) {
			notes = append(notes, fmt.Sprintf("%s came out %s (the median over %d runs of one timing less another): the two are within this machine's noise, so it is not measured", d.name, human(med, d.unit), len(samples[j])))
			continue
		}
		vals = append(vals, Value{Name: d.name, Unit: d.unit, Median: med, Spread: spread, Samples: samples[j], Description: d.desc})
	}
	return vals, notes, nil
}

// human formats v in unit for the progress line.
func human(v float64, unit string) string {
	switch {
	case unit == "B/s":
		return fmt.Sprintf("%.2f GB/s", v/1e9)
	case unit == "ns" && math.Abs(v) >= 1e6:
		return fmt.Sprintf("%.3g ms", v/1e6)
	case unit == "ns" && math.Abs(v) >= 1e3:
		return fmt.Sprintf("%.3g µs", v/1e3)
	default:
		return fmt.Sprintf("%.3g %s", v, unit)
	}
}

// ProbeNames returns the probes' names.
func ProbeNames() []string {
	var names []string
	for _, p := range Probes {
		names = append(names, p.Name)
	}
	return names
}

// Write writes f as indented JSON and a newline.
func (f *File) Write(w io.Writer) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Read reads a cost file (name is for errors, which give its line and column where they
// have one) and checks it: its format, and every value named once, with a unit, finite
// numbers, Repeats samples whose median and spread are the recorded ones.
func Read(r io.Reader, name string) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se): // Offset is just past the offending byte
			return nil, fmt.Errorf("%s: %w", textpos.At(name, data, se.Offset-1), err)
		case errors.As(err, &te): // Offset is just past the value
			return nil, fmt.Errorf("%s: %w", textpos.At(name, data, te.Offset-1), err)
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%s: empty: want a cost file (vmsim calibrate)", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: data after the cost file's object", textpos.At(name, data, dec.InputOffset()))
	}
	if f.Format != Format {
		return nil, fmt.Errorf("%s: format %q, want %q", name, f.Format, Format)
	}
	if f.Repeats < 1 {
		return nil, fmt.Errorf("%s: repeats %d: want at least 1", name, f.Repeats)
	}
	seen := map[string]bool{}
	for i, v := range f.Values {
		where := fmt.Sprintf("%s: value %d (%s)", name, i+1, v.Name)
		switch {
		case v.Name == "":
			return nil, fmt.Errorf("%s: value %d has no name", name, i+1)
		case seen[v.Name]:
			return nil, fmt.Errorf("%s: named twice", where)
		case v.Unit != "ns" && v.Unit != "B/s":
			return nil, fmt.Errorf("%s: unit %q, want ns or B/s", where, v.Unit)
		case len(v.Samples) != f.Repeats:
			return nil, fmt.Errorf("%s: %d samples, want repeats = %d", where, len(v.Samples), f.Repeats)
		}
		seen[v.Name] = true
		med, spread := validate.Summarize(v.Samples)
		if !near(med, v.Median) || !near(spread, v.Spread) {
			return nil, fmt.Errorf("%s: median %v and spread %v, but the samples give %v and %v", where, v.Median, v.Spread, med, spread)
		}
	}
	return &f, nil
}

// near reports whether a and b agree to 1e-9 relative (JSON round trips are exact; a
// hand-edited file need not be).
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// DescribeMachine describes this machine: CPU model, CPUs, kernel, page size, load, and
// the file system of scratch.
func DescribeMachine(scratch string) Machine {
	m := Machine{CPU: "unknown", CPUs: runtime.NumCPU(), Arch: runtime.GOARCH, PageSize: os.Getpagesize(), Kernel: runtime.GOOS}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	var kernel []string
	for _, f := range []string{"ostype", "osrelease", "version"} {
		if b, err := os.ReadFile("/proc/sys/kernel/" + f); err == nil {
			kernel = append(kernel, strings.TrimSpace(string(b)))
		}
	}
	if len(kernel) > 0 {
		m.Kernel = strings.Join(kernel, " ")
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	m.ScratchFS = fsType(scratch)
	return m
}
