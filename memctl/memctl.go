package memctl

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// Strategy is one of the six ways the controller checkpoints.
type Strategy uint8

const (
	// Shadow keeps a local shadow image; a checkpoint copies every touched granule into it.
	Shadow Strategy = iota
	// ShadowRemote keeps the shadow image on a backup computer; a checkpoint sends every
	// touched granule over the link.
	ShadowRemote
	// Bitmap marks granules written since the checkpoint; a checkpoint copies those into
	// the shadow, the program stopped.
	Bitmap
	// Bitmap2 alternates two bitmaps; a checkpoint hands the marked granules to a
	// background copier and the program goes on.
	Bitmap2
	// BlockState keeps two physical copies of every granule and state bits; a checkpoint
	// changes state bits only.
	BlockState
	// Undo logs the pre-image of the first write-back to a granule since the checkpoint;
	// a rollback restores the log in reverse.
	Undo
	numStrategies
)

var strategyNames = [numStrategies]string{"shadow", "shadow-remote", "bitmap", "bitmap2", "blockstate", "undo"}

func (s Strategy) String() string {
	if s < numStrategies {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// Strategies returns the six strategies in their order.
func Strategies() []Strategy {
	out := make([]Strategy, numStrategies)
	for i := range out {
		out[i] = Strategy(i)
	}
	return out
}

// DefaultCopyRate is bitmap2's default background copy rate in bytes per program access
// (docs/memctl.md gives its source).
const DefaultCopyRate = 3

// Options are the strategies' own settings.
type Options struct {
	// CopyRate is bitmap2's background copy rate, in bytes per program access (--copy-rate).
	CopyRate uint64
	// Link is where shadow-remote sends granules; nil: straight to the controller's own
	// Backup. A Link given here must deliver to Backup() for recoveries to be right.
	Link Link
}

type pageKey struct {
	asid traces.ASID
	vpn  uint64
}

// page is the controller's state for one page of one address space: bitmaps of its
// granules (bit i of word i/64 is granule i of the page) and, when verifying, stamps.
type page struct {
	key pageKey
	dom *domain
	// touched marks the granules accessed so far.
	// Invariant: the popcounts of a domain's pages sum to dom.touched.
	touched []uint64
	// marks: bitmap and bitmap2, the granules written since the checkpoint (bitmap2's
	// current bitmap); blockstate, the granules written since the checkpoint (their current
	// copy is not the checkpoint copy); undo, the granules logged since the checkpoint.
	// Invariant: marks ⊆ touched; the popcounts of a domain's pages sum to dom.marked;
	// marks != 0 implies inDirty. nil for shadow and shadow-remote.
	marks []uint64
	// aux: bitmap2, the granules marked before the checkpoint not yet copied (the other
	// bitmap; Invariant: aux ∩ marks = ∅, aux ⊆ touched, aux != 0 implies inPend);
	// blockstate, which physical copy is current (the hardware's state bit; the model
	// keeps the current copy's stamps in mem whichever it is, see mem). nil otherwise.
	aux []uint64
	// inDirty: the page is on dom.dirty. inPend: the page is on dom.pend at or after
	// dom.cursor (bitmap2). written: the page was written at least once (pages_written).
	inDirty, inPend, written bool
	// mem holds the stamps of memory as the program sees it; alt those of the shadow
	// (shadow, bitmap, bitmap2) or, for blockstate, of each granule's other copy. One
	// stamp per verification block; nil when not verifying, alt nil for shadow-remote and
	// undo. Blockstate's hardware selects a granule's current copy by a state bit (aux)
	// and moves no data when it flips; the model keeps the current copy in mem by
	// swapping the granule's two copies at each flip, so that memory is one slice, as for
	// the other strategies.
	mem, alt []uint64
}

// domain is one checkpoint domain's state.
type domain struct {
	id    scheme.Domain
	pages []*page // every page of the domain, in the order first touched
	// touched is the number of the domain's granules accessed so far.
	touched int64
	// dirty lists the pages with marks (each once); marked counts the marks.
	dirty  []*page
	marked int64
	// bitmap2's background copy: pend[cursor:] holds the pages that may have aux bits;
	// pending counts the aux bits. Invariant: pending > 0 implies the domain is queued.
	pend    []*page
	cursor  int
	pending int64
	// undo's log: entry i is granule log[i].g of page log[i].p, its pre-image in
	// logData[i*upg:(i+1)*upg] when verifying.
	// Invariant: len(log) == marked; each marked granule has exactly one entry.
	log     []logEntry
	logData []uint64
}

type logEntry struct {
	p *page
	g uint32
}

// Controller is a memory controller set to one strategy: a scheme.Scheme.
type Controller struct {
	strat  Strategy
	m      scheme.Machine
	gshift uint   // log2 granule
	pshift uint   // log2 page size
	gpp    uint64 // granules per page
	words  int    // bitmap words per page
	ushift uint   // log2 verification block (when verifying)
	upg    uint64 // verification blocks per granule, 0 when not verifying
	upp    uint64 // verification blocks per page

	// index numbers the pages; pages holds them by number.
	// Invariant: len(pages) == index.Len(), and pages[i].key is index.Key(i).
	index scheme.PageIndex
	pages []*page
	doms  []*domain
	domOf map[traces.ASID]*domain
	// pagesWritten counts the pages with written set.
	pagesWritten int64

	// touchedAll is the granules touched over all domains.
	touchedAll int64
	// n is the number (Access.N) of the access performed last: bitmap2's copier advances
	// by the accesses since, and AccessBatch numbers its records on from it.
	n int64

	copied, logged, toBackup, stall, recovery int64

	// bitmap2.
	rate uint64 // bytes per program access
	// credit is the bytes the copier may still copy now.
	// Invariant: credit < the granule, and credit == 0 when queue is empty (credit is not
	// banked while nothing waits, whatever emptied the waiting list).
	credit uint64
	// queue holds the domains with pending copies, in the order their copies began.
	// Invariant: a domain is on queue, once, exactly when its pending > 0.
	queue      []*domain
	background int64 // bytes copied by the copier
	forced     int64 // granules copied because a write-back reached them first

	// blockstate.
	ckptFlips, rollFlips, merges int64

	// undo.
	live, livePeak, entries int64 // live log entries (all domains), their peak, all entries

	// shadow-remote.
	link    Link
	backup  *Backup
	ownLink bool // link is backup

	err error

	// fault, in tests, skips the data of every fault-th data operation (a copy, a send, a
	// log capture, a flip at rollback), to show that verification catches it.
	fault, ops int
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
		strat: s, m: m,
		gshift: uint(bits.TrailingZeros64(m.Granule)),
		pshift: uint(bits.TrailingZeros64(m.PageSize)),
		domOf:  map[traces.ASID]*domain{},
		rate:   o.CopyRate,
	}
	c.gpp = m.PageSize >> c.gshift
	c.words = int((c.gpp + 63) / 64)
	if m.VerifyBlock > 0 {
		c.ushift = uint(bits.TrailingZeros64(m.VerifyBlock))
		c.upg = m.Granule >> c.ushift
		c.upp = m.PageSize >> c.ushift
	}
	if s == ShadowRemote {
		c.backup = NewBackup(m.Granule, m.PageSize, c.upg)
		c.link, c.ownLink = o.Link, false
		if c.link == nil {
			c.link, c.ownLink = c.backup, true
		}
	}
	return c, nil
}

// Strategy returns the controller's strategy.
func (c *Controller) Strategy() Strategy { return c.strat }

// Backup returns shadow-remote's backup computer (nil for other strategies).
func (c *Controller) Backup() *Backup { return c.backup }

// domain returns the domain of asid, creating it.
func (c *Controller) domain(asid traces.ASID) *domain {
	if !c.m.PerASID {
		asid = 0
	}
	d := c.domOf[asid]
	if d == nil {
		d = &domain{id: scheme.Domain(len(c.doms))}
		c.doms = append(c.doms, d)
		c.domOf[asid] = d
	}
	return d
}

// DomainOf returns the checkpoint domain of asid: 0 under --scope system, else one per
// address space numbered in the order first seen.
func (c *Controller) DomainOf(asid traces.ASID) scheme.Domain { return c.domain(asid).id }

// find returns the page (asid, vpn), nil if it was never accessed.
func (c *Controller) find(asid traces.ASID, vpn uint64) *page {
	if id := c.index.Find(scheme.Page{ASID: asid, N: vpn}); id >= 0 {
		return c.pages[id]
	}
	return nil
}

// page returns the page (asid, vpn), creating it.
func (c *Controller) page(asid traces.ASID, vpn uint64) *page {
	k := pageKey{asid, vpn}
	id, added := c.index.Add(scheme.Page{ASID: asid, N: vpn})
	var p *page
	if !added {
		p = c.pages[id]
	} else {
		if c.m.MaxPages > 0 && len(c.pages) >= c.m.MaxPages && c.err == nil {
			c.err = &scheme.TooManyPagesError{Max: c.m.MaxPages, Access: c.n}
		}
		p = &page{key: k, dom: c.domain(asid)}
		n := 1
		switch c.strat {
		case Bitmap, Undo:
			n = 2
		case Bitmap2, BlockState:
			n = 3
		}
		w := make([]uint64, n*c.words)
		p.touched = w[:c.words:c.words]
		if n > 1 {
			p.marks = w[c.words : 2*c.words : 2*c.words]
		}
		if n > 2 {
			p.aux = w[2*c.words:]
		}
		if c.upg > 0 {
			switch c.strat {
			case Shadow, Bitmap, Bitmap2, BlockState:
				d := make([]uint64, 2*c.upp)
				p.mem, p.alt = d[:c.upp:c.upp], d[c.upp:]
			default:
				p.mem = make([]uint64, c.upp)
			}
		}
		c.pages = append(c.pages, p)
		p.dom.pages = append(p.dom.pages, p)
	}
	return p
}

// dataOp reports whether a data operation really moves its data (always, outside tests
// that inject faults).
func (c *Controller) dataOp() bool {
	if c.fault == 0 {
		return true
	}
	c.ops++
	return c.ops%c.fault != 0
}

// units returns the stamps of granule i of p in st (mem or alt).
func (c *Controller) units(st []uint64, i uint64) []uint64 {
	return st[i*c.upg : (i+1)*c.upg]
}

// Access performs one memory access: every granule overlapping [Addr, Addr+Size) is
// touched, and written when the access writes (a write-back, or a store without a cache).
// Precondition: the access does not wrap past the end of the address space.
func (c *Controller) Access(a scheme.Access) { c.access(a) }

// access is Access; it returns the page of the access's last byte.
func (c *Controller) access(a scheme.Access) *page {
	if c.strat == Bitmap2 {
		c.advance(a.N)
	}
	c.n = a.N
	end := a.Addr + uint64(max(a.Size, 1)) - 1 // an access covers at least one byte
	write := a.Kind.Writes()
	per := c.pshift - c.gshift
	last := end >> c.gshift
	for g := a.Addr >> c.gshift; ; g++ {
		p := c.page(a.ASID, g>>per)
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
			// Only a plain write replaces a whole granule's data without reading it: a
			// modify reads the granule first.
			full := a.Kind == traces.Write && a.Addr <= g<<c.gshift && end >= (g+1)<<c.gshift-1
			c.write(p, i, w, bit, full)
		}
		if g == last {
			return p
		}
	}
}

