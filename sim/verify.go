package sim

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// verifier is the verification room (--verify, docs/verification.md): the golden model,
// and the checks of the scheme's memory against it. Every access goes through access (a
// run's through verifyFn, the scheme.Run hook); every recovery ends with afterRecovery.
//
// Invariant: golden != nil; blockShift+perPage is log2 of the page size, and img's
// perPage is perPage; mem is nil unless a memory-level scheme sits behind a cache; 0 <=
// mismatches <= checks, and first is empty iff mismatches == 0.
type verifier struct {
	golden *golden
	// img is the scheme's memory, through scheme.Scheme.Image.
	img image
	// mem is the cache in front of the scheme, when a memory-level scheme sits behind one
	// (the program reads and writes through it), else nil.
	mem        *hierarchy
	blockShift uint
	// perPage is log2 blocks a page.
	perPage uint
	stamps  []uint64 // scratch

	// verifyFn is the scheme.Run hook, made once: it checks access i of run, the run being
	// performed (perform), whose first access follows access base.
	verifyFn func(i int)
	run      []traces.Record
	base     int64

	checks, mismatches int64
	first              string // the first mismatch
}

// newVerifier returns the verifier of scheme s, behind the cache of mem if any, for pages
// of 2^pageShift bytes and blocks of 2^blockShift; dom gives the golden model the domain
// of an address space.
func newVerifier(s scheme.Scheme, mem *hierarchy, pageShift, blockShift uint, dom func(traces.ASID) int) *verifier {
	v := &verifier{
		golden:     newGolden(1<<(pageShift-blockShift), dom),
		img:        image{s: s, perPage: pageShift - blockShift},
		blockShift: blockShift,
		perPage:    pageShift - blockShift,
	}
	if mem != nil && mem.behind {
		v.mem = mem
	}
	v.verifyFn = func(i int) {
		// The scheme calls it with the cache, if any, alongside (v.mem is nil): access's
		// inImage, with the common case, a read of one block, here in the hook's own body
		// (a call less an access, and the golden model's cache of recent pages probed
		// without one).
		rec := &v.run[i]
		shift := v.blockShift & 63
		lo, hi := rec.Addr>>shift, (rec.Addr+uint64(rec.Size)-1)>>shift
		if lo != hi || rec.Kind.Writes() {
			v.inImage(rec, v.base+int64(i)+1, lo, hi)
			return
		}
		b := lo & (1<<(v.perPage&63) - 1)
		var got, want uint64
		gm, ok := v.golden.cached(rec.ASID, lo)
		if !ok {
			gm = v.golden.mem(rec.ASID, lo)
		}
		if gm != nil {
			want = gm[b]
		}
		if st := v.img.s.Image(rec.ASID, lo>>(v.perPage&63), false); st != nil {
			got = st[b]
		}
		v.checks++
		if got != want {
			v.readMismatch(rec, v.base+int64(i)+1, lo, got, want)
		}
	}
	return v
}

// access checks the blocks rec, access idx just performed, reads against the golden
// model, then stores rec's stamp into the blocks it writes, in the scheme's memory (or the
// cache in front of it) and in the golden model. It is the one verification path: page by
// page in the scheme's page images, in place (Image: inImage, as the scheme.Run hook,
// verifyFn, does), or block by block through the cache in front of a memory-level scheme.
func (v *verifier) access(rec *traces.Record, idx int64) {
	lo, hi := rec.Addr>>v.blockShift, (rec.Addr+uint64(rec.Size)-1)>>v.blockShift
	if v.mem != nil {
		v.throughCache(rec, idx, lo, hi)
		return
	}
	v.inImage(rec, idx, lo, hi)
}

