package memctl

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

type pageKey struct {
	asid record.ASID
	vpn  uint64
}

// page is the controller's state for one page of one address space, whatever the
// strategy: bitmaps of its granules (see bits.go) and, when verifying, the stamps of
// memory. A strategy keeps its own per-page state in slices indexed by id.
type page struct {
	key pageKey
	// id is the page's number in Controller.index. Invariant: Controller.pages[id] == p.
	id  int32
	dom *domain
	// touched marks the granules accessed so far.
	// Invariant: the popcounts of a domain's pages sum to dom.touched.
	touched []uint64
	// marks: for a marker strategy (Controller.marker != nil), the granules written since
	// the domain's last checkpoint or rollback; nil for the others.
	// Invariant: marks ⊆ touched; the popcounts of a domain's pages sum to dom.marked;
	// marks != 0 implies inDirty.
	marks []uint64
	// inDirty: the page is on dom.dirty. Invariant: dom.dirty holds exactly the pages with
	// inDirty, each once.
	inDirty bool
	// written: the page was written at least once (pages_written).
	// Invariant: Controller.pagesWritten counts the pages with written set.
	written bool
	// mem holds the stamps of memory as the program sees it, one per verification block;
	// nil when not verifying.
	mem []uint64
}

// domain is one checkpoint domain's state, whatever the strategy; a strategy keeps its own
// per-domain state in slices indexed by id.
type domain struct {
	// id is the domain's number. Invariant: Controller.doms[id] is the domain.
	id    scheme.Domain
	pages []*page // every page of the domain, in the order first touched
	// touched is the number of the domain's granules accessed so far (see page.touched).
	touched int64
	// dirty lists the pages with marks; marked counts the marks (see page.marks and
	// page.inDirty).
	dirty  []*page
	marked int64
}

// channels are the common counters (scheme.Channels) the strategies add to.
type channels struct {
	copied, logged, toBackup, stall, recovery int64
}

// Controller is a memory controller set to one strategy: a scheme.Scheme. It performs the
// accesses and keeps what every strategy shares (this file); its strategy, s, keeps the
// rest (one file per strategy).
type Controller struct {
	strat Strategy
	// s is the strategy's own state and hooks; marker and clock are s when it implements
	// them, nil otherwise (checked once, not at every access).
	// Invariant: s != nil; marker is s or nil; clock is s or nil.
	s      strategy
	marker marker
	clock  clock
	// data moves the data of the strategies' operations that keep a checkpoint.
	// Invariant: non-nil; exactData{} outside tests that inject faults.
	data dataPath

	m      scheme.Machine
	gshift uint   // log2 granule
	pshift uint   // log2 page size
	gpp    uint64 // granules per page
	words  int    // bitmap words per page
	ushift uint   // log2 verification block (when verifying)
	upg    uint64 // verification blocks per granule, 0 when not verifying
	upp    uint64 // verification blocks per page

	// index numbers the pages; pages holds them by number. The index's budget is
	// Machine.MaxPages: past it, an access creates no state and sets err.
	// Invariant: len(pages) == index.Len(), and pages[i].key is index.Key(i).
	index scheme.PageIndex
	pages []*page
	// doms holds the domains by number; domOf by address space (0 for all under --scope
	// system). Invariant: every domain of domOf is in doms.
	doms  []*domain
	domOf map[record.ASID]*domain
	// pagesWritten counts the pages with written set.
	pagesWritten int64

	// touchedAll is the granules touched over all domains.
	// Invariant: touchedAll == Σ dom.touched.
	touchedAll int64
	// n is the number (scheme.Run numbering) of the access performed last: bitmap2's
	// copier advances by the accesses since.
	n int64
	// hookPage is the page of the last byte of the access just performed while the
	// verifier's hook (scheme.Run.Verify) runs after it, else nil.
	hookPage *page

	ch channels

	err error
}