// AccessBatch performs recs as Access performs each, numbered on from the access performed
// last (scheme.BatchAccessor: the driver's fast path). It is scheme.EachAccess written
// out: the generic helper calls Access through its dictionary, which measured 5-8% slower
// here (BenchmarkSchemeVerify, bitmap and undo).
func (c *Controller) AccessBatch(recs []traces.Record) (writes int64) {
	for i := range recs {
		r := &recs[i]
		if r.Kind.Writes() {
			writes++
		}
		c.access(scheme.Access{Addr: r.Addr, Size: r.Size, ASID: r.ASID, Kind: r.Kind, N: c.n + 1})
	}
	return writes
}

// AccessBatchVerify is AccessBatch that calls check after each record's access with the
// stamps of its last page as memory holds them (scheme.VerifyingBatchAccessor).
func (c *Controller) AccessBatchVerify(recs []traces.Record, check func(int, []uint64)) (writes int64) {
	for i := range recs {
		r := &recs[i]
		if r.Kind.Writes() {
			writes++
		}
		p := c.access(scheme.Access{Addr: r.Addr, Size: r.Size, ASID: r.ASID, Kind: r.Kind, N: c.n + 1})
		check(i, p.mem)
	}
	return writes
}

// PageStamps returns the stamps of page n of asid as memory holds them, nil for a page
// never accessed (scheme.StampView: --verify reads and writes them in place).
func (c *Controller) PageStamps(asid traces.ASID, n uint64) []uint64 {
	if p := c.find(asid, n); p != nil {
		return p.mem
	}
	return nil
}

