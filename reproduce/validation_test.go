package reproduce

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmsim/vmsim/calibrate"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/validate"
	"github.com/vmsim/vmsim/vgrecord"
)

// TestModeledOverhead prices hand-built counters: the checkpoint terms count, paging
// (the baseline's first-touch faults and disk reads, which the scheme does not count)
// is left out on both sides, and remus's send costs nothing in the study's cost model.
func TestModeledOverhead(t *testing.T) {
	costs := valCosts{CopyBytesPerSec: 4096e9, TrapNs: 100}.costModel(1) // a page copy: 1 ns
	base := statsOf("Refs", 1000, "PageFaults", 10, "DiskReads", 10)
	tests := []struct {
		name string
		st   sim.Stats
		want float64
	}{
		{"nothing checkpointed", statsOf("Refs", 1000), 0},
		{"traps and copies", statsOf("Refs", 1000, "Traps", 5, "BytesCopied", 5*4096), (5*100 + 5) / 1000.0},
		{"remus's send is free", statsOf("Refs", 1000, "Traps", 5, "BytesCopied", 5*4096, "BytesToBackup", 5*4096), (5*100 + 5) / 1000.0},
		{"incremental's storage is a memory copy", statsOf("Refs", 1000, "Traps", 5, "BytesToStorage", 5*4096), (5*100 + 5) / 1000.0},
		{"the scheme's own paging left out", statsOf("Refs", 1000, "Traps", 1, "PageFaults", 3, "DiskReads", 3), 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := modeledOverhead(tt.st, base, costs); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("modeledOverhead = %v, want %v", got, tt.want)
			}
		})
	}
	if got := modeledOverhead(statsOf("Refs", 1), sim.Stats{}, costs); !math.IsNaN(got) {
		t.Errorf("overhead over an empty baseline = %v, want NaN", got)
	}
}

func TestMedianAbsRelErr(t *testing.T) {
	row := func(measured, modeled float64) valRow { return valRow{Measured: measured, Modeled: modeled} }
	all := func(valRow) bool { return true }
	tests := []struct {
		name  string
		rows  []valRow
		keep  func(valRow) bool
		wantN int
		want  float64
	}{
		{"none", nil, all, 0, math.NaN()},
		{"one exact", []valRow{row(0.5, 0.5)}, all, 1, 0},
		{"odd count", []valRow{row(1, 1.1), row(1, 0.5), row(2, 2.2)}, all, 3, 0.1},
		{"even count interpolates", []valRow{row(1, 1.1), row(1, 0.7)}, all, 2, 0.2},
		{"a zero measurement is no point", []valRow{row(0, 1), row(1, 1.2)}, all, 1, 0.2},
		{"filtered", []valRow{row(0.01, 1), row(1, 1.2)}, func(r valRow) bool { return r.Measured > errorFloor }, 1, 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := medianAbsRelErr(tt.rows, tt.keep)
			if got.N != tt.wantN || !(math.Abs(got.Median-tt.want) < 1e-12 || math.IsNaN(tt.want) && math.IsNaN(got.Median)) {
				t.Errorf("medianAbsRelErr = %+v, want %d points, %v", got, tt.wantN, tt.want)
			}
		})
	}
}

