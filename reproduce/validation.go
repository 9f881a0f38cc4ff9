package reproduce

import (
	"context"
	"errors"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/calibrate"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/validate"
	"github.com/vmsim/vmsim/vgrecord"
)

// valProgram is one program of the validation study at the size it runs at.
type valProgram struct {
	Name string
	// Args are the program's size arguments (validate/programs/NAME.c).
	Args []string
	// Ks are the checkpoint intervals, in the program's iterations. Invariant: they span
	// at least three decades, and the largest is below the program's iterations at Args
	// (every run takes a checkpoint).
	Ks []int64
}

// valSetup holds every size knob of the validation study, in one place.
type valSetup struct {
	Programs []valProgram
	// Repeats is the native runs of each (program, mechanism, K), in rounds.
	Repeats int
	// CalibrationRepeats is the runs of each calibration probe before each program's native
	// runs (when no file is given): the costs are the medians over all of them, so that on
	// a shared machine they see the load the native runs saw.
	CalibrationRepeats int
}

// validationSetup is the study: the four programs at footprints of 2 to 4 MiB (smaller
// than validate's defaults, so that full copies at the smallest K and the recordings
// under valgrind stay within minutes), each with four K over three decades. About 8
// minutes on the 2-core machine vmsim is developed on, shared with other work: most of it
// native runs, the rest recording and simulation.
var validationSetup = valSetup{
	Programs: []valProgram{
		// 512×512 grids (2 × 2 MiB), 40 sweeps: 20,400 iterations (rows).
		{Name: "stencil", Args: []string{"512", "40"}, Ks: []int64{10, 100, 1000, 10000}},
		// 2^17 keys (2 × 1 MiB), 17 passes: 4,352 iterations.
		{Name: "sort", Args: []string{"131072"}, Ks: []int64{2, 20, 200, 2000}},
		// a 2^17-slot table (2 MiB), 2^20 operations: 16,384 iterations.
		{Name: "kvstore", Args: []string{"17", "1048576"}, Ks: []int64{5, 50, 500, 5000}},
		// 2^17 doubles (2 × 1 MiB), 32 passes: 8,192 iterations.
		{Name: "stream", Args: []string{"131072", "32"}, Ks: []int64{4, 40, 400, 4000}},
	},
	Repeats:            5,
	CalibrationRepeats: 2,
}

// validationSchemes are the schemes that model each mechanism of the C library.
var validationSchemes = map[validate.Mechanism][]string{
	validate.WP:        {"remus", "incremental"},
	validate.SoftDirty: {"remus", "incremental"},
	validate.Full:      {"shadow"},
}

// valRow is one point of the study: a program's measured overhead under a mechanism at
// one K beside a scheme's modeled overhead on the recording of the same run.
type valRow struct {
	Program   string
	Mechanism validate.Mechanism
	Scheme    string
	K         int64
	// Measured is the native overhead (median over median of none, minus one) and Spread
	// its uncertainty (validate.Point.OverheadSpread); Modeled is vmsim's prediction.
	Measured, Spread, Modeled float64
	// What lies behind the numbers, for the README.
	Baseline                time.Duration // the median native run under none
	Accesses                int64         // the recording's accesses
	Checkpoints             int64
	NativeTraps, ModelTraps int64
	NativeBytes, ModelBytes int64 // bytes copied natively; bytes the scheme moved
	// stats and base are the scheme's and none's counters on the recording, and accessNs
	// the program's access time: Modeled is priced from them once the costs are known.
	stats, base sim.Stats
	accessNs    float64
}

// RelErr is the relative error of the prediction: (modeled - measured) / measured.
func (r valRow) RelErr() float64 { return (r.Modeled - r.Measured) / r.Measured }

// valCosts are the calibrated primitives the study prices checkpoints with.
type valCosts struct {
	CopyBytesPerSec float64 // page_copy_bytes_per_sec
	TrapNs          float64 // wp_trap_ns
	// File is the calibration they came from (written beside the results).
	File *calibrate.File
	// Source says where the file came from: measured now, or the file named.
	Source string
}

