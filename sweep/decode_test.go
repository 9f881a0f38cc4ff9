package sweep

import (
	"bytes"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// mixedPoints returns points of many kinds (the fast path and the slow one, failures and
// replays, opt's pre-pass, caches, TLBs, warm-up, verification) over the given traces.
func mixedPoints(t testing.TB, trs ...string) ([]Point, cost.Set) {
	t.Helper()
	var all []Point
	var costs cost.Set
	for _, base := range []map[string]any{
		{"scheme": "dualmap", "interval": 20000},
		{"scheme": "dualmap", "interval": 50000, "fail_at": []int64{30000, 700000}, "verify": true},
		{"scheme": "dualmap", "interval": 100000, "frames": 64, "replace": "opt"},
		{"scheme": "undo", "interval": 100000, "cache_size": 32768, "tlb_entries": 64, "warmup": 10000, "mtbf": 300000, "seed": 7},
	} {
		vary := map[string][]any{"initial": {"zero"}}
		if base["scheme"] == "undo" {
			vary = nil // undo models no paging: --initial is not a setting of it
		}
		s := &Spec{Traces: trs, Base: base, Vary: vary, Version: "test"}
		points, c, err := s.Points()
		if err != nil {
			t.Fatalf("%v: %v", base, err)
		}
		all, costs = append(all, points...), c
	}
	return all, costs
}

// runFiles runs points into a fresh CSV and JSONL and returns their bytes.
func runFiles(t testing.TB, points []Point, opt Options) (csvData, jsonData []byte) {
	t.Helper()
	dir := t.TempDir()
	c, err := OpenCSV(filepath.Join(dir, "r.csv"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJSONL(filepath.Join(dir, "r.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(points, opt, c, j); err != nil {
		t.Fatal(err)
	}
	c.Close()
	j.Close()
	a, _ := os.ReadFile(filepath.Join(dir, "r.csv"))
	b, _ := os.ReadFile(filepath.Join(dir, "r.jsonl"))
	return a, b
}

// TestDecodeOnceSameBytes runs the same points streaming every run's trace, decoding each
// trace once, and with a budget that fits one trace only: the files are the same bytes,
// and each trace that fits is decoded once.
func TestDecodeOnceSameBytes(t *testing.T) {
	dir := t.TempDir()
	// A trace file (a copy of a corpus trace), read through a trace cache too.
	es, _ := corpus.Manifest()
	var sortEntry corpus.Entry
	for _, e := range es {
		if e.Name == "sort" { // 1.6M records
			sortEntry = e
		}
	}
	b, err := corpus.Bytes(sortEntry)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sort.vmt")
	os.WriteFile(file, b, 0o644)
	points, costs := mixedPoints(t, "corpus:awk", file) // awk: 3.3M records
	var decodes []string
	testDecoded = func(k traceKey) { decodes = append(decodes, k.name) }
	defer func() { testDecoded = nil }()

	streamCSV, streamJSON := runFiles(t, points, Options{Jobs: 2, Costs: costs, Version: "test", DecodeMemory: -1})
	if len(decodes) != 0 {
		t.Errorf("decoded %v with no memory", decodes)
	}
	for _, c := range []struct {
		name    string
		opt     Options
		decodes []string
	}{
		{"all in memory", Options{Jobs: 2}, []string{"corpus:awk", file}},
		// awk's 3.3M records do not fit in 80 MiB; sort's do.
		{"one fits, trace cache", Options{Jobs: 2, DecodeMemory: 80 << 20, TraceCache: TraceCache(filepath.Join(dir, "cache"))}, []string{file}},
	} {
		t.Run(c.name, func(t *testing.T) {
			decodes = nil
			c.opt.Costs, c.opt.Version = costs, "test"
			gotCSV, gotJSON := runFiles(t, points, c.opt)
			if !bytes.Equal(gotCSV, streamCSV) || !bytes.Equal(gotJSON, streamJSON) {
				t.Error("results differ from streaming every run")
			}
			if fmt.Sprint(decodes) != fmt.Sprint(c.decodes) {
				t.Errorf("decoded %v, want %v", decodes, c.decodes)
			}
		})
	}
	// The cache holds the file under its hash.
	hash, _ := TraceHash(file)
	if _, err := os.Stat(filepath.Join(dir, "cache", hash, "sort.vmt")); err != nil {
		t.Errorf("trace cache: %v", err)
	}
}

// TestDecodeLenient: a lenient lackey trace with a malformed line is streamed (the
// driver counts skipped lines from the stream) and gives the same result either way.
func TestDecodeLenient(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, " S %x,8\n L %x,4\n", 0x10000+i*64, 0x20000+(i%97)*4096)
		if i == 1500 {
			b.WriteString("garbage line\n")
		}
	}
	file := filepath.Join(t.TempDir(), "l.lackey")
	os.WriteFile(file, []byte(b.String()), 0o644)
	s := &Spec{Traces: []string{file}, Base: map[string]any{"format": "lackey", "lenient": true, "interval": 1000}, Vary: map[string][]any{"scheme": {"dualmap", "shadow"}}}
	points, costs, err := s.Points()
	if err != nil {
		t.Fatal(err)
	}
	decoded := 0
	testDecoded = func(traceKey) { decoded++ }
	defer func() { testDecoded = nil }()
	streamCSV, _ := runFiles(t, points, Options{Costs: costs, DecodeMemory: -1})
	gotCSV, _ := runFiles(t, points, Options{Costs: costs})
	if !bytes.Equal(gotCSV, streamCSV) {
		t.Errorf("lenient results differ:\n%s\n%s", streamCSV, gotCSV)
	}
	if decoded != 0 {
		t.Errorf("a trace with skipped lines was decoded")
	}
	res, err := firstResult(points, costs)
	if err != nil || res.Stats.SkippedLines != 1 {
		t.Errorf("skipped lines %d, %v", res.Stats.SkippedLines, err)
	}
}

// firstResult runs the first point alone and returns its result.
func firstResult(points []Point, costs cost.Set) (*Result, error) {
	rs, err := Run(points[:1], Options{Costs: costs})
	if err != nil || len(rs) != 1 {
		return nil, fmt.Errorf("%d results: %w", len(rs), err)
	}
	return rs[0], nil
}

// BenchmarkSweepCorpus compares a sweep decoding each trace once with the same sweep
// streaming every run's trace from its file (the way before), and with its baseline: the
// sum of its runs' simulation times (every point and distinct baseline run alone, one
// after the other, on traces already in memory). cpu-ns/op is the process's CPU time.
func BenchmarkSweepCorpus(b *testing.B) { benchSweep(b, "corpus:sort", "corpus:awk") }

// BenchmarkSweepGCC is BenchmarkSweepCorpus on the shared gcc trace (text, gzipped:
// decoding it costs more than simulating it), when it is present.
func BenchmarkSweepGCC(b *testing.B) {
	if _, err := os.Stat(sharedGCC); err != nil {
		b.Skip("no shared gcc trace")
	}
	benchSweep(b, sharedGCC)
}

func benchSweep(b *testing.B, trs ...string) {
	s := &Spec{Traces: trs, Base: map[string]any{"scheme": "dualmap"},
		Vary: map[string][]any{"interval": {10000, 100000, 1000000}, "cow": {"copy", "remap"}}, Version: "bench"}
	points, costs, err := s.Points()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("simulation", func(b *testing.B) {
		defer reportCPU(b)()
		// Decoded outside the timer: only the simulations count.
		decoded := map[string]*traces.Decoded{}
		for _, p := range points {
			if decoded[p.Config.Trace] == nil {
				open, _ := Opener(p.Config.Trace, p.Config)
				r, _ := open()
				if decoded[p.Config.Trace], err = traces.Decode(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ResetTimer()
		for range b.N {
			seen := map[string]bool{}
			for _, p := range points {
				d := decoded[p.Config.Trace]
				open := func() (traces.Reader, error) { return d.Open(), nil }
				for _, c := range []sim.Config{p.Config, BaselineConfig(p.Config)} {
					if key := fmt.Sprintf("%+v", c); !seen[key] {
						seen[key] = true
						if _, err := sim.Run(c, open); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		}
	})
	for _, c := range []struct {
		name string
		mem  int64
	}{{"stream", -1}, {"decode-once", 0}} {
		for _, jobs := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/jobs=%d", c.name, jobs), func(b *testing.B) {
				defer reportCPU(b)()
				for range b.N {
					if _, err := Run(points, Options{Jobs: jobs, Costs: costs, DecodeMemory: c.mem}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// sharedGCC is a real trace, outside the repository; tests skip it when it is absent.
const sharedGCC = "../../shared/traces/gcc.trace.gz"

// reportCPU reports the process's CPU time (user and system) per op, less noisy than wall
// time on a shared machine; call the function it returns at the end of the benchmark.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}