// inImage is access in the scheme's page images: rec, access idx, covers blocks lo to hi.
func (v *verifier) inImage(rec *traces.Record, idx int64, lo, hi uint64) {
	mask := uint64(1)<<v.perPage - 1
	for page := lo >> v.perPage; ; page++ {
		from, to := max(lo, page<<v.perPage), min(hi, page<<v.perPage|mask)
		st := v.img.s.Image(rec.ASID, page, false)
		if rec.Kind != traces.Write {
			gm := v.golden.mem(rec.ASID, from)
			for b := from; b <= to; b++ {
				var got, want uint64
				if st != nil {
					got = st[b&mask]
				}
				if gm != nil {
					want = gm[b&mask]
				}
				v.checks++
				if got != want {
					v.readMismatch(rec, idx, b, got, want)
				}
			}
		}
		if rec.Kind.Writes() {
			gp, gid := v.golden.page(rec.ASID, from, true)
			if st == nil {
				// The scheme holds no version of the page yet: the write makes one.
				st = v.img.s.Image(rec.ASID, page, true)
			}
			for b := from; b <= to; b++ {
				v.golden.writeAt(gp, gid, b&mask, uint64(idx))
				st[b&mask] = uint64(idx)
			}
		}
		if page == hi>>v.perPage {
			return
		}
	}
}

// throughCache is access for a memory-level scheme behind a cache: blocks are read and
// written as the program does, in the cache where it holds their line, else in the
// scheme's memory.
func (v *verifier) throughCache(rec *traces.Record, idx int64, lo, hi uint64) {
	st := v.scratch(int(hi - lo + 1))
	if rec.Kind != traces.Write {
		v.mem.load(rec.ASID, lo, st)
		for i, got := range st {
			b := lo + uint64(i)
			v.checks++
			if want := v.golden.read(rec.ASID, b); got != want {
				v.readMismatch(rec, idx, b, got, want)
			}
		}
	}
	if rec.Kind.Writes() {
		for i := range st {
			st[i] = uint64(idx)
			v.golden.write(rec.ASID, lo+uint64(i), uint64(idx))
		}
		v.mem.store(rec.ASID, lo, st)
	}
}

// readMismatch counts a mismatch in block b that access idx, rec, reads: the scheme's
// stamp is got, the golden model's want.
func (v *verifier) readMismatch(rec *traces.Record, idx int64, b, got, want uint64) {
	v.mismatch(fmt.Sprintf("access %d (%s of %#x, asid %d): block %#x holds the value of access %d, want %d",
		idx, rec.Kind, rec.Addr, rec.ASID, b<<v.blockShift, got, want))
}

// afterRecovery compares every block the golden model knows (written at least once) with
// the scheme's memory, loading a page at a time, after the failure at access refs.
func (v *verifier) afterRecovery(refs int64) {
	type bad struct {
		asid      traces.ASID
		block     uint64
		got, want uint64
	}
	var bads []bad
	g := v.golden
	buf := make([]uint64, g.blocks)
	for i := range g.pages {
		p := &g.pages[i]
		first := p.key.vpn << g.pageShift
		got := buf
		if v.mem == nil {
			// The scheme's stamps in place; a page with no version reads as zeros.
			if got = v.img.s.Image(p.key.asid, p.key.vpn, false); got == nil {
				clear(buf)
				got = buf
			}
		} else {
			v.mem.load(p.key.asid, first, got)
		}
		for b, want := range p.mem {
			if !p.known[b] {
				continue
			}
			v.checks++
			if got[b] != want {
				bads = append(bads, bad{p.key.asid, first + uint64(b), got[b], want})
			}
		}
	}
	sort.Slice(bads, func(i, j int) bool {
		a, b := bads[i], bads[j]
		return a.asid < b.asid || a.asid == b.asid && a.block < b.block
	})
	for _, b := range bads {
		v.mismatch(fmt.Sprintf("after the failure at access %d: block %#x (asid %d) holds the value of access %d, want %d",
			refs, b.block<<v.blockShift, b.asid, b.got, b.want))
	}
}