// costModel is the cost model of one point: the calibrated copy bandwidth and trap, and
// AccessNs from the program's own native run (its median run time under none over the
// accesses of its recording: the definition of access_ns). That native time already
// holds the program's first-touch faults, so the model prices no paging (fault, disk
// read and write at 0). The trap is calibrate's wp_trap_ns, which includes the handler's
// mprotect of the page; the library re-protects its region with one mprotect a
// checkpoint, which the model does not price (mprotect_ns 0: see the study's README for
// what that misses at small K). The library copies a checkpoint into a buffer in memory
// and sends it nowhere: the storage an incremental checkpoint goes to is that buffer (a
// memory copy), and the link remus sends on costs nothing.
func (c valCosts) costModel(accessNs float64) cost.Model {
	m := cost.Default()
	m.AccessNs = accessNs
	m.CopyBytesPerSec = c.CopyBytesPerSec
	m.StorageBytesPerSec = c.CopyBytesPerSec
	m.LogBytesPerSec = c.CopyBytesPerSec
	m.BackupBytesPerSec = math.Inf(1)
	m.TrapNs = c.TrapNs
	m.FaultNs, m.DiskReadNs, m.DiskWriteNs = 0, 0, 0
	m.MprotectNs = 0
	return m
}

// modeledOverhead is the study's overhead of a scheme's counters over the baseline's:
// cost.Compare, the one overhead rule, on the study's machine (pages of PageSize bytes,
// no cache); NaN when the baseline costs nothing.
func modeledOverhead(st, base sim.Stats, costs cost.Model) float64 {
	c := sim.DefaultConfig()
	c.PageSize = PageSize
	cmp := cost.Compare(costs, st, base, c)
	if cmp.Baseline.Total <= 0 {
		return math.NaN()
	}
	return cmp.Overhead
}

// errSkipped says why the study cannot run here (no compiler, no valgrind).
var errSkipped = errors.New("validation study skipped")

// runValidation runs the validation study into opt.Dir/validation; without gcc or
// valgrind it says so on opt.Log and returns nil.
func runValidation(opt Options) error {
	err := runValidationWith(context.Background(), opt, validationSetup)
	if errors.Is(err, errSkipped) {
		fmt.Fprintf(logOf(opt), "reproduce: %v\n", err)
		return nil
	}
	return err
}

func logOf(opt Options) io.Writer {
	if opt.Log == nil {
		return io.Discard
	}
	return opt.Log
}