// mark sets granule i's mark (word w, bit) in p.
func (c *Controller) mark(p *page, w uint64, bit uint64) {
	p.marks[w] |= bit
	p.dom.marked++
	if !p.inDirty {
		p.inDirty = true
		p.dom.dirty = append(p.dom.dirty, p)
	}
}

// write handles a write to granule i of p; full: the write covers the whole granule.
func (c *Controller) write(p *page, i, w, bit uint64, full bool) {
	switch c.strat {
	case Bitmap:
		if p.marks[w]&bit == 0 {
			c.mark(p, w, bit)
		}
	case Bitmap2:
		if p.aux[w]&bit != 0 {
			// Not yet copied by the background copy: copy it before the write.
			c.copyOut(p, i)
			p.aux[w] &^= bit
			p.dom.pending--
			c.forced++
			if p.dom.pending == 0 {
				c.dequeue(p.dom)
			}
		}
		if p.marks[w]&bit == 0 {
			c.mark(p, w, bit)
		}
	case BlockState:
		if p.marks[w]&bit == 0 {
			// The first write since the checkpoint goes to the other copy, which becomes
			// the current one; a partial write first copies the checkpoint copy there (a
			// merge).
			p.aux[w] ^= bit
			if c.upg > 0 {
				swapUnits(c.units(p.mem, i), c.units(p.alt, i))
			}
			if !full {
				c.merges++
				c.copied += int64(c.m.Granule)
				if c.upg > 0 && c.dataOp() {
					copy(c.units(p.mem, i), c.units(p.alt, i))
				}
			}
			c.mark(p, w, bit)
		}
	case Undo:
		if p.marks[w]&bit == 0 {
			d := p.dom
			d.log = append(d.log, logEntry{p, uint32(i)})
			if c.upg > 0 {
				n := len(d.logData)
				d.logData = append(d.logData, c.units(p.mem, i)...)
				if !c.dataOp() {
					clear(d.logData[n:])
				}
			}
			c.logged += int64(c.m.Granule)
			c.entries++
			c.live++
			c.livePeak = max(c.livePeak, c.live)
			c.mark(p, w, bit)
		}
	}
}

