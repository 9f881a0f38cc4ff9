package sim_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// pageCopy is a scheme a researcher might write in their own module: at each checkpoint
// it copies every page written since the last one into a shadow, and a rollback copies
// them back. It keeps the data verification asks for in maps of page images.
type pageCopy struct {
	m       scheme.Machine
	mem     map[uint64][]uint64 // page -> its stamps (one address space, for brevity)
	shadow  map[uint64][]uint64
	dirty   map[uint64]bool // pages written since the checkpoint
	copies  int64
	restore int64
}

// Access is the scheme's one loop: it performs the run's accesses in order, and calls the
// verifier's hook after each under --verify.
func (p *pageCopy) Access(run scheme.Run) int {
	for i, a := range run.Recs {
		if a.Kind.Writes() {
			for pg := a.Addr / p.m.PageSize; pg <= (a.Addr+uint64(a.Size)-1)/p.m.PageSize; pg++ {
				p.dirty[pg] = true
			}
		}
		if run.Verify != nil {
			run.Verify(i)
		}
	}
	return len(run.Recs)
}

// Image is the page's stamps in place, for --verify.
func (p *pageCopy) Image(_ traces.ASID, pg uint64, create bool) []uint64 {
	st := p.mem[pg]
	if st == nil && create {
		st = make([]uint64, p.m.PageSize/p.m.VerifyBlock)
		p.mem[pg] = st
	}
	return st
}

func (p *pageCopy) Checkpoint(scheme.Domain) {
	for pg := range p.dirty {
		if st := p.mem[pg]; st != nil {
			p.shadow[pg] = append(p.shadow[pg][:0], st...)
		}
		p.copies++
	}
	clear(p.dirty)
}

func (p *pageCopy) Rollback(scheme.Domain) {
	for pg := range p.dirty {
		if st := p.mem[pg]; st != nil {
			if sh := p.shadow[pg]; sh != nil {
				copy(st, sh)
			} else {
				clear(st)
			}
		}
		p.restore++
	}
	clear(p.dirty)
}

func (p *pageCopy) Crash()                             { p.Rollback(0) }
func (p *pageCopy) DomainOf(traces.ASID) scheme.Domain { return 0 }
func (p *pageCopy) Check() error                       { return nil }
func (p *pageCopy) Err() error                         { return nil }

// pageCopyCounts are pagecopy's own counters (scheme.Info.Own): each field's tags give
// the counter's key and definition.
type pageCopyCounts struct {
	PagesCopied int64 `json:"pages_copied" doc:"pages copied into the shadow by checkpoints"`
}

func (p *pageCopy) Counters(c *scheme.Tally) {
	c.BytesCopied += p.copies * int64(p.m.PageSize)
	c.RecoveryBytes += p.restore * int64(p.m.PageSize)
	scheme.Own[pageCopyCounts](c).PagesCopied += p.copies
}

// A scheme written outside vmsim runs through the same driver, schedule, failures and
// golden-model verification as the built-in ones: give its Info to sim.RunWith (or
// register it with scheme.Register and name it in Config.Scheme).
func ExampleRunWith_customScheme() {
	info := &scheme.Info{
		Name:              "pagecopy",
		Doc:               "copy the pages written since the last checkpoint into a shadow",
		Level:             scheme.LevelCPU,
		RecoversTransient: true,
		Own:               new(pageCopyCounts),
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return &pageCopy{m: m, mem: map[uint64][]uint64{}, shadow: map[uint64][]uint64{}, dirty: map[uint64]bool{}}, nil
		},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]traces.Record, 20000)
	for i := range recs {
		recs[i] = traces.Record{Addr: uint64(rng.IntN(64 << 12)), Size: 4, Kind: traces.Kind(rng.IntN(2))}
	}
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.MTBF, cfg.Seed, cfg.Verify = "pagecopy", 1000, 5000, 7, true
	res, err := sim.RunWith(cfg, func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil }, sim.Options{Scheme: info})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Stats
	copied, _ := s.Scheme.Get("pages_copied")
	fmt.Printf("checkpoints %d, rollbacks %d, pages copied %d (%d bytes), verify mismatches %d\n",
		s.Checkpoints, s.Rollbacks, copied, s.BytesCopied, s.VerifyMismatches)
	// Output: checkpoints 20, rollbacks 5, pages copied 1280 (5242880 bytes), verify mismatches 0
}
