package memctl_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/memctl"
	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// TestBitmap2CreditNotBanked runs the tiny traces of testdata/b2-*.rw, each built so that
// bitmap2's waiting list empties while the copier holds credit short of a granule: the
// credit must drop to zero whatever emptied the list (docs/memctl.md: credit is not banked
// while nothing waits). Every figure is worked out by hand from the definition (granule
// 64, no cache; a checkpoint after every interval-th access).
func TestBitmap2CreditNotBanked(t *testing.T) {
	for _, tt := range []struct {
		trace      string
		interval   int64
		copyRate   string
		ckpts      int64
		background int64 // background_bytes
		forced     int64 // forced_copies
		stall      int64 // checkpoint_stall_bytes
		pending    int64 // pending_bytes
		because    string
	}{
		{
			trace: "b2-stall-carry.rw", interval: 10, copyRate: "10",
			ckpts: 2, background: 64, forced: 0, stall: 128, pending: 64,
			because: "3 granules wait from access 10; the copier takes one at access 17 (70 B) and holds 36 B at the checkpoint after access 20, whose stall empties the list: " +
				"the granule then handed over gets 30 B by access 23 and is still waiting",
		},
		{
			trace: "b2-stall-carry-idle.rw", interval: 10, copyRate: "10",
			ckpts: 3, background: 64, forced: 0, stall: 128, pending: 64,
			because: "as b2-stall-carry, then an interval with one write: the 36 B left at the stall are not kept through it, so the granule gets 30 B by access 33",
		},
		{
			trace: "b2-forced-last.rw", interval: 20, copyRate: "3",
			ckpts: 2, background: 0, forced: 1, stall: 0, pending: 64,
			because: "one granule waits from access 20; access 40 forces its copy with 60 B of credit, emptying the list; the granule handed over at access 40 gets 6 B by access 42",
		},
		{
			trace: "b2-forced-mid.rw", interval: 20, copyRate: "3",
			ckpts: 1, background: 0, forced: 0, stall: 0, pending: 128,
			because: "the control: two granules wait from access 20 and get 21 B by access 27",
		},
	} {
		t.Run(tt.trace, func(t *testing.T) {
			path := filepath.Join("testdata", tt.trace)
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err) // in the repository: never skip
			}
			recs := schemetest.TraceHead(t, path, 1000)
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.CacheSize, cfg.Interval, cfg.Verify = "bitmap2", 0, tt.interval, true
			cfg.Params = map[string]string{"copy-rate": tt.copyRate}
			s := schemetest.MustRun(t, cfg, recs, sim.Options{CheckEvery: true})
			got := []int64{s.Checkpoints, schemetest.Own(t, s, "background_bytes"), schemetest.Own(t, s, "forced_copies"),
				s.CheckpointStallBytes, schemetest.Own(t, s, "pending_bytes")}
			want := []int64{tt.ckpts, tt.background, tt.forced, tt.stall, tt.pending}
			if !slices.Equal(got, want) {
				t.Errorf("checkpoints, background_bytes, forced_copies, checkpoint_stall_bytes, pending_bytes = %v, want %v: %s", got, want, tt.because)
			}
		})
	}
}

// TestBitmap2CreditKeptWhileAnotherDomainWaits: the copier is one for the controller, so
// a domain's list emptying (here by its checkpoint's stall, then by a forced copy) drops
// the credit only when no other domain's granules wait.
func TestBitmap2CreditKeptWhileAnotherDomainWaits(t *testing.T) {
	m := machine(0)
	m.PerASID = true
	c, err := memctl.New(memctl.Bitmap2, m, memctl.Options{CopyRate: 16})
	if err != nil {
		t.Fatal(err)
	}
	acc := func(n int64, asid traces.ASID, addr uint64, k traces.Kind) {
		schemetest.Perform(c, n, traces.Record{Addr: addr, Size: 8, ASID: asid, Kind: k})
		if err := c.Check(); err != nil {
			t.Fatalf("after access %d: %v", n, err)
		}
	}
	a, b := c.DomainOf(0), c.DomainOf(1)
	acc(1, 0, 0x0, traces.Write)
	acc(2, 1, 0x0, traces.Write)
	acc(3, 1, 0x40, traces.Write)
	c.Checkpoint(a) // a waits for 0x0
	c.Checkpoint(b) // b waits for 0x0 and 0x40, after a
	acc(4, 0, 0x1000, traces.Read)
	acc(5, 0, 0x1000, traces.Read) // 32 B of credit
	c.Checkpoint(a)                // a's 0x0 stalled; b still waits: the credit stays
	acc(6, 1, 0x0, traces.Write)   // 48 B; b's 0x0 forced; 0x40 still waits
	acc(7, 0, 0x1000, traces.Read) // 64 B: b's 0x40 copied by the copier
	k := memctl.Bitmap2.Info().NewTally()
	c.Counters(k)
	// Own: background_bytes, forced_copies, forced_bytes, pending_bytes.
	if want := []int64{64, 1, 64, 0}; !slices.Equal(k.OwnValues(), want) || k.CheckpointStallBytes != 64 {
		t.Errorf("own counters %v, want %v; checkpoint_stall_bytes %d, want 64", k.OwnValues(), want, k.CheckpointStallBytes)
	}
}