// copyOut copies granule i of p from memory into the shadow.
func (c *Controller) copyOut(p *page, i uint64) {
	if c.upg > 0 && c.dataOp() {
		copy(c.units(p.alt, i), c.units(p.mem, i))
	}
}

// copyOutAll copies the granules of p marked in bm from memory into the shadow (when
// verifying), runs of consecutive granules in one copy unless a fault is injected.
func (c *Controller) copyOutAll(p *page, bm []uint64) {
	switch {
	case c.upg == 0:
	case c.fault != 0:
		eachBit(bm, func(i uint64) { c.copyOut(p, i) })
	default:
		eachRun(bm, func(lo, hi uint64) { copy(p.alt[lo*c.upg:hi*c.upg], p.mem[lo*c.upg:hi*c.upg]) })
	}
}

// copyInAll restores the granules of p marked in bm from the shadow into memory (when
// verifying), runs of consecutive granules in one copy.
func (c *Controller) copyInAll(p *page, bm []uint64) {
	if c.upg > 0 {
		eachRun(bm, func(lo, hi uint64) { copy(p.mem[lo*c.upg:hi*c.upg], p.alt[lo*c.upg:hi*c.upg]) })
	}
}

// eachRun calls f(lo, hi) for every maximal run of set bits lo..hi-1 of bm, in order.
func eachRun(bm []uint64, f func(lo, hi uint64)) {
	var lo, hi uint64 // the run so far; empty when lo == hi
	for w, x := range bm {
		for x != 0 {
			b := uint64(bits.TrailingZeros64(x))
			n := uint64(bits.TrailingZeros64(^(x >> b))) // ones from bit b
			start := uint64(w)*64 + b
			if lo != hi && start == hi {
				hi += n
			} else {
				if lo != hi {
					f(lo, hi)
				}
				lo, hi = start, start+n
			}
			if b+n == 64 {
				break
			}
			x &^= 1<<(b+n) - 1
		}
	}
	if lo != hi {
		f(lo, hi)
	}
}