// runValidationWith runs the study with setup.
func runValidationWith(ctx context.Context, opt Options, setup valSetup) error {
	log := logOf(opt)
	start := time.Now()
	if _, err := validate.FindCompiler(); err != nil {
		return fmt.Errorf("%w: %v (it compiles validate/'s programs)", errSkipped, err)
	}
	vg, err := vgrecord.ValgrindVersion("")
	if err != nil {
		return fmt.Errorf("%w: %v", errSkipped, err)
	}
	toolDir, err := vgrecord.BuildVMTrace("")
	if err != nil {
		return fmt.Errorf("%w: vmsim's valgrind tool vmtrace, which turns the checkpoint calls into checkpoint records, cannot be built here: %v", errSkipped, err)
	}
	b, err := validate.NewBuild("")
	if err != nil {
		return err
	}
	defer b.Close()
	v := &validation{opt: opt, setup: setup, valgrind: vg}
	v.mechs = []validate.Mechanism{validate.WP}
	if err := b.Supported(ctx, validate.SoftDirty); err == nil {
		v.mechs = append(v.mechs, validate.SoftDirty)
	} else if errors.Is(err, validate.ErrUnsupported) {
		v.notes = append(v.notes, fmt.Sprintf("softdirty is left out: %v", err))
		fmt.Fprintf(log, "reproduce: validation: %s\n", v.notes[len(v.notes)-1])
	} else {
		return err
	}
	v.mechs = append(v.mechs, validate.Full)
	var probe *calibrate.ProbeRunner
	var cals []*calibrate.File
	if opt.Calibration != "" {
		if v.costs, err = readCosts(opt.Calibration); err != nil {
			return err
		}
	} else {
		if probe, err = calibrate.NewProbeRunner(ctx); err != nil {
			return err
		}
		defer probe.Close()
	}
	work, err := validate.PrivateDir("", "vmsim-validation-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, p := range setup.Programs {
		if probe != nil {
			f, err := calibrate.Measure(ctx, probe, calibrate.Options{Repeats: setup.CalibrationRepeats, Only: calibrationProbes, Progress: log})
			if err != nil {
				return err
			}
			cals = append(cals, f)
		}
		fmt.Fprintf(log, "reproduce: validation: %s: measuring natively (%d rounds)\n", p.Name, setup.Repeats)
		points, err := b.Measure(ctx, p.Name, p.Args, v.mechs, p.Ks, validate.Options{Repeats: setup.Repeats})
		if err != nil {
			return err
		}
		for _, k := range p.Ks {
			fmt.Fprintf(log, "reproduce: validation: %s K=%d: recording under valgrind and simulating\n", p.Name, k)
			if err := v.model(ctx, b, toolDir, work, p, k, points); err != nil {
				return err
			}
		}
	}
	if probe != nil {
		source := fmt.Sprintf("measured during the study: calibrate's copy and trap probes, %d runs before each program's native runs, the median of all", setup.CalibrationRepeats)
		if v.costs, err = costsOf(mergeCalibrations(cals), source); err != nil {
			return err
		}
	}
	for i := range v.rows {
		r := &v.rows[i]
		r.Modeled = modeledOverhead(r.stats, r.base, v.costs.costModel(r.accessNs))
	}
	v.elapsed = time.Since(start)
	return v.write()
}

// calibrationProbes are the probes of package calibrate the study needs.
var calibrationProbes = []string{"copy", "trap"}

// validation is the study as it runs.
type validation struct {
	opt      Options
	setup    valSetup
	valgrind string
	mechs    []validate.Mechanism
	costs    valCosts
	rows     []valRow
	notes    []string
	elapsed  time.Duration
}

// model records program p at K under mechanism none, runs the schemes of every mechanism
// on the recording, and adds a row per (mechanism, scheme) from points (the native
// measurements of p).
func (v *validation) model(ctx context.Context, b *validate.Build, toolDir, work string, p valProgram, k int64, points []validate.Point) error {
	exe, err := b.Executable(ctx, p.Name)
	if err != nil {
		return err
	}
	path := filepath.Join(work, fmt.Sprintf("%s-%d.vmt", p.Name, k))
	defer os.Remove(path)
	rec, out, err := recordRun(ctx, exe, toolDir, path, append([]string{string(validate.None), strconv.FormatInt(k, 10)}, p.Args...))
	if err != nil {
		return fmt.Errorf("%s K=%d: %w", p.Name, k, err)
	}
	stats := map[string]sim.Stats{}
	for _, scheme := range append([]string{"none"}, v.schemes()...) {
		if stats[scheme], err = simulate(path, out, scheme); err != nil {
			return fmt.Errorf("%s K=%d: %s: %w", p.Name, k, scheme, err)
		}
	}
	for _, pt := range points {
		if pt.K != k {
			continue
		}
		native := pt.Samples[0]
		if out.checksum != native.Checksum || rec.Checkpoints != native.Checkpoints {
			return fmt.Errorf("%s K=%d: the recorded run (checksum %s, %d checkpoint records) is not the native one (checksum %s, %d checkpoints)",
				p.Name, k, out.checksum, rec.Checkpoints, native.Checksum, native.Checkpoints)
		}
		base := stats["none"]
		accessNs := float64(pt.Baseline.Median) / float64(base.Refs)
		for _, scheme := range validationSchemes[pt.Mechanism] {
			st := stats[scheme]
			v.rows = append(v.rows, valRow{
				Program: p.Name, Mechanism: pt.Mechanism, Scheme: scheme, K: k,
				Measured: pt.Overhead, Spread: pt.OverheadSpread,
				stats: st, base: base, accessNs: accessNs,
				Baseline: pt.Baseline.Median, Accesses: base.Refs, Checkpoints: st.Checkpoints,
				NativeTraps: native.Traps, ModelTraps: st.Traps,
				NativeBytes: native.BytesCopied, ModelBytes: max(st.BytesCopied, st.BytesToStorage),
			})
		}
	}
	return nil
}

