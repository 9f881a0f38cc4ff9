package coord

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/record"
)

// This file is the verification (--verify, docs/coordinated.md "Verification"): a golden
// model of every block's value written apart from the schemes, checked on every read,
// and the orphan check after every rollback. Values are stamps: a block holds the number
// of the access that wrote it last (0: never written); a replayed write writes its
// access's number again.

// blockKey is a block of VerifyBlock bytes of an address space.
type blockKey struct {
	asid record.ASID
	n    uint64
}

// gwrite is one write of a block in the golden history: the access and its core.
type gwrite struct {
	n    int64
	core int
}

// maxDescribed is how many disagreements the error describes.
const maxDescribed = 5

// verifier is the golden model and the orphan check.
//
// Invariant: hist[b] lists the writes of block b in the order they were made, the last
// its current value, with every write some rolled-back core could still lose (made after
// its core's checkpoint) and at least one write before them if there was one; entries
// counts them all. readFrom[c][p] is the latest access of core p whose value core c has
// read (0: none), and readSnap[c] was readFrom[c] at c's last checkpoint.
type verifier struct {
	e        *engine
	bshift   uint
	perLine  uint // log2 of blocks per line
	hist     map[blockKey][]gwrite
	entries  int
	readFrom [][]int64
	readSnap [][]int64
	problems []string
}

func newVerifier(e *engine, block uint64) *verifier {
	v := &verifier{e: e, bshift: uint(bits.TrailingZeros64(block)), hist: map[blockKey][]gwrite{}}
	v.perLine = e.shift - v.bshift
	for range e.cfg.Cores {
		v.readFrom = append(v.readFrom, make([]int64, e.cfg.Cores))
		v.readSnap = append(v.readSnap, make([]int64, e.cfg.Cores))
	}
	return v
}

func (v *verifier) problem(format string, a ...any) {
	if len(v.problems) < maxDescribed {
		v.problems = append(v.problems, fmt.Sprintf(format, a...))
	}
}

// line checks the reads and records the writes of access r (number n, of core) in line
// l, just referenced: a read (or a modify's read) compares each block's value in core's
// copy with the golden one; a write stamps n into the copy and the history.
func (v *verifier) line(core int, l cache.Line, r record.Record, n int64) {
	data := v.e.m.Data(core, l)
	if data == nil {
		panic(fmt.Sprintf("coord: line %d:%#x not in core %d's cache after its reference", l.ASID, l.N, core))
	}
	lo := max(r.Addr>>v.bshift, l.N<<v.perLine)
	hi := min((r.Addr+uint64(r.Size)-1)>>v.bshift, (l.N+1)<<v.perLine-1)
	mask := uint64(1)<<v.perLine - 1
	for b := lo; ; b++ {
		k := blockKey{r.ASID, b}
		if r.Kind != record.Write {
			v.e.C.VerifyChecks++
			var g gwrite
			if h := v.hist[k]; len(h) > 0 {
				g = h[len(h)-1]
			}
			if got := int64(data[b&mask]); got != g.n {
				v.e.C.VerifyMismatches++
				v.problem("access %d (core %d) read %d:%#x: value of access %d, want access %d's", n, core, r.ASID, b<<v.bshift, got, g.n)
			} else if g.n != 0 && g.core != core {
				v.readFrom[core][g.core] = max(v.readFrom[core][g.core], g.n)
			}
		}
		if r.Kind.Writes() {
			data[b&mask] = uint64(n)
			v.hist[k] = append(v.hist[k], gwrite{n: n, core: core})
			v.entries++
		}
		if b == hi {
			break
		}
	}
}

// checkpoint: the cores of set committed their reads; the history drops what no rollback
// can need, now and then.
func (v *verifier) checkpoint(set uint64) {
	for s := set; s != 0; s &= s - 1 {
		c := bits.TrailingZeros64(s)
		copy(v.readSnap[c], v.readFrom[c])
	}
	if v.entries > 2*len(v.hist)+1<<16 {
		v.sweep()
	}
}