// eachBit calls f for every set bit of bm, in granule order.
func eachBit(bm []uint64, f func(i uint64)) {
	for w, x := range bm {
		for x != 0 {
			b := uint64(bits.TrailingZeros64(x))
			x &= x - 1
			f(uint64(w)*64 + b)
		}
	}
}

// advance moves bitmap2's background copier to program access n: it copies at the rate
// of c.rate bytes per access since the last access it saw, c.n (one access when a replay
// restarts the numbering), whole granules at a time, and banks nothing while idle.
func (c *Controller) advance(n int64) {
	var delta uint64
	switch {
	case n > c.n:
		delta = uint64(n - c.n)
	case n < c.n:
		delta = 1
	}
	if delta == 0 || len(c.queue) == 0 {
		return
	}
	c.credit += delta * c.rate
	for c.credit >= c.m.Granule && len(c.queue) > 0 {
		d := c.queue[0]
		p, i := c.nextPending(d)
		c.copyOut(p, i)
		p.aux[i>>6] &^= 1 << (i & 63)
		d.pending--
		c.background += int64(c.m.Granule)
		c.credit -= c.m.Granule
		if d.pending == 0 {
			c.dequeue(d)
		}
	}
}

// dequeue takes d, whose last waiting granule was just copied (by the copier, a forced
// copy or a checkpoint's stall), off the copier's queue; when nothing waits any more the
// copier's credit drops to zero (docs/memctl.md: credit is not banked while nothing
// waits). Precondition: d.pending == 0.
func (c *Controller) dequeue(d *domain) {
	for k, q := range c.queue {
		if q == d {
			c.queue = append(c.queue[:k], c.queue[k+1:]...)
			break
		}
	}
	if len(c.queue) == 0 {
		c.credit = 0
	}
}

// nextPending returns the first granule of d awaiting its background copy.
// Precondition: d.pending > 0.
func (c *Controller) nextPending(d *domain) (*page, uint64) {
	for d.cursor < len(d.pend) {
		p := d.pend[d.cursor]
		for w, x := range p.aux {
			if x != 0 {
				return p, uint64(w)*64 + uint64(bits.TrailingZeros64(x))
			}
		}
		p.inPend = false
		d.cursor++
	}
	panic(fmt.Sprintf("memctl: domain %d has %d pending granules but none in its list", d.id, d.pending))
}

// dom returns domain d. Precondition: d was returned by DomainOf.
func (c *Controller) dom(d scheme.Domain) *domain {
	if int(d) < 0 || int(d) >= len(c.doms) {
		panic(fmt.Sprintf("memctl: unknown domain %d", d))
	}
	return c.doms[d]
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
	G := int64(c.m.Granule)
	switch c.strat {
	case Shadow:
		n := d.touched * G
		c.copied += n
		c.stall += n
		if c.upg > 0 {
			for _, p := range d.pages {
				c.copyOutAll(p, p.touched)
			}
		}
	case ShadowRemote:
		n := d.touched * G
		c.toBackup += n
		c.stall += n
		if c.upg == 0 && c.ownLink {
			c.backup.Received += n
			break
		}
		if c.ownLink && c.fault == 0 {
			// The controller's own backup: the same data as a Send per granule, a run of
			// granules at a time.
			for _, p := range d.pages {
				c.backup.sendPage(p.key.asid, p.key.vpn, p.touched, p.mem)
			}
			break
		}
		per := c.pshift - c.gshift
		for _, p := range d.pages {
			eachBit(p.touched, func(i uint64) {
				var data []uint64
				if c.upg > 0 {
					data = c.units(p.mem, i)
				}
				if c.dataOp() {
					c.link.Send(p.key.asid, p.key.vpn<<per|i, data)
				} else {
					c.backup.Received += G // the fault loses the data, not the count
				}
			})
		}
	case Bitmap:
		n := d.marked * G
		c.copied += n
		c.stall += n
		for _, p := range d.dirty {
			c.copyOutAll(p, p.marks)
		}
		clearMarks(d)
	case Bitmap2:
		// Finish the previous background copy with the program stopped.
		c.stall += d.pending * G
		for _, p := range d.pend[d.cursor:] {
			c.copyOutAll(p, p.aux)
			clear(p.aux)
			p.inPend = false
		}
		d.pend, d.cursor, d.pending = d.pend[:0], 0, 0
		c.dequeue(d)
		// Switch bitmaps: the marked granules become the background copy's.
		for _, p := range d.dirty {
			p.marks, p.aux = p.aux, p.marks
			p.inDirty, p.inPend = false, true
		}
		d.pend, d.dirty = d.dirty, d.pend
		d.pending, d.marked = d.marked, 0
		c.copied += d.pending * G
		if d.pending > 0 {
			c.queue = append(c.queue, d)
		}
	case BlockState:
		c.ckptFlips += d.marked
		clearMarks(d)
	case Undo:
		c.live -= int64(len(d.log))
		clear(d.log) // drop page pointers
		d.log, d.logData = d.log[:0], d.logData[:0]
		clearMarks(d)
	}
}