// fakeValidation is a study's state with made-up rows, for the output's tests.
func fakeValidation(dir string) *validation {
	rows := []valRow{
		{Program: "sort", Mechanism: validate.WP, Scheme: "remus", K: 2, Measured: 2.0, Spread: 0.1, Modeled: 1.8, Baseline: time.Second, Checkpoints: 100,
			NativeTraps: 1000, NativeBytes: 4e9},
		{Program: "sort", Mechanism: validate.WP, Scheme: "incremental", K: 2, Measured: 2.0, Spread: 0.1, Modeled: 1.0, Baseline: time.Second, Checkpoints: 100},
		{Program: "sort", Mechanism: validate.WP, Scheme: "remus", K: 200, Measured: 0.01, Spread: 0.02, Modeled: 0.002, Baseline: time.Second, Checkpoints: 1},
		{Program: "sort", Mechanism: validate.Full, Scheme: "shadow", K: 2, Measured: 4.0, Spread: 0.1, Modeled: 3.0, Baseline: time.Second, Checkpoints: 100,
			NativeBytes: 8e9},
		{Program: "sort", Mechanism: validate.Full, Scheme: "shadow", K: 200, Measured: -0.01, Spread: 0.05, Modeled: 0.03, Baseline: time.Second, Checkpoints: 1},
	}
	f := &calibrate.File{Format: calibrate.Format, Repeats: 1, Machine: calibrate.Machine{CPU: "a CPU", CPUs: 2},
		Values: []calibrate.Value{{Name: "page_copy_bytes_per_sec", Unit: "B/s", Median: 4e9, Samples: []float64{4e9}},
			{Name: "wp_trap_ns", Unit: "ns", Median: 5000, Samples: []float64{5000}}}}
	return &validation{opt: Options{Dir: dir, Command: "vmsim reproduce --study validation", Version: "test"},
		setup: valSetup{Programs: []valProgram{{Name: "sort", Args: []string{"4096"}, Ks: []int64{2, 200}}}, Repeats: 3},
		mechs: []validate.Mechanism{validate.WP, validate.Full}, rows: rows, valgrind: "valgrind-test",
		costs: valCosts{CopyBytesPerSec: 4e9, TrapNs: 5000, File: f, Source: "a test"}}
}

// TestValidationOutputs writes the outputs of made-up rows: the CSV's exact columns and
// values, the figure, and a README whose errors and verdicts are computed from the rows.
func TestValidationOutputs(t *testing.T) {
	dir := t.TempDir()
	v := fakeValidation(dir)
	if err := v.write(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "validation")
	b, err := os.ReadFile(filepath.Join(out, "validation.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "program,mechanism,scheme,interval,measured_overhead,measured_spread,modeled_overhead" {
		t.Errorf("columns %s", got)
	}
	if len(recs) != 1+len(v.rows) || strings.Join(recs[2], ",") != "sort,wp,incremental,2,2,0.1,1" {
		t.Errorf("rows %q", recs)
	}
	for _, name := range []string{"validation.svg", "validation.png", "validation.pdf", "calibration.json"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| wp | (all) | 2 | 30.0% | 3 | 50.0% |", // |1.8-2|/2 = 10%, |1-2|/2 = 50%, |0.002-0.01|/0.01 = 80%
		"| wp | remus | 1 | 10.0% | 2 | 45.0% |",
		"| full | shadow | 1 | 25.0% | 2 | 212.5% |",
		"for wp where the measured overhead is above 5.0%): **missed**, 30.0% over 2 points",
		"1 of 5 points have an overhead of 0 or less",
		"| sort | wp | incremental | 2 | 100 | 200.0% | 10.0% | 100.0% | -50.0% | 0 / 0 | 0.0 / 0.0 | 10000.0 µs |",
		"Machine: a CPU, 2 CPUs",
		"per trap: 1000.0 µs (spread 0.00, 1 points); calibrated `wp_trap_ns`: 5.0 µs.", // (2 s - 4 GB at 4 GB/s) / 1000
		"full: the bytes copied over the time the mechanism added: 2.00 GB/s",           // 8 GB in 4 s
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README lacks %q:\n%s", want, readme)
		}
	}
	v.rows[1].Modeled = 1.9 // now 10% and 5%
	var rb bytes.Buffer
	v.readme(&rb)
	if !strings.Contains(rb.String(), "**met**, 7.5% over 2 points") {
		t.Errorf("README after a better prediction:\n%s", rb.String())
	}
}

