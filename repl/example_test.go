package repl_test

import (
	"fmt"

	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// Remus on its own: two epochs, then a failover to the backup.
func ExampleNewRemus() {
	backup := repl.NewMemBackup(4096, 0)
	r := repl.NewRemus(scheme.Machine{PageSize: 4096}, backup)
	// A run of two accesses, numbered 1 and 2; the second covers pages 1 and 2.
	r.Access(scheme.Run{Recs: []traces.Record{
		{Addr: 0x1000, Size: 8, Kind: traces.Write},
		{Addr: 0x1ff8, Size: 16, Kind: traces.Write},
	}})
	r.Checkpoint(0)
	r.Access(scheme.Run{Recs: []traces.Record{{Addr: 0x5000, Size: 4, Kind: traces.Write}}, N: 2})
	r.Checkpoint(0)
	r.Crash()
	c := repl.RemusInfo().NewTally()
	r.Counters(c)
	fmt.Printf("traps %d, sent %d bytes (backup got %d in %d commits), staging peak %d, failover reads %d\n",
		c.Traps, c.BytesToBackup, backup.BytesReceived, backup.Commits, c.MemOverheadPeakBytes, c.RecoveryBytes)
	// Output: traps 3, sent 12288 bytes (backup got 12288 in 2 commits), staging peak 8192, failover reads 12288
}

// Both schemes through the driver, on the same trace, with verification.
func ExampleCachelineInfo() {
	recs := make([]traces.Record, 0, 4000)
	for i := range 4000 {
		recs = append(recs, traces.Record{Addr: uint64(i*40) % (16 << 12), Size: 8, Kind: traces.Kind(i % 2)})
	}
	for _, name := range []string{"remus", "cacheline"} {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Interval, cfg.FailAt, cfg.Verify = name, 1000, []int64{2500}, true
		res, err := sim.Run(cfg, func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil })
		if err != nil {
			fmt.Println(err)
			return
		}
		s := res.Stats
		fmt.Printf("%s: %d bytes to backup, %d logged, %d mismatches\n", name, s.BytesToBackup, s.BytesLogged, s.VerifyMismatches)
	}
	// Output:
	// remus: 176128 bytes to backup, 0 logged, 0 mismatches
	// cacheline: 128000 bytes to backup, 18000 logged, 0 mismatches
}