// Rollback returns domain d to its last checkpoint.
func (c *Controller) Rollback(id scheme.Domain) {
	d := c.dom(id)
	G := int64(c.m.Granule)
	switch c.strat {
	case Shadow:
		c.recovery += d.touched * G
		if c.upg > 0 {
			for _, p := range d.pages {
				c.copyInAll(p, p.touched)
			}
		}
	case ShadowRemote:
		c.restoreFromBackup(d)
	case Bitmap, Bitmap2:
		// bitmap2: a granule still awaiting its background copy was not written since the
		// checkpoint (a write would have copied it first): memory holds its checkpoint
		// value, and its copy goes on.
		c.recovery += d.marked * G
		for _, p := range d.dirty {
			c.copyInAll(p, p.marks)
		}
		clearMarks(d)
	case BlockState:
		// Each granule written since the checkpoint flips back to its checkpoint copy.
		for _, p := range d.dirty {
			if c.fault == 0 {
				for w, x := range p.marks {
					p.aux[w] ^= x
				}
				if c.upg > 0 {
					eachRun(p.marks, func(lo, hi uint64) {
						swapUnits(p.mem[lo*c.upg:hi*c.upg], p.alt[lo*c.upg:hi*c.upg])
					})
				}
				continue
			}
			eachBit(p.marks, func(i uint64) {
				if c.dataOp() {
					p.aux[i>>6] ^= 1 << (i & 63)
					if c.upg > 0 {
						swapUnits(c.units(p.mem, i), c.units(p.alt, i))
					}
				}
			})
		}
		c.rollFlips += d.marked
		clearMarks(d)
	case Undo:
		c.recovery += int64(len(d.log)) * G
		if c.upg > 0 {
			for k := len(d.log) - 1; k >= 0; k-- {
				e := d.log[k]
				copy(c.units(e.p.mem, uint64(e.g)), d.logData[uint64(k)*c.upg:uint64(k+1)*c.upg])
			}
		}
		c.live -= int64(len(d.log))
		clear(d.log)
		d.log, d.logData = d.log[:0], d.logData[:0]
		clearMarks(d)
	}
}

// restoreFromBackup copies every touched granule of d back from the backup.
func (c *Controller) restoreFromBackup(d *domain) {
	c.recovery += d.touched * int64(c.m.Granule)
	if c.upg == 0 {
		return
	}
	per := c.pshift - c.gshift
	for _, p := range d.pages {
		eachBit(p.touched, func(i uint64) {
			c.backup.Receive(p.key.asid, p.key.vpn<<per|i, c.units(p.mem, i))
		})
	}
}

// Crash loses volatile memory and recovers every domain from the backup.
// Precondition: the strategy is shadow-remote (the others keep their shadow, second
// copies or log in the memory a crash loses).
func (c *Controller) Crash() {
	if c.strat != ShadowRemote {
		panic(fmt.Sprintf("memctl: Crash on strategy %s, which cannot recover a crash of volatile memory", c.strat))
	}
	for _, d := range c.doms {
		if c.upg > 0 {
			for _, p := range d.pages {
				clear(p.mem) // lost
			}
		}
		c.restoreFromBackup(d)
	}
}

