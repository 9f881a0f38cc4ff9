package sim

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// benchRecords returns the records the replay benchmarks run on, decoded: SPEC gcc's
// trace (1 M accesses) when the shared traces are present, else the corpus's gzip trace
// (1.9 M accesses, embedded in the binary), so that the benchmarks run from a clone. It
// logs which (a benchmark's log is printed with its result), and the README's tables
// say which trace each figure is from.
func benchRecords(b *testing.B) []traces.Record {
	b.Helper()
	name, open := benchTrace(sharedTracePath("gcc.trace.gz"))
	f, err := open()
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	recs, err := traces.ReadAll(f)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("trace: %s, %d records", name, len(recs))
	return recs
}

// benchTrace names the replay benchmarks' trace, the gcc trace at path or else the
// corpus's gzip, and opens it (benchRecords).
func benchTrace(path string) (string, func() (*traces.File, error)) {
	if _, err := os.Stat(path); err == nil {
		return "SPEC gcc (shared traces)", func() (*traces.File, error) { return traces.Open(path, traces.Options{}) }
	}
	es, err := corpus.Manifest()
	if err != nil {
		panic(err)
	}
	for _, e := range es {
		if e.Name == "gzip" {
			return "corpus gzip (SPEC gcc absent)", func() (*traces.File, error) { return corpus.Open(e) }
		}
	}
	panic("sim benchmarks: the corpus has no gzip trace")
}

// benchRun replays decoded records: the trace is in memory (traces.Decoded), so the
// figure is the simulation's alone, comparable with BenchmarkBareLoop over the same records.
func benchRun(b *testing.B, recs []traces.Record, cfg Config) {
	d := traces.NewDecoded(recs)
	open := func() (traces.Reader, error) { return d.Open(), nil }
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Run(cfg, open); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Maccesses/s")
}

// The replay hot path on decoded records: dualmap, unlimited frames.
func BenchmarkDualMapUnlimited(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Interval = 10000
	benchRun(b, benchRecords(b), cfg)
}

// dualmap with 64 frames under CLOCK.
func BenchmarkDualMapClock64(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Interval, cfg.Frames = 10000, 64
	benchRun(b, benchRecords(b), cfg)
}

// The baseline with 64 frames under LRU.
func BenchmarkNoneLRU64(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Frames, cfg.Replace = "none", 64, "lru"
	benchRun(b, benchRecords(b), cfg)
}

// dualmap with --verify and failures: the golden model's cost.
func BenchmarkDualMapVerify(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Interval, cfg.Frames, cfg.Verify, cfg.MTBF, cfg.Seed = 10000, 64, true, 50000, 1
	benchRun(b, benchRecords(b), cfg)
}

// The same run as BenchmarkDualMapVerify without --verify: the verifier's cost is the
// ratio of the two.
func BenchmarkDualMapFailures(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Interval, cfg.Frames, cfg.MTBF, cfg.Seed = 10000, 64, 50000, 1
	benchRun(b, benchRecords(b), cfg)
}

// A synthetic trace that needs no shared files: 1M accesses over 4096 pages.
func BenchmarkDualMapSynthetic(b *testing.B) {
	recs := randomTrace(rand.New(rand.NewPCG(1, 1)), 1<<20, 1)
	cfg := DefaultConfig()
	cfg.Interval = 10000
	benchRun(b, recs, cfg)
}

// The baseline for the replay benchmarks: a bare loop over the same records that looks
// each access's page up in a direct-mapped table, with no emulation. The README quotes
// the other benchmarks as ratios to this one, which hold on any machine.
func BenchmarkBareLoop(b *testing.B) {
	recs := benchRecords(b)
	const slots = 1 << 16
	type entry struct {
		vpn  uint64
		hits uint32
	}
	table := make([]entry, slots)
	b.ReportAllocs()
	b.ResetTimer()
	var misses int
	for range b.N {
		for _, r := range recs {
			vpn := r.Addr >> 12
			e := &table[vpn&(slots-1)]
			if e.vpn != vpn {
				e.vpn, e.hits = vpn, 0
				misses++
			}
			if r.Kind.Writes() {
				e.hits++
			}
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Maccesses/s")
	if misses < 0 {
		b.Fatal(misses)
	}
}

// BenchmarkDualMapFailures on the general loop (one access at a time through the Scheme
// interface), the loop of runs the fast path cannot take (a cache or TLB model, opt): its gain.
func BenchmarkDualMapFailuresGeneral(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Interval, cfg.Frames, cfg.MTBF, cfg.Seed = 10000, 64, 50000, 1
	recs := benchRecords(b)
	d := traces.NewDecoded(recs)
	open := func() (traces.Reader, error) { return d.Open(), nil }
	b.ResetTimer()
	for range b.N {
		if _, err := RunWith(cfg, open, Options{slow: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Maccesses/s")
}

// BenchmarkSchemeVerify runs every registered scheme that recovers, with failures, with
// and without --verify (decoded gcc, unlimited frames, interval 10k, MTBF 50k): the
// verifier's cost per scheme is the ratio of each pair.
func BenchmarkSchemeVerify(b *testing.B) {
	recs := benchRecords(b)
	for _, name := range scheme.Names() {
		for _, verify := range []bool{false, true} {
			cfg := DefaultConfig()
			cfg.Scheme, cfg.Interval, cfg.MTBF, cfg.Seed, cfg.Verify = name, 10000, 50000, 1, verify
			if err := cfg.Validate(); err != nil {
				continue // none: no recovery
			}
			b.Run(fmt.Sprintf("scheme=%s/verify=%t", name, verify), func(b *testing.B) { benchRun(b, recs, cfg) })
		}
	}
}

// BenchmarkSchemeCached runs every registered scheme behind a 32 KiB, 8-way cache of
// 64-byte lines with a checkpoint every 10,000 accesses (decoded gcc, unlimited frames):
// the configuration of the comparative study, where the cache model keeps every scheme
// on the general loop.
func BenchmarkSchemeCached(b *testing.B) {
	recs := benchRecords(b)
	for _, name := range scheme.Names() {
		cfg := DefaultConfig()
		cfg.Scheme, cfg.Interval = name, 10000
		cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = 32<<10, 8, 64
		b.Run("scheme="+name, func(b *testing.B) { benchRun(b, recs, cfg) })
	}
}

// TestBenchTraceFallback: without the shared traces the replay benchmarks run on the
// corpus's gzip trace, and say so.
func TestBenchTraceFallback(t *testing.T) {
	name, open := benchTrace(filepath.Join(t.TempDir(), "absent.trace.gz"))
	f, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := traces.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if name != "corpus gzip (SPEC gcc absent)" || len(recs) < 1_000_000 {
		t.Errorf("%q, %d records", name, len(recs))
	}
}
