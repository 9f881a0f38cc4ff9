package sim

import (
	"fmt"
	"sort"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// verifier is the verification room (--verify, docs/verification.md): the golden model,
// and the checks of the scheme's memory against it. Every access goes through access (or,
// on the fast path, batched); every recovery ends with afterRecovery.
//
// Invariant: golden != nil; blockShift+perPage is log2 of the page size; view is nil
// behind a cache (mem != nil && mem.behind); 0 <= mismatches <= checks, and first is
// empty iff mismatches == 0.
type verifier struct {
	golden *golden
	scheme scheme.Scheme
	// mem is the cache in front of the scheme, when a memory-level scheme sits behind one
	// (the program reads and writes through it), else nil.
	mem        *hierarchy
	blockShift uint
	// perPage is log2 blocks a page.
	perPage uint
	// view is the scheme as a scheme.StampView when the checks may use it (no cache in
	// front of it), else nil.
	view   scheme.StampView
	stamps []uint64 // scratch

	// batchedFn is batched as a func value, made once; run is the run of records being
	// performed by the fast path (scheme.VerifyingBatchAccessor) and base the number of
	// the access before it.
	batchedFn func(int, []uint64)
	run       []traces.Record
	base      int64

	checks, mismatches int64
	first              string // the first mismatch
}

// newVerifier returns the verifier of scheme s, behind the cache of mem if any, for pages
// of 2^pageShift bytes and blocks of 2^blockShift; dom gives the golden model the domain
// of an address space.
func newVerifier(s scheme.Scheme, mem *hierarchy, pageShift, blockShift uint, dom func(traces.ASID) int) *verifier {
	v := &verifier{
		golden:     newGolden(1<<(pageShift-blockShift), dom),
		scheme:     s,
		blockShift: blockShift,
		perPage:    pageShift - blockShift,
	}
	if mem != nil && mem.behind {
		v.mem = mem
	} else {
		v.view, _ = s.(scheme.StampView)
	}
	v.batchedFn = v.batched
	return v
}

// access checks the blocks rec reads against the golden model, then stores rec's stamp
// into the blocks it writes, in the scheme (or the cache in front of it) and in the golden
// model.
func (v *verifier) access(rec traces.Record, idx int64) {
	lo, hi := rec.Addr>>v.blockShift, (rec.Addr+uint64(rec.Size)-1)>>v.blockShift
	if v.view != nil && lo>>v.perPage == hi>>v.perPage {
		v.inPage(&rec, idx, lo, hi, v.view.PageStamps(rec.ASID, lo>>v.perPage))
		return
	}
	st := v.scratch(int(hi - lo + 1))
	if rec.Kind != traces.Write {
		v.load(rec.ASID, lo, st)
		for i, got := range st {
			b := lo + uint64(i)
			v.checks++
			if want := v.golden.read(rec.ASID, b); got != want {
				v.readMismatch(&rec, idx, b, got, want)
			}
		}
	}
	if rec.Kind.Writes() {
		for i := range st {
			st[i] = uint64(idx)
			v.golden.write(rec.ASID, lo+uint64(i), uint64(idx))
		}
		v.store(rec.ASID, lo, st)
	}
}

// inPage is access for an access within one page, given the stamps the scheme holds for
// that page (nil: no version): the same checks and writes, on the scheme's and the golden
// model's stamps in place.
func (v *verifier) inPage(rec *traces.Record, idx int64, lo, hi uint64, st []uint64) {
	mask := uint64(1)<<v.perPage - 1
	if rec.Kind != traces.Write {
		gm := v.golden.mem(rec.ASID, lo)
		for b := lo; b <= hi; b++ {
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
		gp, gid := v.golden.page(rec.ASID, lo, true)
		for b := lo; b <= hi; b++ {
			v.golden.writeAt(gp, gid, b&mask, uint64(idx))
		}
		if st == nil {
			// The scheme holds no version of the page yet: Store makes one.
			src := v.scratch(int(hi - lo + 1))
			for i := range src {
				src[i] = uint64(idx)
			}
			v.scheme.Store(rec.ASID, lo, src)
			return
		}
		for b := lo; b <= hi; b++ {
			st[b&mask] = uint64(idx)
		}
	}
}

// batched checks access k of the run being performed by AccessBatchVerify, given the
// stamps of its last page: in place when the access lies in that page, else through Load
// and Store.
func (v *verifier) batched(k int, stamps []uint64) {
	rec := &v.run[k]
	lo, hi := rec.Addr>>v.blockShift, (rec.Addr+uint64(rec.Size)-1)>>v.blockShift
	if lo == hi && !rec.Kind.Writes() {
		// The common case, a read of one block, checked here.
		var got, want uint64
		if stamps != nil {
			got = stamps[lo&(1<<v.perPage-1)]
		}
		if gm := v.golden.mem(rec.ASID, lo); gm != nil {
			want = gm[lo&(1<<v.perPage-1)]
		}
		if got == want {
			v.checks++
			return
		}
		// A mismatch: inPage counts and describes it.
	}
	idx := v.base + int64(k) + 1
	if lo>>v.perPage != hi>>v.perPage {
		v.access(*rec, idx)
		return
	}
	v.inPage(rec, idx, lo, hi, stamps)
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
		if v.view != nil {
			// The scheme's stamps in place; a page with no version reads as zeros.
			if got = v.view.PageStamps(p.key.asid, p.key.vpn); got == nil {
				clear(buf)
				got = buf
			}
		} else {
			v.load(p.key.asid, first, got)
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

// load reads blocks as the program sees them: through the cache where a memory-level
// scheme sits behind one, else from the scheme.
func (v *verifier) load(asid traces.ASID, first uint64, dst []uint64) {
	if v.mem != nil {
		v.mem.load(asid, first, dst)
		return
	}
	v.scheme.Load(asid, first, dst)
}

// store writes blocks as the program does: through the cache where a memory-level scheme
// sits behind one, else into the scheme.
func (v *verifier) store(asid traces.ASID, first uint64, src []uint64) {
	if v.mem != nil {
		v.mem.store(asid, first, src)
		return
	}
	v.scheme.Store(asid, first, src)
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
	case v.view != nil && v.mem != nil:
		return fmt.Errorf("stamps read in place behind a cache")
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
