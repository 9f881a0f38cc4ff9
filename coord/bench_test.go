package coord

import (
	"fmt"
	"testing"
	"time"

	"github.com/vmsim/vmsim/internal/mtstream"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
)

// The coordinated replay's benchmark:
//
//	go test -run XXX -bench Coord ./coord/
//
// Each configuration replays a synthetic stream of 2^20 accesses  under a
// scheme, from a fresh machine, and reports its accesses per second and per second of the
// process's CPU time (which holds on a machine busy with other work); and it times, in
// the same process, a bare loop over the same records (each access's lines looked up in a
// direct-mapped table, with no emulation), in CPU time too, and reports the ratio.

// cpuTime is mtstream.CPUTime, failing b on an error.
func cpuTime(b *testing.B) time.Duration {
	t, err := mtstream.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func BenchmarkCoord(b *testing.B) {
	const n = 1 << 20
	for _, cores := range []int{4, 16} {
		recs := mtstream.Records(n, cores)
		for _, s := range Schemes {
			for _, mtbf := range []float64{0, 1_000_000} {
				b.Run(fmt.Sprintf("%s/cores=%d/mtbf=%v", s, cores, mtbf), func(b *testing.B) {
					cfg := Config{Scheme: s, Cores: cores, Cache: geom, Policy: schedule.RoundRobin, Quantum: 100_000,
						Interval: 100_000, MTBF: mtbf, FailCore: AnyCore, Seed: 1}
					if s == Rebound {
						cfg.Interval /= int64(cores) // each core about as often as under global
					}
					var st Stats
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuTime(b)
					for range b.N {
						var err error
						if st, err = Run(cfg, traces.NewSliceReader(recs), nil); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					rate := float64(n) * float64(b.N) / b.Elapsed().Seconds()
					cpuRate := float64(n) * float64(b.N) / (cpuTime(b) - cpu0).Seconds()
					table := make([]uint64, 1<<16)
					misses := 0
					cpu0 = cpuTime(b)
					for range b.N {
						misses += mtstream.BareLoop(recs, 6, table)
					}
					bare := float64(n) * float64(b.N) / (cpuTime(b) - cpu0).Seconds()
					if misses < 0 {
						b.Fatal(misses)
					}
					b.ReportMetric(rate/1e6, "Maccesses/s")
					b.ReportMetric(cpuRate/1e6, "Maccesses/cpu-s")
					b.ReportMetric(bare/cpuRate, "x-bare")
					b.ReportMetric(float64(st.CoresPerCheckpoint)/float64(max(1, st.Checkpoints)), "cores/ckpt")
					b.ReportMetric(float64(st.LostAccesses)/float64(n), "lost/access")
				})
			}
		}
	}
}
