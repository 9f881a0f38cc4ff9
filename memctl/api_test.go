package memctl_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/vmsim/vmsim/memctl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

func machine(verifyBlock uint64) scheme.Machine {
	return scheme.Machine{PageSize: 4096, Granule: 64, VerifyBlock: verifyBlock, RequestCheckpoint: func(scheme.Domain) {}}
}

// TestCheckpointSendsToBackup checks, against a generated mock of the Link, what a
// shadow-remote checkpoint sends: every touched granule of the domain, pages in the order
// first touched and granules in address order within a page, each with its data; the
// second checkpoint sends them all again, plus the newly touched one; each ends with a
// Commit. The mock delivers to
// the backup, and a rollback then restores the checkpoint's data from it.
func TestCheckpointSendsToBackup(t *testing.T) {
	ctrl := gomock.NewController(t)
	link := NewMockLink(ctrl)
	c, err := memctl.New(memctl.ShadowRemote, machine(64), memctl.Options{Link: link})
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(d scheme.Domain, u scheme.Page, data []uint64) { c.Backup().Send(d, u, data) }
	write := func(asid traces.ASID, addr uint64, size uint32, stamp uint64) {
		schemetest.Perform(c, 0, traces.Record{Addr: addr, Size: size, ASID: asid, Kind: traces.Write})
		n := (addr+uint64(size)-1)/64 - addr/64 + 1
		sim.Store(c, machine(64), asid, addr/64, slices.Repeat([]uint64{stamp}, int(n)))
	}
	// Page 2 first (granules 0x2040 and 0x2080, one access across both), then a read of
	// page 1's granule 0x1000, then asid 1's page 2.
	write(0, 0x2070, 32, 7)
	schemetest.Perform(c, 0, traces.Record{Addr: 0x1000, Size: 4, Kind: traces.Read})
	write(1, 0x2000, 8, 9)
	gomock.InOrder(
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x2040 / 64}, []uint64{7}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x2080 / 64}, []uint64{7}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x1000 / 64}, []uint64{0}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 1, N: 0x2000 / 64}, []uint64{9}).Do(deliver),
		link.EXPECT().Commit(scheme.Domain(0)),
		// Second checkpoint: the same four (0x2040 rewritten), and 0x20c0 newly touched.
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x2040 / 64}, []uint64{11}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x2080 / 64}, []uint64{7}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x20c0 / 64}, []uint64{0}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 0, N: 0x1000 / 64}, []uint64{0}).Do(deliver),
		link.EXPECT().Send(scheme.Domain(0), scheme.Page{ASID: 1, N: 0x2000 / 64}, []uint64{9}).Do(deliver),
		link.EXPECT().Commit(scheme.Domain(0)),
	)
	c.Checkpoint(c.DomainOf(0))
	write(0, 0x2040, 4, 11)
	schemetest.Perform(c, 0, traces.Record{Addr: 0x20c0, Size: 4, Kind: traces.Read})
	c.Checkpoint(c.DomainOf(0))
	write(0, 0x2080, 64, 12)
	write(1, 0x2000, 64, 13)
	c.Rollback(c.DomainOf(0))
	got := make([]uint64, 4)
	sim.Load(c, machine(64), 0, 0x2000/64, got)
	if want := []uint64{0, 11, 7, 0}; !slices.Equal(got, want) {
		t.Errorf("after rollback, asid 0 page 2 granules 0..3 hold %v, want %v", got, want)
	}
	sim.Load(c, machine(64), 1, 0x2000/64, got[:1])
	if got[0] != 9 {
		t.Errorf("after rollback asid 1's granule holds %d, want 9", got[0])
	}
	k := memctl.ShadowRemote.Info().NewTally()
	c.Counters(k)
	if k.BytesToBackup != 9*64 || k.RecoveryBytes != 5*64 || k.CheckpointStallBytes != 9*64 {
		t.Errorf("counters %+v", k)
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
}

