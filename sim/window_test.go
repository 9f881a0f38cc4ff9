package sim

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// windowOf returns the records of recs a run with --skip skip and --max-refs max sees,
// written out here without the driver's code: those after the skip-th access (the control
// records following it included), up to and including the max-th access after it.
func windowOf(recs []traces.Record, skip, max int64) []traces.Record {
	var out []traces.Record
	var seen, kept int64
	for _, rec := range recs {
		if seen < skip {
			if rec.Kind.IsAccess() {
				seen++
			}
			continue
		}
		if max > 0 && kept == max {
			break
		}
		out = append(out, rec)
		if rec.Kind.IsAccess() {
			kept++
		}
	}
	return out
}

// writeVMT writes recs to a vmt file of small blocks (so that a skip jumps) in dir.
func writeVMT(t *testing.T, dir, name string, recs []traces.Record) string {
	t.Helper()
	path := filepath.Join(dir, name)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewWriter(out, traces.FormatVMT, traces.WriterOptions{VMT: traces.VMTOptions{BlockRecords: 256}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSkipAndMaxRefsEqualTruncatedTrace checks that a run with --skip and --max-refs
// counts exactly what a run on the trace cut to that window counts, the cut trace written
// to a file: read past (a plain reader) and jumped past (a vmt file with its index), with
// checkpoints, failures and replays that re-read the trace, a cache and opt's pre-pass.
func TestSkipAndMaxRefsEqualTruncatedTrace(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	recs := randomTrace(rng, 6000, 1)
	// Checkpoint records among the accesses, two of them right after accesses the windows
	// below start or end at.
	var withCtl []traces.Record
	for i, rec := range recs {
		withCtl = append(withCtl, rec)
		if i == 999 || i == 2999 || rng.IntN(500) == 0 {
			withCtl = append(withCtl, traces.Record{Kind: traces.Checkpoint})
		}
	}
	dir := t.TempDir()
	full := writeVMT(t, dir, "full.vmt", withCtl)
	// The same compressed whole: a traces.File that cannot jump (traces.ErrNotSeekable).
	fullGz := full + ".gz"
	raw, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	var gzb bytes.Buffer
	zw := gzip.NewWriter(&gzb)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(fullGz, gzb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	configs := []struct {
		name string
		set  func(c *Config)
	}{
		{"dualmap", func(c *Config) {}},
		{"interval and failures", func(c *Config) { c.Interval, c.FailAt, c.Verify = 300, []int64{450, 1700}, true }},
		{"mtbf crash", func(c *Config) {
			c.Scheme, c.Interval, c.MTBF, c.Seed, c.Failure = "undo", 250, 400, seed, FailureCrash
		}},
		{"cache and warmup", func(c *Config) { c.Interval, c.CacheSize, c.Warmup = 500, 4096, 100 }},
		{"opt", func(c *Config) { c.Scheme, c.Frames, c.Replace = "none", 6, "opt" }},
	}
	windows := []struct {
		name      string
		skip, max int64
	}{
		{"skip", 1000, 0},
		{"max", 0, 3000},
		{"both", 1000, 2000},
		{"max beyond the end", 10, 100000},
	}
	for _, w := range windows {
		cut := writeVMT(t, dir, w.name+".vmt", windowOf(withCtl, w.skip, w.max))
		for _, c := range configs {
			t.Run(w.name+"/"+c.name, func(t *testing.T) {
				cfg := DefaultConfig()
				c.set(&cfg)
				want, err := RunWith(cfg, fileOpener(cut), Options{ReplayBuffer: 100})
				if err != nil {
					t.Fatal(err)
				}
				cfg.Skip, cfg.MaxRefs = w.skip, w.max
				seeks := 0
				jumping := func() (traces.Reader, error) {
					f, err := traces.Open(full, traces.Options{})
					return &countSeeks{f, &seeks}, err
				}
				reading := sliceOpener(withCtl)
				gzipped := fileOpener(fullGz)
				for name, open := range map[string]Opener{"jumped": jumping, "read past": reading, "read past, not seekable": gzipped} {
					// Checked after every event: the rooms agree on the window's numbering.
					got, err := RunWith(cfg, open, Options{ReplayBuffer: 100, CheckEvery: name == "read past"})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if got.Stats != want.Stats {
						t.Errorf("%s (seed %d):\n got %+v\nwant %+v", name, seed, got.Stats, want.Stats)
					}
				}
				if w.skip > 0 && seeks == 0 {
					t.Error("the vmt file was read past, not jumped past")
				}
			})
		}
	}
}

// TestSkipErrors checks --skip and --max-refs' usage errors.
func TestSkipErrors(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(1, 2)), 100, 1)
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		want string
	}{
		{"skip beyond the end", func(c *Config) { c.Skip = 101 }, "--skip 101 is beyond the end of the trace (100 accesses)"},
		{"negative skip", func(c *Config) { c.Skip = -1 }, "--skip -1: want 0"},
		{"negative max", func(c *Config) { c.MaxRefs = -1 }, "--max-refs -1: want 0"},
		{"fail-at beyond the window", func(c *Config) { c.MaxRefs, c.Interval, c.FailAt = 50, 10, []int64{60} }, "--fail-at 60 is beyond the end of the trace (50 accesses)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.set(&cfg)
			_, err := Run(cfg, sliceOpener(recs))
			if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a usage error with %q", err, tc.want)
			}
		})
	}
}
