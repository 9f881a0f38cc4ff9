package coherence

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/vmsim/vmsim/cache"
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

// multicoreRecords returns a synthetic multi-thread stream of n accesses by threads
// threads of one process, in bursts of about 64 accesses of one thread. Of each thread's
// accesses, 40% go to its stack (2 KiB, at random), 35% walk a private array of 64 KiB in
// 8-byte steps (a cold line every 8), 22% read a shared table of 16 KiB (at random), and
// 3% update one of 16 shared hot lines (a reduction's counters); a third of the private
// accesses write, the table is only read. They are 8 bytes; one in 32 starts 4 bytes before a line's end and so
// covers two lines.
func multicoreRecords(n, threads int) []record.Record {
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
		base := uint64(1<<30) + uint64(th)<<20 // the thread's own megabyte
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

// bareLoop is the baseline: the same walk over recs' lines, each looked up in a
// direct-mapped table. It returns a count, so that the loop is not optimized away.
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

// cpuTime returns the CPU time the process has used: on a machine shared with other
// work, accesses per CPU second are what the replay would do on a core of its own.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkMulticore(b *testing.B) {
	const n = 1 << 20
	g := cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64}
	for _, cores := range []int{4, 16} {
		b.Run(fmt.Sprintf("cores=%d", cores), func(b *testing.B) {
			recs := multicoreRecords(n, cores)
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
				misses += bareLoop(recs, m.LineShift(), table)
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