// New returns a controller set to strategy s on machine m.
func New(s Strategy, m scheme.Machine, o Options) (*Controller, error) {
	pow2 := func(x uint64) bool { return x != 0 && x&(x-1) == 0 }
	if s >= numStrategies {
		return nil, fmt.Errorf("memctl: unknown strategy %d", s)
	}
	if !pow2(m.PageSize) {
		return nil, fmt.Errorf("page size %d: want a power of two", m.PageSize)
	}
	if !pow2(m.Granule) || m.Granule < 8 || m.Granule > m.PageSize {
		return nil, fmt.Errorf("--granule %d: want a power of two from 8 to the page size (%d)", m.Granule, m.PageSize)
	}
	if m.VerifyBlock > m.Granule {
		return nil, fmt.Errorf("--verify-block %d is larger than --granule %d: scheme %s keeps data per granule (want --verify-block at most the granule)", m.VerifyBlock, m.Granule, s)
	}
	c := &Controller{
		strat: s, m: m, data: exactData{},
		gshift: uint(bits.TrailingZeros64(m.Granule)),
		pshift: uint(bits.TrailingZeros64(m.PageSize)),
		domOf:  map[record.ASID]*domain{},
	}
	c.index.SetMax(max(m.MaxPages, 0))
	c.gpp = m.PageSize >> c.gshift
	c.words = int((c.gpp + 63) / 64)
	if m.VerifyBlock > 0 {
		c.ushift = uint(bits.TrailingZeros64(m.VerifyBlock))
		c.upg = m.Granule >> c.ushift
		c.upp = m.PageSize >> c.ushift
	}
	c.s = newStrategy[s](c, o)
	c.marker, _ = c.s.(marker)
	c.clock, _ = c.s.(clock)
	return c, nil
}

// Strategy returns the controller's strategy.
func (c *Controller) Strategy() Strategy { return c.strat }

// Backup returns shadow-remote's backup computer (nil for other strategies).
func (c *Controller) Backup() *Backup {
	if r, ok := c.s.(*shadowRemote); ok {
		return r.backup
	}
	return nil
}

// domain returns the domain of asid, creating it.
func (c *Controller) domain(asid record.ASID) *domain {
	if !c.m.PerASID {
		asid = 0
	}
	d := c.domOf[asid]
	if d == nil {
		d = &domain{id: scheme.Domain(len(c.doms))}
		c.doms = append(c.doms, d)
		c.domOf[asid] = d
		c.s.addDomain(d)
	}
	return d
}

// DomainOf returns the checkpoint domain of asid: 0 under --scope system, else one per
// address space numbered in the order first seen.
func (c *Controller) DomainOf(asid record.ASID) scheme.Domain { return c.domain(asid).id }

// dom returns domain d. Precondition: d was returned by DomainOf.
func (c *Controller) dom(d scheme.Domain) *domain {
	if int(d) < 0 || int(d) >= len(c.doms) {
		panic(fmt.Sprintf("memctl: unknown domain %d", d))
	}
	return c.doms[d]
}

// find returns the page (asid, vpn), nil if it was never accessed.
func (c *Controller) find(asid record.ASID, vpn uint64) *page {
	if id := c.index.Find(scheme.Page{ASID: asid, N: vpn}); id >= 0 {
		return c.pages[id]
	}
	return nil
}

// page returns the page (asid, vpn), creating it; nil, with Err set, when it is new and
// the controller holds Machine.MaxPages pages already (the index's budget).
func (c *Controller) page(asid record.ASID, vpn uint64) *page {
	id, added := c.index.Add(scheme.Page{ASID: asid, N: vpn})
	if !added {
		if id < 0 {
			if c.err == nil {
				c.err = &scheme.TooManyPagesError{Max: c.m.MaxPages, Access: c.n}
			}
			return nil
		}
		return c.pages[id]
	}
	return c.newPage(asid, vpn, id)
}

// newPage creates the page (asid, vpn), numbered id by the index.
func (c *Controller) newPage(asid record.ASID, vpn uint64, id int32) *page {
	p := &page{key: pageKey{asid, vpn}, id: id, dom: c.domain(asid)}
	n := 1
	if c.marker != nil {
		n = 2
	}
	w := make([]uint64, n*c.words)
	p.touched = w[:c.words:c.words]
	if n > 1 {
		p.marks = w[c.words:]
	}
	if c.upg > 0 {
		p.mem = make([]uint64, c.upp)
	}
	c.pages = append(c.pages, p)
	p.dom.pages = append(p.dom.pages, p)
	c.s.addPage(p)
	return p
}

