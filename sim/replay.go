package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/vmsim/vmsim/traces"
)

// bufRec is a buffered record: an access, with its number, or an I/O record, with the
// number of the access it follows.
type bufRec struct {
	rec traces.Record
	idx int64
}

// replayBuffer is the replay room's store: the records a replay after a failure may need,
// so that it need not re-read the trace. It holds every access numbered in (base, the
// access performed last], and the I/O records among them that follow access ioFrom or a
// later one. When full it is emptied, not a ring (D18).
//
// Invariant: base == math.MaxInt64 (off: no failures in the run) and recs is empty, or
// base >= 0, ioFrom >= base and the accesses of recs are numbered base+1, base+2, ... in
// order, at most limit of them; every I/O record's idx is that of the access before it in
// recs (base for one before them all) and at least ioFrom; recs holds nothing else.
type replayBuffer struct {
	recs   []bufRec
	base   int64
	ioFrom int64
	limit  int
}

// newReplayBuffer returns an empty buffer of limit accesses (0: the default).
func newReplayBuffer(limit int) replayBuffer {
	if limit <= 0 {
		limit = defaultReplayBuffer
	}
	return replayBuffer{limit: limit}
}

// on reports whether the buffer keeps records (the run has failures).
func (b *replayBuffer) on() bool { return b.base != math.MaxInt64 }

// add appends access idx. Precondition: on(); idx is the access after the last one added.
func (b *replayBuffer) add(rec traces.Record, idx int64) {
	if len(b.recs) >= b.limit {
		b.recs = b.recs[:0]
		b.base, b.ioFrom = idx-1, idx
	}
	b.recs = append(b.recs, bufRec{rec, idx})
}

// addRun appends the accesses of run, numbered on from after. Precondition: as add's.
// It is add, record by record, without its check at each (for a run of one, add is
// cheaper: it inlines).
func (b *replayBuffer) addRun(run []traces.Record, after int64) {
	for len(run) > 0 {
		if len(b.recs) >= b.limit {
			b.recs = b.recs[:0]
			b.base, b.ioFrom = after, after+1
		}
		k := min(len(run), b.limit-len(b.recs))
		at := len(b.recs)
		b.recs = slices.Grow(b.recs, k)[:at+k]
		dst, src := b.recs[at:], run[:k]
		src = src[:len(dst)] // (no bounds check in the loop)
		for i := range dst {
			// Field by field: a bufRec built whole goes through the stack.
			dst[i].rec = src[i]
			dst[i].idx = after + int64(i) + 1
		}
		run, after = run[k:], after+int64(k)
	}
}

// addIO appends an I/O record that follows access idx. Precondition: on(); idx is the
// access added last.
func (b *replayBuffer) addIO(rec traces.Record, idx int64) {
	b.recs = append(b.recs, bufRec{rec, idx})
}

// trim drops what no domain can need to replay any more, every domain's last checkpoint
// being at access base or later: the accesses up to base and the I/O records before it.
func (b *replayBuffer) trim(base int64) {
	if !b.on() || base <= b.base {
		return
	}
	// Keep the accesses after base and the I/O records that follow access base or later.
	k := sort.Search(len(b.recs), func(i int) bool {
		x := &b.recs[i]
		return x.idx > base || x.idx == base && x.rec.Kind.IsIO()
	})
	b.recs = append(b.recs[:0], b.recs[k:]...)
	b.base, b.ioFrom = base, max(b.ioFrom, base)
}

// holds reports whether the buffer holds everything a replay from access from needs: the
// accesses after it, and the I/O records that follow it when the trace has any (sawIO).
func (b *replayBuffer) holds(from int64, sawIO bool) bool {
	return from >= b.base && (!sawIO || from >= b.ioFrom)
}

// accesses returns how many accesses the buffer holds.
func (b *replayBuffer) accesses() int64 {
	var n int64
	for i := range b.recs {
		if b.recs[i].rec.Kind.IsAccess() {
			n++
		}
	}
	return n
}

// Check verifies the invariants from scratch.
func (b *replayBuffer) Check() error {
	if !b.on() {
		if len(b.recs) > 0 {
			return fmt.Errorf("%d records buffered in a run without failures", len(b.recs))
		}
		return nil
	}
	if b.base < 0 || b.ioFrom < b.base {
		return fmt.Errorf("accesses after access %d, I/O records after access %d", b.base, b.ioFrom)
	}
	last := b.base
	for i, x := range b.recs {
		switch {
		case x.rec.Kind.IsAccess():
			if x.idx != last+1 {
				return fmt.Errorf("record %d is access %d, want access %d", i, x.idx, last+1)
			}
			last = x.idx
		case x.rec.Kind.IsIO():
			if x.idx != last || x.idx < b.ioFrom {
				return fmt.Errorf("record %d, an I/O record, follows access %d, want access %d (and I/O records from access %d on)", i, x.idx, last, b.ioFrom)
			}
		default:
			return fmt.Errorf("record %d is a %s record", i, x.rec.Kind)
		}
	}
	if last-b.base > int64(b.limit) {
		return fmt.Errorf("%d accesses buffered, more than the %d it holds", last-b.base, b.limit)
	}
	return nil
}

// replay executes again, in trace order, every access numbered up to upTo of the
// affected domains made since each one's last checkpoint, and the I/O records among them:
// those that come after the domain's last checkpoint (after access lastCkpt, less the
// first ckptIO of those, which came before it) and before the failure (after access upTo,
// only the first upToIO, which came before it). It reads them from the replay buffer
// when it holds them all, else from the trace.
func (r *runner) replay(affected []*domain, upTo, upToIO int64) error {
	r.replaying = true
	defer func() { r.replaying = false }()
	from := int64(math.MaxInt64)
	in := map[*domain]bool{}
	for _, d := range affected {
		from = min(from, d.lastCkpt)
		in[d] = true
	}
	// k is the number of the I/O record among those that follow access kAt (from 0).
	// Both sources below hand out every I/O record after an access they start from.
	kAt, k := int64(-1), int64(0)
	step := func(rec traces.Record, idx int64) bool {
		if rec.Kind.IsIO() {
			if idx != kAt {
				kAt, k = idx, 0
			}
			k++
			if idx > upTo || idx == upTo && k > upToIO {
				return false // it comes after the failure
			}
			if d := r.doms.of(rec.ASID); in[d] && (idx > d.lastCkpt || idx == d.lastCkpt && k > d.ckptIO) {
				r.io.perform(rec, idx, d, true)
				if r.check {
					r.checkNow("replayed I/O record", idx)
				}
			}
			return true
		}
		if idx > upTo {
			return false
		}
		if d := r.doms.of(rec.ASID); in[d] && idx > d.lastCkpt {
			r.n.replayed++
			r.apply(rec, idx)
			if r.check {
				r.checkNow("replayed access", idx)
			}
		}
		return true
	}
	if r.buf.holds(from, r.io.sawIO) {
		for _, b := range r.buf.recs {
			if !step(b.rec, b.idx) {
				break
			}
		}
		return r.err
	}
	n, err := eachRecordAfter(r.open, from, r.io.sawIO, func(rec traces.Record, idx int64) bool {
		if !rec.Kind.IsIO() && idx <= from {
			return true
		}
		return step(rec, idx)
	})
	if err != nil {
		return fmt.Errorf("replaying after the failure at access %d: %w", upTo, err)
	}
	if n < upTo {
		return fmt.Errorf("replaying after the failure at access %d: %w", upTo, errTraceChanged)
	}
	return r.err
}