// Load copies into dst the stamps of len(dst) consecutive blocks of m.VerifyBlock bytes,
// from block first of asid, as scheme s (built for machine m, with VerifyBlock set) holds
// them now, reading its page images (scheme.Scheme.Image): the driver's load, for a test
// that drives a scheme by hand. Blocks of a page with no version read 0.
func Load(s scheme.Scheme, m scheme.Machine, asid traces.ASID, first uint64, dst []uint64) {
	imageOf(s, m).load(asid, first, dst)
}

// Store writes src into len(src) consecutive blocks from block first of asid of scheme s
// (built for machine m, with VerifyBlock set), writing its page images, as the driver
// does after a write access. Precondition: an access just performed wrote those blocks.
func Store(s scheme.Scheme, m scheme.Machine, asid traces.ASID, first uint64, src []uint64) {
	imageOf(s, m).store(asid, first, src)
}

func imageOf(s scheme.Scheme, m scheme.Machine) image {
	return image{s: s, perPage: uint(bits.TrailingZeros64(m.PageSize / m.VerifyBlock))}
}

// image is Load and Store built once on a scheme's page images (scheme.Scheme.Image), for
// the verifier and the memory behind the cache: blocks of Machine.VerifyBlock bytes
// numbered from 0 at address 0, 2^perPage of them a page.
type image struct {
	s       scheme.Scheme
	perPage uint
}

// load copies into dst the stamps of len(dst) consecutive blocks from block first of
// asid, as the scheme's memory holds them now (0 in a page with no version). It has no
// side effects.
func (m image) load(asid traces.ASID, first uint64, dst []uint64) {
	mask := uint64(1)<<m.perPage - 1
	for i := 0; i < len(dst); {
		b := first + uint64(i)
		n := min(len(dst)-i, int(mask+1-b&mask)) // blocks left in this page
		if st := m.s.Image(asid, b>>m.perPage, false); st != nil {
			copy(dst[i:i+n], st[b&mask:])
		} else {
			clear(dst[i : i+n])
		}
		i += n
	}
}

// store writes src into len(src) consecutive blocks from block first of asid.
// Precondition: an access just passed to the scheme wrote them (Image's create).
func (m image) store(asid traces.ASID, first uint64, src []uint64) {
	mask := uint64(1)<<m.perPage - 1
	for i := 0; i < len(src); {
		b := first + uint64(i)
		n := min(len(src)-i, int(mask+1-b&mask))
		copy(m.s.Image(asid, b>>m.perPage, true)[b&mask:], src[i:i+n])
		i += n
	}
}

// scratch returns n blocks of scratch space.
func (v *verifier) scratch(n int) []uint64 {
	if cap(v.stamps) < n {
		v.stamps = make([]uint64, n)
	}
	return v.stamps[:n]
}

func (v *verifier) mismatch(msg string) {
	v.mismatches++
	if v.first == "" {
		v.first = msg
	}
}

// Check verifies the invariants from scratch, the golden model's included.
func (v *verifier) Check() error {
	switch {
	case v.golden == nil:
		return fmt.Errorf("no golden model")
	case uint64(1)<<v.perPage != v.golden.blocks:
		return fmt.Errorf("2^%d blocks a page, the golden model's pages hold %d", v.perPage, v.golden.blocks)
	case v.img.perPage != v.perPage || v.img.s == nil:
		return fmt.Errorf("page images of 2^%d blocks, pages of 2^%d", v.img.perPage, v.perPage)
	case v.mem != nil && !v.mem.behind:
		return fmt.Errorf("reads through a cache with no scheme behind it")
	case v.mismatches < 0 || v.mismatches > v.checks:
		return fmt.Errorf("%d mismatches in %d checks", v.mismatches, v.checks)
	case (v.first == "") != (v.mismatches == 0):
		return fmt.Errorf("%d mismatches, the first %q", v.mismatches, v.first)
	}
	if err := v.golden.Check(); err != nil {
		return fmt.Errorf("golden model: %w", err)
	}
	return nil
}
