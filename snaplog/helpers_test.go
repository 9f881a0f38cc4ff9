package snaplog_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/traces"
)

var opener = schemetest.Opener

// randomTrace makes n accesses over a few address spaces and a few dozen pages, with sizes
// that sometimes cross page boundaries, and I/O records (inputs and outputs of up to 300
// bytes on a few channels) after about one access in ioEvery (0: none).
func randomTrace(rng *rand.Rand, n, asids, pages, ioEvery int) []traces.Record {
	recs := make([]traces.Record, 0, n+n/max(ioEvery, 1))
	kinds := []traces.Kind{traces.Read, traces.Write, traces.Modify, traces.Fetch}
	for range n {
		size := uint32(1 + rng.IntN(16))
		if rng.IntN(20) == 0 {
			size = uint32(1 + rng.IntN(9000))
		}
		recs = append(recs, traces.Record{
			Addr: uint64(rng.IntN(pages))<<12 + uint64(rng.IntN(4096)),
			Size: size,
			ASID: traces.ASID(rng.IntN(asids)),
			Kind: kinds[rng.IntN(len(kinds))],
		})
		for ioEvery > 0 && rng.IntN(ioEvery) == 0 {
			k := []traces.Kind{traces.Input, traces.Input, traces.Output}[rng.IntN(3)]
			recs = append(recs, traces.Record{Kind: k, ASID: traces.ASID(rng.IntN(asids)), Addr: uint64(rng.IntN(4)), Size: uint32(rng.IntN(300))})
		}
	}
	return recs
}

// withInputs returns recs with an input record of a random size after about one access
// in every.
func withInputs(rng *rand.Rand, recs []traces.Record, every int) []traces.Record {
	out := make([]traces.Record, 0, len(recs)+len(recs)/every+1)
	for _, r := range recs {
		out = append(out, r)
		if rng.IntN(every) == 0 {
			out = append(out, traces.Record{Kind: traces.Input, ASID: r.ASID, Addr: uint64(rng.IntN(3)), Size: uint32(rng.IntN(4096))})
		}
	}
	return out
}

// gccHead returns the first n records of the real gcc trace kept beside the repository, or
// skips the test without it.
func gccHead(t testing.TB, n int) []traces.Record {
	path := filepath.Join("..", "..", "shared", "traces", "gcc.trace.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no real trace: %v", err)
	}
	return schemetest.TraceHead(t, path, n)
}

var (
	mustRun = schemetest.MustRun
	own     = schemetest.Own
)