// units returns the stamps of granule i of p in st (mem, or a strategy's stamps of p).
func (c *Controller) units(st []uint64, i uint64) []uint64 {
	return st[i*c.upg : (i+1)*c.upg]
}

// Access performs the run's memory accesses in order: every granule overlapping [Addr,
// Addr+Size) of each is touched, and written when the access writes (a write-back, or a
// store without a cache); under --verify run.Verify follows each access. It is the
// controller's one loop over accesses: the test of run.Verify is a load, a test and a
// predictable jump beside the call of access that every access makes (access is not
// inlined), far under 2% of the loop, so there are no specialised copies.
// Precondition: no access wraps past the end of the address space.
func (c *Controller) Access(run scheme.Run) int {
	for i := range run.Recs {
		p := c.access(&run.Recs[i], run.N+int64(i)+1)
		if run.Verify != nil && p != nil { // nil: past the page budget, the run stops at Err
			c.hookPage = p
			run.Verify(i)
			c.hookPage = nil
		}
	}
	return len(run.Recs)
}

// access performs access n, r, and returns the page of its last byte: the only loop over
// an access's granules. What differs between strategies is behind two nil checks, clock
// (before the access) and marker (at a granule's first write since the checkpoint).
func (c *Controller) access(r *record.Record, n int64) *page {
	if c.clock != nil {
		c.clock.advance(n)
	}
	c.n = n
	end := r.Addr + uint64(max(r.Size, 1)) - 1 // an access covers at least one byte
	write := r.Kind.Writes()
	per := c.pshift - c.gshift
	last := end >> c.gshift
	for g := r.Addr >> c.gshift; ; g++ {
		p := c.page(r.ASID, g>>per)
		if p == nil { // past the page budget: Err is set, the run stops
			return nil
		}
		i := g & (c.gpp - 1)
		w, bit := i>>6, uint64(1)<<(i&63)
		if p.touched[w]&bit == 0 {
			p.touched[w] |= bit
			p.dom.touched++
			c.touchedAll++
		}
		if write {
			if !p.written {
				p.written = true
				c.pagesWritten++
			}
			if c.marker != nil && p.marks[w]&bit == 0 {
				// Only a plain write replaces a whole granule's data without reading it: a
				// modify reads the granule first.
				full := r.Kind == record.Write && r.Addr <= g<<c.gshift && end >= (g+1)<<c.gshift-1
				c.marker.firstWrite(p, i, full)
				c.mark(p, w, bit)
			}
		}
		if g == last {
			return p
		}
	}
}

// Image returns the stamps of page n of asid as memory holds them, in place; nil for a
// page never accessed. Every page an access wrote was accessed: create asks for nothing
// more.
func (c *Controller) Image(asid record.ASID, n uint64, create bool) []uint64 {
	if p := c.hookPage; p != nil && p.key == (pageKey{asid, n}) {
		return p.mem // the page the access found, without a look-up
	}
	if p := c.find(asid, n); p != nil {
		return p.mem
	}
	if create {
		panic(fmt.Sprintf("memctl: Image(create) of page (%d, %#x), never accessed", asid, n))
	}
	return nil
}

// mark sets granule i's mark (word w, bit) in p. Precondition: it is not set.
func (c *Controller) mark(p *page, w uint64, bit uint64) {
	p.marks[w] |= bit
	p.dom.marked++
	if !p.inDirty {
		p.inDirty = true
		p.dom.dirty = append(p.dom.dirty, p)
	}
}

// clearMarks clears the marks of d's dirty pages and empties the list.
func clearMarks(d *domain) {
	for _, p := range d.dirty {
		clear(p.marks)
		p.inDirty = false
	}
	d.dirty = d.dirty[:0]
	d.marked = 0
}

// Checkpoint takes a checkpoint of domain d; the cache was flushed before it.
func (c *Controller) Checkpoint(id scheme.Domain) {
	d := c.dom(id)
	c.s.checkpoint(d)
	clearMarks(d)
}

