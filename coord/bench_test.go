package coord

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
)

// The coordinated replay's benchmark:
//
//	go test -run XXX -bench Coord ./coord/
//
// Each configuration replays a synthetic stream of 2^20 accesses (benchRecords) under a
// scheme, from a fresh machine, and reports its accesses per second and per second of the
// process's CPU time (which holds on a machine busy with other work); and it times, in
// the same process, a bare loop over the same records (each access's lines looked up in a
// direct-mapped table, with no emulation), in CPU time too, and reports the ratio.

// benchRecords is the stream of coherence's benchmark: threads threads of one process in
// bursts of about 64 accesses; 40% of a thread's accesses go to its 2 KiB stack, 35% walk
// its 64 KiB array, 22% read a shared 16 KiB table, 3% update one of 16 shared hot lines;
// a third of the private accesses write; 8 bytes, one in 32 crossing two lines.
func benchRecords(n, threads int) []record.Record {
	rng := rand.New(rand.NewPCG(1, uint64(threads)))
	const stack, array, table = 2 << 10, 64 << 10, 16 << 10
	pos := make([]uint64, threads)
	recs := make([]record.Record, 0, n)
	th := 0
	for len(recs) < n {
		if rng.IntN(64) == 0 {
			th = rng.IntN(threads)
		}
		r := record.Record{Size: 8, ASID: 1, Thread: record.TID(100 + th), Kind: record.Read}
		base := uint64(1<<30) + uint64(th)<<20
		x := rng.IntN(100)
		switch {
		case x < 40:
			r.Addr = base + rng.Uint64N(stack/8)*8
		case x < 75:
			pos[th] = (pos[th] + 8) % array
			r.Addr = base + stack + pos[th]
		case x < 97:
			r.Addr = 1<<29 + rng.Uint64N(table/8)*8
		default:
			r.Addr = 1<<28 + rng.Uint64N(16)*64
			r.Kind = record.Modify
		}
		if x < 75 && rng.IntN(3) == 0 {
			r.Kind = record.Write
		}
		if rng.IntN(32) == 0 {
			r.Addr |= 60
		}
		recs = append(recs, r)
	}
	return recs
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareLoop is the baseline: the walk over recs' lines, each looked up in a direct-mapped
// table.
func bareLoop(recs []record.Record, shift uint, table []uint64) (misses int) {
	mask := uint64(len(table) - 1)
	for _, r := range recs {
		last := (r.Addr + uint64(r.Size) - 1) >> shift
		for n := r.Addr >> shift; ; n++ {
			if e := &table[n&mask]; *e != n {
				*e = n
				misses++
			}
			if n == last {
				break
			}
		}
	}
	return misses
}

func BenchmarkCoord(b *testing.B) {
	const n = 1 << 20
	for _, cores := range []int{4, 16} {
		recs := benchRecords(n, cores)
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
						misses += bareLoop(recs, 6, table)
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