// swapUnits exchanges the stamps of a and b, of equal length.
func swapUnits(a, b []uint64) {
	for i := range a {
		a[i], b[i] = b[i], a[i]
	}
}

// Load copies into dst the stamps of blocks first.. of asid as memory holds them now.
func (c *Controller) Load(asid traces.ASID, first uint64, dst []uint64) {
	for k := 0; k < len(dst); {
		b := first + uint64(k)
		u := b & (c.upp - 1)
		n := min(len(dst)-k, int(c.upp-u)) // blocks left in this page
		p := c.find(asid, b>>(c.pshift-c.ushift))
		if p == nil {
			clear(dst[k : k+n])
		} else {
			copy(dst[k:k+n], p.mem[u:])
		}
		k += n
	}
}

// Store writes src into blocks first.. of asid: the data of the write just performed.
func (c *Controller) Store(asid traces.ASID, first uint64, src []uint64) {
	for k := 0; k < len(src); {
		b := first + uint64(k)
		u := b & (c.upp - 1)
		n := min(len(src)-k, int(c.upp-u))
		p := c.find(asid, b>>(c.pshift-c.ushift))
		if p == nil {
			panic(fmt.Sprintf("memctl: Store to page (%d, %#x) never accessed", asid, b>>(c.pshift-c.ushift)))
		}
		copy(p.mem[u:], src[k:k+n])
		k += n
	}
}

// Own counter indices, per strategy (the order of Info.Counters).
func (c *Controller) own() []int64 {
	G := int64(c.m.Granule)
	switch c.strat {
	case Shadow, ShadowRemote:
		return []int64{c.touchedAll}
	case Bitmap2:
		var pending int64
		for _, d := range c.doms {
			pending += d.pending
		}
		return []int64{c.background, c.forced, c.forced * G, pending * G}
	case BlockState:
		return []int64{c.ckptFlips, c.rollFlips, c.merges}
	case Undo:
		return []int64{c.entries, c.livePeak * G}
	}
	return nil
}

// logIndexBytes is the size of one undo log entry's index: the granule's address.
const logIndexBytes = 8

// Counters adds the controller's counts to k.
func (c *Controller) Counters(k *scheme.Counters) {
	G := int64(c.m.Granule)
	k.PagesTouched += int64(len(c.pages))
	k.PagesWritten += c.pagesWritten
	k.BytesCopied += c.copied
	k.BytesLogged += c.logged
	k.BytesToBackup += c.toBackup
	k.CheckpointStallBytes += c.stall
	k.RecoveryBytes += c.recovery
	if c.strat == Undo {
		k.MemOverheadPeakBytes += c.livePeak * (G + logIndexBytes)
	} else {
		k.MemOverheadPeakBytes += c.touchedAll * G
	}
	for i, v := range c.own() {
		if i < len(k.Own) {
			k.Own[i] += v
		}
	}
}

// Err returns the sticky error (too many pages), or nil.
func (c *Controller) Err() error { return c.err }

func popcount(bm []uint64) (n int64) {
	for _, x := range bm {
		n += int64(bits.OnesCount64(x))
	}
	return n
}

