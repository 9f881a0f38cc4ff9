package sim

import (
	"fmt"
)

// tally is the statistics room: the driver's own counts, and the snapshot of every count
// taken at the end of the warm-up. The other rooms keep their own counts; collect gathers
// them all into Stats.
//
// Invariant: every count is >= 0 and refs == reads + writes; warm, when not nil, was taken
// after access warm.Refs.
type tally struct {
	refs, reads, writes int64 // accesses performed, replays not included
	replayed            int64 // accesses performed again by replays
	checkpoints         int64
	rollbacks, crashes  int64
	skipped             int64 // malformed lines skipped (--lenient), known at the end
	// warm is the snapshot taken at the end of --warmup, nil before (or without one).
	warm *Stats
}

// Check verifies the invariants from scratch.
func (t *tally) Check() error {
	switch {
	case t.refs < 0 || t.reads < 0 || t.writes < 0 || t.replayed < 0 || t.checkpoints < 0 || t.rollbacks < 0 || t.crashes < 0 || t.skipped < 0:
		return fmt.Errorf("a negative count: %+v", *t)
	case t.refs != t.reads+t.writes:
		return fmt.Errorf("%d accesses, %d reads and %d writes", t.refs, t.reads, t.writes)
	case t.warm != nil && t.warm.Refs > t.refs:
		return fmt.Errorf("the warm-up ended at access %d, after access %d", t.warm.Refs, t.refs)
	}
	return nil
}

// collect returns the stats so far: the driver's, the scheme's, the I/O room's, the
// verifier's, the cache's and the TLB's.
func (r *runner) collect() Stats {
	c := r.info.NewTally()
	r.scheme.Counters(c)
	t := &r.n
	st := Stats{
		Refs: t.refs, Reads: t.reads, Writes: t.writes, ReplayedRefs: t.replayed,
		Checkpoints: t.checkpoints, Rollbacks: t.rollbacks, Crashes: t.crashes, SkippedLines: t.skipped,
		Pages: c.Pages, Paging: c.Paging, Channels: c.Channels,
	}
	s := &st
	if r.ver != nil {
		s.VerifyChecks, s.VerifyMismatches = r.ver.checks, r.ver.mismatches
	}
	r.io.count(s)
	if r.mem != nil {
		r.mem.count(s)
	}
	own := c.OwnValues()
	for i, d := range r.info.OwnDefs() {
		s.Scheme.Set(d.Key, own[i])
		if !d.Kind.Sums() {
			s.Scheme.SetKept(d.Key)
		}
	}
	return st
}

// endWarmup takes the snapshot that --warmup subtracts from the final counts, once the
// warm-up's last access and everything due at it are done.
func (r *runner) endWarmup() {
	if r.n.warm == nil && r.cfg.Warmup > 0 && r.n.refs >= r.cfg.Warmup {
		w := r.collect()
		r.n.warm = &w
	}
}
