package schemetest

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// Opener opens recs from the start, in memory.
func Opener(recs []traces.Record) sim.Opener {
	return func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil }
}

// RandomTrace makes n accesses over a few address spaces and a few dozen pages, with sizes
// that sometimes cross line and page boundaries.
func RandomTrace(rng *rand.Rand, n, asids, pages int) []traces.Record {
	recs := make([]traces.Record, n)
	kinds := []traces.Kind{traces.Read, traces.Write, traces.Modify, traces.Fetch}
	for i := range recs {
		size := uint32(1 + rng.IntN(16))
		if rng.IntN(20) == 0 {
			size = uint32(1 + rng.IntN(9000))
		}
		recs[i] = traces.Record{
			Addr: uint64(rng.IntN(pages))<<12 + uint64(rng.IntN(4096)),
			Size: size,
			ASID: traces.ASID(rng.IntN(asids)),
			Kind: kinds[rng.IntN(len(kinds))],
		}
	}
	return recs
}

// TraceHead returns the first n records of the trace at path, or skips the test when the
// file is absent (the developers' real traces are not in the repository).
func TraceHead(t testing.TB, path string, n int) []traces.Record {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no real trace: %v", err)
	}
	f, err := traces.Open(path, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make([]traces.Record, 0, n)
	buf := make([]traces.Record, 4096)
	for len(out) < n {
		k, err := f.Read(buf)
		out = append(out, buf[:min(k, n-len(out))]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// MustRun runs cfg on recs and fails the test on an error.
func MustRun(t testing.TB, cfg sim.Config, recs []traces.Record, opt sim.Options) sim.Stats {
	t.Helper()
	res, err := sim.RunWith(cfg, Opener(recs), opt)
	if err != nil {
		t.Fatalf("%+v: %v", cfg, err)
	}
	if res.Stats.VerifyMismatches != 0 {
		t.Fatalf("%+v: %d mismatches; first: %s", cfg, res.Stats.VerifyMismatches, res.FirstMismatch)
	}
	return res.Stats
}

// Own returns the scheme's own counter key, failing the test if it has none.
func Own(t testing.TB, s sim.Stats, key string) int64 {
	t.Helper()
	v, ok := s.Scheme.Get(key)
	if !ok {
		t.Fatalf("no counter %q", key)
	}
	return v
}

// Perform hands scheme s the accesses recs in one run, recs[0] numbered n and the others
// on from it, as the driver does without --verify, and returns how many s performed: for
// tests that drive a scheme by hand (see scheme.Run).
func Perform(s scheme.Scheme, n int64, recs ...traces.Record) int {
	return s.Access(scheme.Run{Recs: recs, N: n - 1})
}
