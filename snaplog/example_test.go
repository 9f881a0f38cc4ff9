package snaplog_test

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/snaplog"
	"github.com/vmsim/vmsim/traces"
)

// Two snapshots and a log of inputs: a rollback restores the page written since the
// snapshot and replays two accesses and the one input made among them.
func ExampleNew() {
	s, err := snaplog.New(scheme.Machine{PageSize: 4096}, snaplog.Settings{Header: snaplog.DefaultHeader}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Accesses 1 and 2, a run of two.
	s.Access(scheme.Run{Recs: []traces.Record{{Addr: 0x1000, Size: 8, Kind: traces.Write}, {Addr: 0x2000, Size: 8, Kind: traces.Write}}})
	s.Checkpoint(0)                                                // pages 1 and 2
	s.IO(traces.Record{Kind: traces.Input, Addr: 0, Size: 100}, 2) // after access 2: logged and shipped, 116 bytes
	// Accesses 3 and 4.
	s.Access(scheme.Run{Recs: []traces.Record{{Addr: 0x1000, Size: 8, Kind: traces.Read}, {Addr: 0x3000, Size: 8, Kind: traces.Write}}, N: 2})
	s.Rollback(0) // page 3 back from the backup; replay accesses 3 and 4 and the input
	c := snaplog.Info().NewTally()
	s.Counters(c)
	own := c.OwnValues()
	for i, d := range snaplog.Info().OwnDefs() {
		if own[i] != 0 {
			fmt.Printf("%s %d\n", d.Key, own[i])
		}
	}
	fmt.Println("bytes_to_backup", c.BytesToBackup, "recovery_bytes", c.RecoveryBytes)
	// Output:
	// snapshots 1
	// snapshot_bytes 8192
	// snapshot_peak_bytes 8192
	// log_entries 1
	// log_bytes 116
	// log_shipped_bytes 116
	// log_held_peak_bytes 116
	// recoveries 1
	// recovery_replay_accesses 2
	// replay_length_peak 2
	// recovery_log_entries 1
	// recovery_log_bytes 116
	// recovery_snapshot_bytes 4096
	// replay_window_peak 2
	// bytes_to_backup 8308 recovery_bytes 4212
}

// snaplog through the driver, on a trace with input records and a failure.
func ExampleInfo() {
	var recs []traces.Record
	for i := range 40 {
		recs = append(recs, traces.Record{Addr: uint64(i%4) << 12, Size: 8, Kind: traces.Write})
		if i%10 == 5 {
			recs = append(recs, traces.Record{Kind: traces.Input, Addr: 0, Size: 64})
		}
	}
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.FailAt, cfg.Verify = "snaplog", 16, []int64{25}, true
	res, err := sim.Run(cfg, func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range []string{"snapshot_bytes", "log_bytes", "recovery_replay_accesses", "recovery_log_entries"} {
		v, _ := res.Stats.Scheme.Get(k)
		fmt.Println(k, v)
	}
	fmt.Println("mismatches", res.Stats.VerifyMismatches)
	// Output:
	// snapshot_bytes 32768
	// log_bytes 320
	// recovery_replay_accesses 9
	// recovery_log_entries 1
	// mismatches 0
}
