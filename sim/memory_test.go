package sim

import (
	"io"
	"runtime"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// genReader yields n accesses over a fixed set of 2048 pages without holding them.
type genReader struct {
	n, i int
	x    uint64
}

func (g *genReader) Read(out []traces.Record) (int, error) {
	k := 0
	for k < len(out) && g.i < g.n {
		g.x ^= g.x << 13
		g.x ^= g.x >> 7
		g.x ^= g.x << 17
		out[k] = traces.Record{Addr: g.x % (2048 << 12), Size: 8, Kind: traces.Kind(g.x >> 62)}
		k++
		g.i++
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// allocated returns the bytes allocated by a run over n accesses.
func allocated(t *testing.T, n int, cfg Config) uint64 {
	t.Helper()
	open := func() (traces.Reader, error) { return &genReader{n: n, x: 88172645463325252}, nil }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := Run(cfg, open); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestMemoryDoesNotGrowWithTraceLength(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	for _, tt := range []struct {
		name string
		mod  func(*Config)
	}{
		{"dualmap unlimited", func(c *Config) { c.Interval = 1000 }},
		{"dualmap clock, failures", func(c *Config) { c.Interval, c.Frames, c.MTBF = 5000, 64, 100000 }},
		{"none opt", func(c *Config) { c.Scheme, c.Frames, c.Replace = "none", 64, "opt" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			small, large := allocated(t, 1<<20, cfg), allocated(t, 4<<20, cfg)
			// The replay buffer (up to 1M records) may fill further in the longer run; nothing
			// else may grow.
			if large > small+40<<20 || large > 2*small+(4<<20) {
				t.Errorf("allocated %d bytes for 1M accesses, %d for 4M", small, large)
			}
		})
	}
}