// Check verifies the controller's invariants from scratch.
func (c *Controller) Check() error {
	if err := c.index.Check(); err != nil {
		return err
	}
	if len(c.pages) != c.index.Len() {
		return fmt.Errorf("%d pages for %d page numbers", len(c.pages), c.index.Len())
	}
	var written int64
	for id, p := range c.pages {
		if k := c.index.Key(int32(id)); k.ASID != p.key.asid || k.N != p.key.vpn {
			return fmt.Errorf("page number %d is %+v but holds page %v", id, k, p.key)
		}
		if p.written {
			written++
		}
	}
	if written != c.pagesWritten {
		return fmt.Errorf("%d pages written, counted as %d", written, c.pagesWritten)
	}
	var all int64
	for di, d := range c.doms {
		if d.id != scheme.Domain(di) {
			return fmt.Errorf("domain %d has id %d", di, d.id)
		}
		var touched, marked, pending, dirty, pend int64
		for _, p := range d.pages {
			if id := c.index.Find(scheme.Page{ASID: p.key.asid, N: p.key.vpn}); p.dom != d || id < 0 || c.pages[id] != p {
				return fmt.Errorf("page %v is listed in domain %d but not its own", p.key, d.id)
			}
			touched += popcount(p.touched)
			for w := range p.touched {
				if p.marks != nil && p.marks[w]&^p.touched[w] != 0 {
					return fmt.Errorf("page %v: a granule marked but never touched", p.key)
				}
				if c.strat == Bitmap2 && (p.aux[w]&^p.touched[w] != 0 || p.aux[w]&p.marks[w] != 0) {
					return fmt.Errorf("page %v: a granule awaiting its copy is untouched or written since the checkpoint", p.key)
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
			if c.strat == Bitmap2 {
				n := popcount(p.aux)
				pending += n
				if n > 0 && !p.inPend {
					return fmt.Errorf("page %v awaits copies but is not on its domain's copy list", p.key)
				}
				if p.inPend {
					pend++
				}
			}
			if c.upg > 0 && p.alt != nil && (c.strat == Bitmap || c.strat == Bitmap2) {
				// The shadow equals memory wherever nothing was written since the copy.
				for i := uint64(0); i < c.gpp; i++ {
					w, bit := i>>6, uint64(1)<<(i&63)
					if p.marks[w]&bit != 0 || p.aux != nil && p.aux[w]&bit != 0 || c.fault != 0 {
						continue
					}
					for u := i * c.upg; u < (i+1)*c.upg; u++ {
						if p.mem[u] != p.alt[u] {
							return fmt.Errorf("page %v granule %d: shadow differs from memory though not written since the checkpoint", p.key, i)
						}
					}
				}
			}
		}
		if touched != d.touched {
			return fmt.Errorf("domain %d: %d granules touched, counted %d", d.id, touched, d.touched)
		}
		all += touched
		if marked != d.marked || dirty != int64(len(d.dirty)) {
			return fmt.Errorf("domain %d: %d marks on %d dirty pages, counted %d on %d", d.id, marked, dirty, d.marked, len(d.dirty))
		}
		if c.strat == Bitmap2 {
			if pending != d.pending || pend != int64(len(d.pend)-d.cursor) {
				return fmt.Errorf("domain %d: %d granules await copy on %d pages, counted %d on %d", d.id, pending, pend, d.pending, len(d.pend)-d.cursor)
			}
			queued := 0
			for _, q := range c.queue {
				if q == d {
					queued++
				}
			}
			if d.pending > 0 && queued != 1 || d.pending == 0 && queued != 0 {
				return fmt.Errorf("domain %d awaits %d copies but is queued %d times", d.id, d.pending, queued)
			}
		}
		if c.strat == Undo {
			if int64(len(d.log)) != d.marked {
				return fmt.Errorf("domain %d: %d log entries for %d logged granules", d.id, len(d.log), d.marked)
			}
			if c.upg > 0 && uint64(len(d.logData)) != uint64(len(d.log))*c.upg {
				return fmt.Errorf("domain %d: log data of %d stamps for %d entries", d.id, len(d.logData), len(d.log))
			}
			for _, e := range d.log {
				if e.p.dom != d || e.p.marks[e.g>>6]&(1<<(e.g&63)) == 0 {
					return fmt.Errorf("domain %d: log entry for an unmarked granule", d.id)
				}
			}
		}
	}
	if c.strat == Bitmap2 && (c.credit >= c.m.Granule || len(c.queue) == 0 && c.credit != 0) {
		return fmt.Errorf("the copier holds %d bytes of credit with %d domains waiting (want less than a granule, and none while nothing waits)", c.credit, len(c.queue))
	}
	if all != c.touchedAll {
		return fmt.Errorf("%d granules touched, counted %d", all, c.touchedAll)
	}
	if c.strat == Undo {
		var live int64
		for _, d := range c.doms {
			live += int64(len(d.log))
		}
		if live != c.live || c.live > c.livePeak {
			return fmt.Errorf("%d live log entries, counted %d (peak %d)", live, c.live, c.livePeak)
		}
	}
	if c.strat == ShadowRemote && c.ownLink && c.backup.Received != c.toBackup {
		return fmt.Errorf("the backup received %d bytes, %d sent", c.backup.Received, c.toBackup)
	}
	return nil
}