// TestBitmap2Sequence works one background copy by hand: two granules marked, a copy rate
// of one granule per 4 accesses, a write-back to the second before the copier reaches it.
func TestBitmap2Sequence(t *testing.T) {
	c, err := memctl.New(memctl.Bitmap2, machine(64), memctl.Options{CopyRate: 16})
	if err != nil {
		t.Fatal(err)
	}
	w := func(n int64, addr uint64) {
		schemetest.Perform(c, n, traces.Record{Addr: addr, Size: 8, Kind: traces.Write})
	}
	w(1, 0x0)
	w(2, 0x40)
	w(3, 0x80)
	c.Checkpoint(0) // three granules to copy in the background, in address order
	w(4, 0x1000)    // 16 bytes of credit: nothing copied yet
	w(8, 0x1000)    // 4 more accesses: 64 more bytes: granule 0x0 copied
	w(9, 0x80)      // 0x40 and 0x80 pending: 0x80 forced
	c.Checkpoint(0) // 0x40 still pending: finished with the program stopped
	k := memctl.Bitmap2.Info().NewTally()
	c.Counters(k)
	// Own: background_bytes, forced_copies, forced_bytes, pending_bytes.
	if want := []int64{64, 1, 64, 2 * 64}; !slices.Equal(k.OwnValues(), want) {
		t.Errorf("own counters %v, want %v", k.OwnValues(), want)
	}
	if k.BytesCopied != 5*64 || k.CheckpointStallBytes != 64 {
		t.Errorf("bytes_copied %d (want 320), checkpoint_stall_bytes %d (want 64)", k.BytesCopied, k.CheckpointStallBytes)
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    scheme.Machine
	}{
		{"granule 0", scheme.Machine{PageSize: 4096}},
		{"granule 4", scheme.Machine{PageSize: 4096, Granule: 4}},
		{"granule above page", scheme.Machine{PageSize: 4096, Granule: 8192}},
		{"granule 48", scheme.Machine{PageSize: 4096, Granule: 48}},
		{"verify block above granule", scheme.Machine{PageSize: 4096, Granule: 32, VerifyBlock: 64}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := memctl.New(memctl.Bitmap, tt.m, memctl.Options{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestMaxPages(t *testing.T) {
	m := machine(0)
	m.MaxPages = 2
	c, _ := memctl.New(memctl.Undo, m, memctl.Options{})
	for p := uint64(0); p < 3; p++ {
		schemetest.Perform(c, 0, traces.Record{Addr: p << 12, Size: 1, Kind: traces.Write})
	}
	if c.Err() == nil {
		t.Fatal("a third page passed MaxPages 2")
	}
}

// TestMaxPagesNoState: past the budget an access creates no state (the page index refuses
// the page), for every strategy, with and without data; the controller stays consistent
// and the pages it holds are still accessed.
func TestMaxPagesNoState(t *testing.T) {
	for s := memctl.Shadow; s <= memctl.Undo; s++ {
		for _, block := range []uint64{0, 64} {
			t.Run(fmt.Sprintf("%s/verify-block=%d", s, block), func(t *testing.T) {
				m := machine(block)
				m.MaxPages = 2
				c, err := memctl.New(s, m, memctl.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for i, p := range []uint64{0, 1, 2, 3, 1} {
					c.Access(scheme.Run{Recs: []traces.Record{{Addr: p<<12 | 8, Size: 8, Kind: traces.Write}}, N: int64(i)})
					if err := c.Check(); err != nil {
						t.Fatalf("after access %d: %v", i+1, err)
					}
				}
				k := s.Info().NewTally()
				c.Counters(k)
				var tm *scheme.TooManyPagesError
				if !errors.As(c.Err(), &tm) || *tm != (scheme.TooManyPagesError{Max: 2, Access: 3}) {
					t.Errorf("Err = %v, want the budget's error at access 3", c.Err())
				}
				if k.PagesTouched != 2 || k.PagesWritten != 2 {
					t.Errorf("%d pages touched, %d written; want 2 and 2 (the budget)", k.PagesTouched, k.PagesWritten)
				}
			})
		}
	}
}

// Example: a controller set to bitmap, driven by hand. A checkpoint copies the granules
// written since the last one into the shadow; a rollback copies them back.
func ExampleNew() {
	m := scheme.Machine{PageSize: 4096, Granule: 64, RequestCheckpoint: func(scheme.Domain) {}}
	c, err := memctl.New(memctl.Bitmap, m, memctl.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Access(scheme.Run{Recs: []traces.Record{ // accesses 1 to 3
		{Addr: 0x1000, Size: 8, Kind: traces.Write}, // granule 0x1000
		{Addr: 0x103c, Size: 8, Kind: traces.Write}, // 0x1000 and 0x1040
		{Addr: 0x2000, Size: 64, Kind: traces.Read}, // read: no mark
	}})
	c.Checkpoint(c.DomainOf(0))                                                                     // copies 2 granules
	c.Access(scheme.Run{Recs: []traces.Record{{Addr: 0x2000, Size: 4, Kind: traces.Modify}}, N: 3}) // granule 0x2000
	c.Rollback(c.DomainOf(0))                                                                       // restores 1 granule
	k := memctl.Bitmap.Info().NewTally()
	c.Counters(k)
	fmt.Printf("copied %d, stalled %d, restored %d, shadow %d bytes\n",
		k.BytesCopied, k.CheckpointStallBytes, k.RecoveryBytes, k.MemOverheadPeakBytes)
	// Output: copied 128, stalled 128, restored 64, shadow 192 bytes
}

// Example_run: the strategies are registered schemes; run one through the driver.
func Example_run() {
	recs := refTrace(1, 5000, 1)
	for _, name := range []string{"bitmap", "undo"} {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Interval, cfg.MTBF, cfg.Seed, cfg.Verify = name, 500, 2000, 1, true
		res, err := sim.Run(cfg, func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil })
		if err != nil {
			fmt.Println(err)
			return
		}
		s := res.Stats
		fmt.Printf("%s: %d checkpoints, %d rollbacks, copied %d, logged %d, mismatches %d\n",
			name, s.Checkpoints, s.Rollbacks, s.BytesCopied, s.BytesLogged, s.VerifyMismatches)
	}
	// Output:
	// bitmap: 10 checkpoints, 4 rollbacks, copied 161088, logged 0, mismatches 0
	// undo: 10 checkpoints, 4 rollbacks, copied 0, logged 196928, mismatches 0
}

// BenchmarkAccess measures the controller's work per access (not verifying) for each
// strategy, against a bare loop over the same accesses.
func BenchmarkAccess(b *testing.B) {
	acc := refTrace(3, 1<<16, 2)
	b.Run("baseline", func(b *testing.B) {
		var sum uint64
		for i := range b.N {
			a := &acc[i&(len(acc)-1)]
			sum += a.Addr + uint64(a.Size)
		}
		_ = sum
	})
	for _, s := range memctl.Strategies() {
		b.Run(s.String(), func(b *testing.B) {
			c, _ := memctl.New(s, machine(0), memctl.Options{CopyRate: memctl.DefaultCopyRate})
			for i := range b.N {
				k := i & (len(acc) - 1)
				c.Access(scheme.Run{Recs: acc[k : k+1], N: int64(k)})
				if i%1000 == 999 {
					c.Checkpoint(0)
				}
			}
		})
	}
}
