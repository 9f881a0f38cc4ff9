package coherence

import (
	"fmt"
	"testing"
	"time"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/internal/mtstream"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
)

// The multi-core replay's benchmark:
//
//	go test -run XXX -bench Multicore ./coherence/
//
// Each configuration reports its accesses per second, and per second of CPU time the
// process used, which hold on a machine busy with other work; and it times, in the same
// process, a bare loop over the same records (each access's lines looked up in a
// direct-mapped table, with no emulation), in CPU time too, and reports the ratio, which
// holds on any machine.

// replay runs recs through the scheduler and the machine, line by line.
func replay(b *testing.B, s *schedule.Scheduler, m *Machine, recs []record.Record) {
	shift := m.LineShift()
	for _, r := range recs {
		core, err := s.Core(schedule.Thread{ASID: r.ASID, TID: r.Thread}, schedule.NoCPU)
		if err != nil {
			b.Fatal(err)
		}
		write := r.Kind.Writes()
		last := (r.Addr + uint64(r.Size) - 1) >> shift
		for n := r.Addr >> shift; ; n++ {
			m.Access(core, cache.Line{ASID: r.ASID, N: n}, write)
			if n == last {
				break
			}
		}
	}
}

// cpuTime is mtstream.CPUTime, failing b on an error.
func cpuTime(b *testing.B) time.Duration {
	t, err := mtstream.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func BenchmarkMulticore(b *testing.B) {
	const n = 1 << 20
	g := cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64}
	for _, cores := range []int{4, 16} {
		b.Run(fmt.Sprintf("cores=%d", cores), func(b *testing.B) {
			recs := mtstream.Records(n, cores)
			m := newMachine(b, cores, g, 0, nil)
			s, err := schedule.New(schedule.Options{Policy: schedule.RoundRobin, Cores: cores, Quantum: 100000})
			if err != nil {
				b.Fatal(err)
			}
			replay(b, s, m, recs) // warm: the caches, the directory and the scheduler at their size
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for range b.N {
				replay(b, s, m, recs)
			}
			b.StopTimer()
			rate := float64(n) * float64(b.N) / b.Elapsed().Seconds()
			cpuRate := float64(n) * float64(b.N) / (cpuTime(b) - cpu0).Seconds()

			table := make([]uint64, 1<<16)
			misses := 0
			cpu0 = cpuTime(b)
			for range b.N {
				misses += mtstream.BareLoop(recs, m.LineShift(), table)
			}
			bare := float64(n) * float64(b.N) / (cpuTime(b) - cpu0).Seconds()
			if misses < 0 {
				b.Fatal(misses)
			}
			if err := m.Check(); err != nil {
				b.Fatal(err)
			}
			var refs, miss int64
			for c := range cores {
				refs += m.CacheCounters(c).Refs
				miss += m.CacheCounters(c).Misses
			}
			b.ReportMetric(rate/1e6, "Maccesses/s")
			b.ReportMetric(cpuRate/1e6, "Maccesses/cpu-s")
			b.ReportMetric(bare/1e6, "bare-Maccesses/cpu-s")
			b.ReportMetric(bare/cpuRate, "x-bare")
			b.ReportMetric(float64(miss)/float64(refs), "miss-ratio")
			b.ReportMetric(float64(m.C.Transfers)/float64(refs), "transfers/ref")
		})
	}
}