// schemes lists the schemes of the study's mechanisms, each once.
func (v *validation) schemes() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range v.mechs {
		for _, s := range validationSchemes[m] {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// simulate runs scheme on the recording at path, on the accesses to the library's region
// only, checkpointing at its checkpoint records only (interval 0), with 4 KiB pages (and
// page granules: the library copies pages).
func simulate(path string, region runOutput, scheme string) (sim.Stats, error) {
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.PageSize = scheme, 0, PageSize
	if scheme == "shadow" {
		cfg.Granule = PageSize
	}
	open := func() (traces.Reader, error) {
		f, err := traces.Open(path, traces.Options{})
		if err != nil {
			return nil, err
		}
		return &regionReader{r: f, lo: region.lo, hi: region.hi}, nil
	}
	res, err := sim.RunWith(cfg, open, sim.Options{Registry: builtin.Registry()})
	if err != nil {
		return sim.Stats{}, err
	}
	return res.Stats, nil
}

// readCosts reads the calibration file path (vmsim calibrate's).
func readCosts(path string) (valCosts, error) {
	r, err := os.Open(path)
	if err != nil {
		return valCosts{}, fmt.Errorf("--calibration: %w", err)
	}
	defer r.Close()
	f, err := calibrate.Read(r, path)
	if err != nil {
		return valCosts{}, fmt.Errorf("--calibration: %w", err)
	}
	return costsOf(f, "the file "+filepath.Base(path)+" (`--calibration`)")
}

// costsOf takes the study's costs from a calibration.
func costsOf(f *calibrate.File, source string) (valCosts, error) {
	c := valCosts{File: f, Source: source}
	for _, want := range []struct {
		name string
		to   *float64
	}{{"page_copy_bytes_per_sec", &c.CopyBytesPerSec}, {"wp_trap_ns", &c.TrapNs}} {
		val, ok := f.Value(want.name)
		if !ok || !(val.Median > 0) {
			return valCosts{}, fmt.Errorf("calibration %s: no positive %s (run vmsim calibrate with the copy and trap probes)", source, want.name)
		}
		*want.to = val.Median
	}
	return c, nil
}

// mergeCalibrations joins calibrations of the same probes made at different times into
// one: the first's machine (with every load average seen), every value's samples of all,
// their median and spread, and the notes of all. Precondition: fs is not empty and each
// holds the same values in the same order.
func mergeCalibrations(fs []*calibrate.File) *calibrate.File {
	out := *fs[0]
	out.Values = nil
	out.Repeats = 0
	out.Notes = nil
	var loads []string
	for _, f := range fs {
		out.Repeats += f.Repeats
		loads = append(loads, f.Machine.LoadAvg)
		for _, n := range f.Notes {
			if !slices.Contains(out.Notes, n) {
				out.Notes = append(out.Notes, n)
			}
		}
	}
	out.Machine.LoadAvg = strings.Join(loads, "; ")
	for i, v := range fs[0].Values {
		var all []float64
		for _, f := range fs {
			if f.Values[i].Name != v.Name {
				panic("mergeCalibrations: calibrations of different probes") // one study's, made alike
			}
			all = append(all, f.Values[i].Samples...)
		}
		v.Samples = all
		v.Median, v.Spread = validate.Summarize(all)
		out.Values = append(out.Values, v)
	}
	return &out
}
