package mmu

import (
	"fmt"
	"github.com/vmsim/vmsim/internal/testseed"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/traces"
)

// model is the tiny reference model: what each page holds now and at each domain's last
// checkpoint, and which pages were written since then.
type model struct {
	cur      map[pkey]uint64
	ckpt     []map[pkey]uint64 // per domain
	dirty    []map[pkey]bool   // per domain: written since the checkpoint or rollback
	touched  map[pkey]bool
	written  map[pkey]bool
	firsts   int64
	domainOf func(traces.ASID) int
}

type pkey struct {
	asid traces.ASID
	vpn  pagetable.VPN
}

func newModel(domains int, domainOf func(traces.ASID) int) *model {
	m := &model{cur: map[pkey]uint64{}, touched: map[pkey]bool{}, written: map[pkey]bool{}, domainOf: domainOf}
	for range domains {
		m.ckpt = append(m.ckpt, map[pkey]uint64{})
		m.dirty = append(m.dirty, map[pkey]bool{})
	}
	return m
}

func (m *model) write(k pkey, v uint64) {
	d := m.domainOf(k.asid)
	if !m.dirty[d][k] {
		m.dirty[d][k] = true
		m.firsts++
	}
	m.cur[k] = v
	m.touched[k], m.written[k] = true, true
}

func (m *model) checkpoint(d int) {
	for k := range m.dirty[d] {
		m.ckpt[d][k] = m.cur[k]
	}
	clear(m.dirty[d])
}

func (m *model) rollback(d int) {
	for k := range m.dirty[d] {
		m.cur[k] = m.ckpt[d][k]
	}
	clear(m.dirty[d])
}

type modelConfig struct {
	Config
	asids int
}

func (c modelConfig) String() string {
	return fmt.Sprintf("memory volatile=%v remap=%v frames=%d replace=%s obsoleteFirst=%v zero=%v vbits=%d perASID=%v",
		c.Volatile, c.Remap, c.Frames, c.Replace, c.ObsoleteFirst, c.ZeroFill, c.VBits, c.PerASID)
}

// runModel drives a dualmap machine with random reads, writes, checkpoints, rollbacks and
// crashes, checks every invariant after every step, every read's value, every page's
// value after every recovery, and the counters the model can predict.
func runModel(t *testing.T, seed uint64, c modelConfig, steps int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	s, err := New(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	domainOf := func(a traces.ASID) int {
		if c.PerASID {
			return int(s.DomainOf(a))
		}
		return 0
	}
	// Create the domains in a fixed order.
	for a := range c.asids {
		s.DomainOf(traces.ASID(a))
	}
	ndom := 1
	if c.PerASID {
		ndom = c.asids
	}
	m := newModel(ndom, domainOf)
	npages := 2 + rng.IntN(10)
	fail := func(step int, format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d, %v, step %d: %s", seed, c, step, fmt.Sprintf(format, args...))
	}
	compareAll := func(step int) {
		for k := range m.touched {
			var got uint64
			if st := s.PeekStamps(k.asid, k.vpn); st != nil {
				got = st[0]
			}
			if got != m.cur[k] {
				fail(step, "page %v holds %d, model %d", k, got, m.cur[k])
			}
		}
	}
	for step := 1; step <= steps; step++ {
		k := pkey{traces.ASID(rng.IntN(c.asids)), pagetable.VPN(rng.IntN(npages))}
		switch op := rng.IntN(100); {
		case op < 45:
			s.Access(k.asid, k.vpn, false, int64(rng.IntN(1000)))
			m.touched[k] = true
			if got := s.Stamps(k.asid, k.vpn)[0]; got != m.cur[k] {
				fail(step, "read of %v gave %d, model %d", k, got, m.cur[k])
			}
		case op < 85:
			s.Access(k.asid, k.vpn, true, int64(rng.IntN(1000)))
			s.Stamps(k.asid, k.vpn)[0] = uint64(step)
			m.write(k, uint64(step))
		case op < 93:
			d := domainOf(k.asid)
			s.Checkpoint(pagetable.DomainID(d))
			m.checkpoint(d)
		case op < 98 || !c.Volatile:
			d := domainOf(k.asid)
			s.Rollback(pagetable.DomainID(d))
			m.rollback(d)
			compareAll(step)
		default:
			s.Crash()
			for d := range ndom {
				m.rollback(d)
			}
			compareAll(step)
		}
		if err := s.Check(); err != nil {
			fail(step, "Check: %v", err)
		}
		cn := s.Counters()
		if cn.FirstWrites != m.firsts || cn.PagesTouched != int64(len(m.touched)) || cn.PagesWritten != int64(len(m.written)) {
			fail(step, "first_writes=%d pages_touched=%d pages_written=%d, model %d %d %d",
				cn.FirstWrites, cn.PagesTouched, cn.PagesWritten, m.firsts, len(m.touched), len(m.written))
		}
		if c.Frames > 0 && cn.FramesPeak > int64(c.Frames) {
			fail(step, "frames_peak %d > %d frames", cn.FramesPeak, c.Frames)
		}
	}
}

func TestDualMapModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	n := 0
	policies := []frames.PolicyName{"clock", "lru", "fifo", "opt", "random"}
	for _, volatile := range []bool{false, true} {
		for _, remap := range []bool{false, true} {
			for _, frames := range []int{0, 2, 3, 5} {
				for _, replace := range policies {
					if frames == 0 && replace != "clock" {
						continue
					}
					for _, perASID := range []bool{false, true} {
						for vbits := 1; vbits <= 8; vbits++ {
							c := modelConfig{Config: Config{
								Scheme: "dualmap", Frames: frames, Replace: replace, Seed: rng.Uint64(),
								ObsoleteFirst: rng.IntN(2) == 0, ZeroFill: rng.IntN(2) == 0, VBits: vbits,
								PerASID: perASID, Volatile: volatile, Remap: remap, PTEsPerPTPage: 4, Blocks: 1,
							}, asids: 1 + rng.IntN(3)}
							runModel(t, seed+uint64(n), c, 400)
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d configurations, seed %d", n, seed)
}

// testSeed returns the seed of a randomized test: $VMSIM_TEST_SEED when set, to rerun a
// failure, else a fresh random one. It logs the seed, which a failing test prints.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }
