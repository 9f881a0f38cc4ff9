package incremental_test

import (
	"fmt"

	"github.com/vmsim/vmsim/incremental"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// Three incremental checkpoints, merged every two, through a mirror of two pages.
func ExampleNew() {
	store := incremental.NewStore(4096, 0, 2, 0)
	s, err := incremental.New(scheme.Machine{PageSize: 4096}, incremental.Settings{MergeEvery: 2}, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	n := int64(0)
	write := func(addr uint64) {
		n++
		s.Access(scheme.Run{Recs: []traces.Record{{Addr: addr, Size: 8, Kind: traces.Write}}, N: n - 1}) // access n
	}
	write(0x1000)
	write(0x2000)
	s.Checkpoint(0) // pages 1, 2
	write(0x1000)
	s.Checkpoint(0) // page 1 (absorbed by the mirror); merge: reads 3 page copies, writes 2
	write(0x3000)
	s.Checkpoint(0) // page 3: the mirror is full and flushes
	c := incremental.Info().NewTally()
	s.Counters(c)
	own := c.OwnValues()
	for i, d := range incremental.Info().OwnDefs() {
		if own[i] != 0 {
			fmt.Printf("%s %d\n", d.Key, own[i])
		}
	}
	fmt.Println("bytes_to_storage", c.BytesToStorage, "traps", c.Traps)
	// Output:
	// incrementals 3
	// merges 1
	// merge_read_bytes 12288
	// merge_write_bytes 8192
	// chain_peak_bytes 12288
	// storage_peak_bytes 20480
	// restore_read_bytes 12288
	// restore_read_peak_bytes 12288
	// mirror_flushes 1
	// mirror_absorbed_bytes 4096
	// mirror_disk_bytes 8192
	// mirror_peak_bytes 8192
	// bytes_to_storage 16384 traps 4
}
