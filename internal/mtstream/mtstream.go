// Package mtstream is the synthetic multi-thread access stream of the multi-core
// benchmarks (coherence's BenchmarkMulticore, coord's BenchmarkCoord), their bare-loop
// baseline over it, and the process's CPU time they report rates per.
package mtstream

import (
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/vmsim/vmsim/record"
)

// Records returns a synthetic multi-thread stream of n accesses by threads
// threads of one process, in bursts of about 64 accesses of one thread. Of each thread's
// accesses, 40% go to its stack (2 KiB, at random), 35% walk a private array of 64 KiB in
// 8-byte steps (a cold line every 8), 22% read a shared table of 16 KiB (at random), and
// 3% update one of 16 shared hot lines (a reduction's counters); a third of the private
// accesses write, the table is only read. They are 8 bytes; one in 32 starts 4 bytes before a line's end and so
// covers two lines.
func Records(n, threads int) []record.Record {
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

// BareLoop is the benchmarks' baseline: the same walk over recs' lines, each looked up in a
// direct-mapped table. It returns a count, so that the loop is not optimized away.
func BareLoop(recs []record.Record, shift uint, table []uint64) (misses int) {
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

// CPUTime returns the CPU time the process has used: on a machine shared with other
// work, accesses per CPU second are what a replay would do on a core of its own.
func CPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