// TestValidationSkipped: without a C compiler the study is skipped with a message, and
// writes nothing.
func TestValidationSkipped(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Run(Options{Dir: dir, Study: "validation", Log: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "validation study skipped: no C compiler") {
		t.Errorf("log %q", log.String())
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("wrote %v", es)
	}
}

// TestValidationStudy runs the whole study at a tiny size: a small sort with two K, one
// round, the recordings under valgrind, and checks what it wrote.
func TestValidationStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("records under valgrind; skipped with -short")
	}
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	if _, err := validate.FindCompiler(); err != nil {
		t.Skip(err)
	}
	if _, err := vgrecord.BuildVMTrace(""); err != nil {
		t.Skipf("vmtrace cannot be built here: %v", err)
	}
	dir := t.TempDir()
	cal := filepath.Join(dir, "cal.json")
	f := fakeValidation(dir).costs.File
	var cb bytes.Buffer
	if err := f.Write(&cb); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cal, cb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := valSetup{Programs: []valProgram{{Name: "sort", Args: []string{"8192"}, Ks: []int64{1, 10}}}, Repeats: 1}
	var log bytes.Buffer
	err := runValidationWith(context.Background(), Options{Dir: dir, Calibration: cal, Log: &log, Command: "vmsim reproduce", Version: "test"}, setup)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "validation", "validation.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// wp → remus, incremental; full → shadow; softdirty → remus, incremental where the
	// kernel has it: 3 or 5 rows a K.
	if n := len(recs) - 1; n != 2*3 && n != 2*5 {
		t.Fatalf("%d rows, want 6 or 10:\n%s", n, b)
	}
	for _, r := range recs[1:] {
		modeled, err := strconv.ParseFloat(r[6], 64)
		if err != nil || !(modeled > 0) {
			t.Errorf("row %q: modeled overhead %q, want above 0 (every K checkpoints)", r, r[6])
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, "validation", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "`sort 8192`: K = 1, 10") || !strings.Contains(string(readme), "cal.json") {
		t.Errorf("README:\n%s", readme)
	}
	// On the library's region, the schemes count what the library did: wp's traps and
	// pages, one trap per page per interval written, as remus and incremental count them.
	rows := 0
	for _, line := range strings.Split(string(readme), "\n") {
		f := strings.Split(line, " | ")
		if len(f) != 12 || !strings.HasPrefix(line, "| sort | wp |") {
			continue
		}
		rows++
		traps := strings.Split(f[9], " / ")
		if len(traps) != 2 || traps[0] != traps[1] || traps[0] == "0" {
			t.Errorf("traps native / modeled %q, want equal (and some): %s", f[9], line)
		}
	}
	if rows != 4 {
		t.Errorf("%d rows of wp in the README, want 4:\n%s", rows, readme)
	}
}