// Rollback returns domain d to its last checkpoint.
func (c *Controller) Rollback(id scheme.Domain) {
	d := c.dom(id)
	c.s.rollback(d)
	clearMarks(d)
}

// Crash loses volatile memory and recovers every domain from the backup.
// Precondition: the strategy is shadow-remote (the others keep their shadow, second
// copies or log in the memory a crash loses).
func (c *Controller) Crash() {
	r, ok := c.s.(crashRecoverer)
	if !ok {
		panic(fmt.Sprintf("memctl: Crash on strategy %s, which cannot recover a crash of volatile memory", c.strat))
	}
	r.crash()
}

// Counters adds the controller's counts to k.
func (c *Controller) Counters(k *scheme.Tally) {
	k.PagesTouched += int64(len(c.pages))
	k.PagesWritten += c.pagesWritten
	k.BytesCopied += c.ch.copied
	k.BytesLogged += c.ch.logged
	k.BytesToBackup += c.ch.toBackup
	k.CheckpointStallBytes += c.ch.stall
	k.RecoveryBytes += c.ch.recovery
	c.s.counters(k)
}

// Err returns the sticky error (too many pages), or nil.
func (c *Controller) Err() error { return c.err }

// Check verifies the controller's invariants from scratch, then its strategy's.
func (c *Controller) Check() error {
	if err := c.index.Check(); err != nil {
		return err
	}
	if len(c.pages) != c.index.Len() {
		return fmt.Errorf("%d pages for %d page numbers", len(c.pages), c.index.Len())
	}
	var written int64
	for id, p := range c.pages {
		if k := c.index.Key(int32(id)); k.ASID != p.key.asid || k.N != p.key.vpn || p.id != int32(id) {
			return fmt.Errorf("page number %d is %+v but holds page %v numbered %d", id, k, p.key, p.id)
		}
		if p.written {
			written++
		}
		if (p.marks != nil) != (c.marker != nil) || (p.mem != nil) != (c.upg > 0) {
			return fmt.Errorf("page %v: marks or stamps kept against the strategy and settings", p.key)
		}
	}
	if written != c.pagesWritten {
		return fmt.Errorf("%d pages written, counted as %d", written, c.pagesWritten)
	}
	for asid, d := range c.domOf {
		if int(d.id) >= len(c.doms) || c.doms[d.id] != d {
			return fmt.Errorf("address space %d's domain %d is not among the domains", asid, d.id)
		}
	}
	var all int64
	for di, d := range c.doms {
		if d.id != scheme.Domain(di) {
			return fmt.Errorf("domain %d has id %d", di, d.id)
		}
		var touched, marked, dirty int64
		for _, p := range d.pages {
			if id := c.index.Find(scheme.Page{ASID: p.key.asid, N: p.key.vpn}); p.dom != d || id < 0 || c.pages[id] != p {
				return fmt.Errorf("page %v is listed in domain %d but not its own", p.key, d.id)
			}
			touched += popcount(p.touched)
			for w := range p.touched {
				if p.marks != nil && p.marks[w]&^p.touched[w] != 0 {
					return fmt.Errorf("page %v: a granule marked but never touched", p.key)
				}
			}
			if p.marks != nil {
				n := popcount(p.marks)
				marked += n
				if n > 0 && !p.inDirty {
					return fmt.Errorf("page %v has marks but is not on its domain's dirty list", p.key)
				}
			}
			if p.inDirty {
				dirty++
			}
		}
		for _, p := range d.dirty {
			if !p.inDirty || p.dom != d {
				return fmt.Errorf("domain %d: page %v on the dirty list is not marked as on it", d.id, p.key)
			}
		}
		if touched != d.touched {
			return fmt.Errorf("domain %d: %d granules touched, counted %d", d.id, touched, d.touched)
		}
		all += touched
		if marked != d.marked || dirty != int64(len(d.dirty)) {
			return fmt.Errorf("domain %d: %d marks on %d dirty pages, counted %d on %d", d.id, marked, dirty, d.marked, len(d.dirty))
		}
	}
	if all != c.touchedAll {
		return fmt.Errorf("%d granules touched, counted %d", all, c.touchedAll)
	}
	return c.s.check()
}