// sweep drops from each history the writes before its last committed one (made no later
// than its core's checkpoint).
func (v *verifier) sweep() {
	v.entries = 0
	for k, h := range v.hist {
		for i := len(h) - 1; i > 0; i-- {
			if h[i].n <= v.e.ckptAt[h[i].core] {
				h = append(h[:0], h[i:]...)
				v.hist[k] = h
				break
			}
		}
		v.entries += len(h)
	}
}

// rollback: the cores of set were rolled back (not yet replayed). The golden model drops
// their writes since their checkpoints, their reads since then are forgotten, and no
// other core may hold or have read a value a dropped write wrote (an orphan).
func (v *verifier) rollback(set uint64) {
	e := v.e
	lost := func(n int64) (int, bool) {
		x, ok := e.buf.at(n)
		return x.core, ok && set&(1<<x.core) != 0 && n > e.ckptAt[x.core]
	}
	b := e.buf
	for i := b.head; i < len(b.recs); i++ {
		x := &b.recs[i]
		if !x.rec.Kind.Writes() || set&(1<<x.core) == 0 || x.n <= e.ckptAt[x.core] {
			continue
		}
		r := x.rec
		lastBlk := (r.Addr + uint64(r.Size) - 1) >> v.bshift
		for blk := r.Addr >> v.bshift; ; blk++ {
			k := blockKey{r.ASID, blk}
			h := v.hist[k]
			for j := len(h) - 1; j >= 0; j-- {
				if h[j].n == x.n {
					h = append(h[:j], h[j+1:]...)
					v.entries--
					break
				}
			}
			if len(h) == 0 {
				delete(v.hist, k)
			} else {
				v.hist[k] = h
			}
			if blk == lastBlk {
				break
			}
		}
		// Orphans held: the copies of this write's lines in the caches of the cores not
		// rolled back.
		lastLine := (r.Addr + uint64(r.Size) - 1) >> e.shift
		for l := r.Addr >> e.shift; ; l++ {
			line := cache.Line{ASID: r.ASID, N: l}
			holders, _ := e.m.Holders(line)
			for h := holders &^ set; h != 0; h &= h - 1 {
				c := bits.TrailingZeros64(h)
				for j, s := range e.m.Data(c, line) {
					if s == uint64(x.n) {
						e.C.Orphans++
						v.problem("after a rollback of cores %s: core %d holds %d:%#x, written by rolled-back access %d (core %d)", coreList(set), c, r.ASID, (l<<v.perLine+uint64(j))<<v.bshift, x.n, x.core)
					}
				}
			}
			if l == lastLine {
				break
			}
		}
	}
	for c := range v.readFrom {
		if set&(1<<c) != 0 {
			copy(v.readFrom[c], v.readSnap[c])
			continue
		}
		for p, n := range v.readFrom[c] {
			if n == 0 {
				continue
			}
			if wc, ok := lost(n); ok && wc == p {
				e.C.Orphans++
				v.problem("after a rollback of cores %s: core %d has read the value of rolled-back access %d (core %d)", coreList(set), c, n, p)
			}
		}
	}
}

// err describes the disagreements, if any.
func (v *verifier) err() error {
	c := v.e.C
	if c.VerifyMismatches == 0 && c.Orphans == 0 {
		return nil
	}
	return fmt.Errorf("--verify: %d of %d reads differ from the golden model, %d orphans after rollbacks; first: %s",
		c.VerifyMismatches, c.VerifyChecks, c.Orphans, strings.Join(v.problems, "; "))
}

// coreList shows a set of cores.
func coreList(set uint64) string {
	var s []string
	for ; set != 0; set &= set - 1 {
		s = append(s, fmt.Sprint(bits.TrailingZeros64(set)))
	}
	return "{" + strings.Join(s, ",") + "}"
}