func TestParseRunOutput(t *testing.T) {
	tests := []struct {
		name, out string
		want      runOutput
		wantErr   bool
	}{
		{"result line", "program=sort checksum=0123456789abcdef elapsed_ns=5 region_pages=3 region=0x4000 valgrind=1\n",
			runOutput{checksum: "0123456789abcdef", lo: 0x4000, hi: 0x4000 + 3*PageSize}, false},
		{"no region", "program=sort checksum=0123456789abcdef region_pages=3 valgrind=1\n", runOutput{}, true},
		{"no checksum", "program=sort region_pages=3 region=0x4000\n", runOutput{}, true},
		{"region wraps", "checksum=00 region_pages=3 region=0xfffffffffffff000\n", runOutput{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRunOutput(tt.out)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseRunOutput = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// sliceReader reads recs n at a time.
type sliceReader struct {
	recs []traces.Record
	n    int
}

func (s *sliceReader) Read(out []traces.Record) (int, error) {
	if len(s.recs) == 0 {
		return 0, io.EOF
	}
	k := copy(out[:min(len(out), s.n)], s.recs)
	s.recs = s.recs[k:]
	return k, nil
}

// TestRegionReader keeps the accesses to the region and the checkpoint records, in order,
// whatever the batches, and reads past batches that keep nothing.
func TestRegionReader(t *testing.T) {
	w := func(a uint64) traces.Record { return traces.Record{Addr: a, Size: 8, Kind: traces.Write} }
	ckpt := traces.Record{Kind: traces.Checkpoint}
	in := []traces.Record{w(0x1000), w(0x2000), ckpt, w(0x2ff8), w(0x3000), w(0x10), w(0x20), w(0x30), ckpt, w(0x2008)}
	want := []traces.Record{w(0x2000), ckpt, w(0x2ff8), ckpt, w(0x2008)}
	for _, batch := range []int{1, 2, 3, 100} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			r := &regionReader{r: &sliceReader{recs: in, n: batch}, lo: 0x2000, hi: 0x3000}
			var got []traces.Record
			buf := make([]traces.Record, 4)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestMergeCalibrations joins calibrations made before each program: every sample, their
// median, every load average.
func TestMergeCalibrations(t *testing.T) {
	cal := func(load string, copies, traps []float64) *calibrate.File {
		return &calibrate.File{Format: calibrate.Format, Repeats: len(traps), Machine: calibrate.Machine{CPU: "c", LoadAvg: load},
			Values: []calibrate.Value{{Name: "page_copy_bytes_per_sec", Unit: "B/s", Samples: copies}, {Name: "wp_trap_ns", Unit: "ns", Samples: traps}},
			Notes:  []string{"a note"}}
	}
	got := mergeCalibrations([]*calibrate.File{cal("1 1 1", []float64{1e9, 3e9}, []float64{100, 300}), cal("9 9 9", []float64{2e9, 4e9}, []float64{200, 900})})
	if got.Repeats != 4 || got.Machine.LoadAvg != "1 1 1; 9 9 9" || len(got.Notes) != 1 {
		t.Errorf("merged %+v", got)
	}
	c, err := costsOf(got, "test")
	if err != nil {
		t.Fatal(err)
	}
	if c.CopyBytesPerSec != 2.5e9 || c.TrapNs != 250 || len(got.Values[1].Samples) != 4 {
		t.Errorf("costs %+v from %+v", c, got.Values)
	}
	if _, err := costsOf(&calibrate.File{}, "empty"); err == nil {
		t.Error("costs of a calibration without the values: no error")
	}
}

// statsOf returns the Stats with the named counters (fields of Stats or of the structs it
// embeds) set: name, value, name, value, ...
func statsOf(kv ...any) sim.Stats {
	var s sim.Stats
	v := reflect.ValueOf(&s).Elem()
	for i := 0; i < len(kv); i += 2 {
		f := v.FieldByName(kv[i].(string))
		if !f.IsValid() {
			panic("no counter " + kv[i].(string))
		}
		f.SetInt(int64(kv[i+1].(int)))
	}
	return s
}

// TestCoincidingPoints: the README names the points one series hides under another's.
func TestCoincidingPoints(t *testing.T) {
	row := func(scheme string, k int64, measured, modeled float64) valRow {
		return valRow{Program: "sort", Mechanism: validate.WP, Scheme: scheme, K: k, Measured: measured, Modeled: modeled}
	}
	tests := []struct {
		name string
		rows []valRow
		want []coincidence
	}{
		{"none", []valRow{row("remus", 2, 2, 1.8), row("incremental", 2, 2, 1.0)}, nil},
		{"all", []valRow{row("remus", 2, 2, 1.8), row("incremental", 2, 2, 1.8), row("remus", 20, 1, 1), row("incremental", 20, 1, 1)},
			[]coincidence{{earlier: "wp → remus", later: "wp → incremental", n: 2, of: 2}}},
		{"some, and an undrawn one left out", []valRow{row("remus", 2, 2, 1.8), row("incremental", 2, 2, 1.8), row("remus", 20, 1, 1), row("incremental", 20, 1, 0.5),
			row("remus", 200, -0.1, 0), row("incremental", 200, -0.1, 0)},
			[]coincidence{{earlier: "wp → remus", later: "wp → incremental", n: 1, of: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coincidingPoints(tt.rows); !slices.Equal(got, tt.want) {
				t.Errorf("coincidingPoints = %+v, want %+v", got, tt.want)
			}
		})
	}
}
