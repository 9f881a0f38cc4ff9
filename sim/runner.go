package sim

import (
	"fmt"
	"math"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// runner is one run. It composes the rooms, each a type that owns its fields and checks
// its own invariants (Check):
//
//	tally        the driver's own counts and the warm-up snapshot (tally.go)
//	domains      the checkpoint domains (domains.go)
//	replayBuffer the recent records a replay needs, and replay itself (replay.go)
//	ioState      the I/O records and their counts (io.go)
//	hierarchy    the cache and TLB models and the memory behind the cache (hierarchy.go)
//	verifier     the golden model and the checks against it (verify.go, golden.go)
//	failureSchedule the failures to inject; fail, the failure and recovery (failures.go)
//
// and the loop (loop.go) that drives them and the scheme through the trace. The runner's
// own fields are the run's configuration and the loop's state.
type runner struct {
	cfg    Config
	info   scheme.Info
	scheme scheme.Scheme
	open   Opener
	shift  uint // log2 of the page size

	// maxPages is the page budget in force (Config.maxPages; 0: none). An access of more
	// than spanBytes bytes may cover more pages than that on its own: the driver checks
	// its pages before any scheme sees it (refuseSpan). Invariant: spanBytes is
	// math.MaxUint64 when no access can (no budget, --ignore-size, or a budget above the
	// pages of an access of 4 GiB).
	maxPages  int
	spanBytes uint64

	n     tally
	doms  domains
	buf   replayBuffer
	io    ioState
	fails *failureSchedule
	per   periodic
	// mem is the cache and TLB models, nil with neither; ver the verifier, nil without
	// --verify; nu the next-use stream of --replace opt, nil without it.
	mem *hierarchy
	ver *verifier
	nu  *nextUse

	// single: the loop performs one access at a time, looking at each (see chooseLoop);
	// else it hands runs of accesses to perform, which applies them one by one when each.
	// Invariant: single when --replace opt, domains per address space or CheckEvery is in
	// force; each iff a cache or TLB model or --ignore-size is.
	single, each bool
	// one is the run of one access that apply hands the scheme (scratch).
	one [1]traces.Record

	// requested are the domains whose checkpoint the scheme asked for during the current
	// access or checkpoint (scheme.Machine.RequestCheckpoint), in order.
	requested []scheme.Domain
	// replaying: a replay after a failure is under way (opt's next-use times stop).
	replaying bool
	// check: Options.CheckEvery; corrupt: Options.corrupt.
	check   bool
	corrupt func(r *runner, what string)
	err     error // the first error that ends the run (a budget exceeded, a failed check)
}

// checkNow checks, after event what at access idx, the scheme's invariants and every
// room's, and ends the run (r.err) at the first one broken.
func (r *runner) checkNow(what string, idx int64) {
	if r.err != nil {
		return
	}
	if r.corrupt != nil {
		r.corrupt(r, what)
	}
	err := r.scheme.Check()
	if err == nil {
		err = r.Check()
	}
	if err != nil {
		r.err = fmt.Errorf("internal check failed after %s at access %d: %w", what, idx, err)
	}
}

// Check verifies, from scratch, every room's invariants and then those that join rooms;
// it returns the first one broken. It holds between events: after an access (counted,
// buffered and charged to its domain), an I/O record, a checkpoint, a recovery and a
// replayed record.
func (r *runner) Check() error {
	type room struct {
		name  string
		check func() error
	}
	rooms := []room{{"counts", r.n.Check}, {"domains", r.doms.Check}, {"replay buffer", r.buf.Check},
		{"I/O", r.io.Check}, {"failures", r.fails.Check}, {"intervals", r.per.Check}}
	if r.mem != nil {
		rooms = append(rooms, room{"cache and TLB", r.mem.Check})
	}
	if r.ver != nil {
		rooms = append(rooms, room{"verifier", r.ver.Check})
	}
	for _, room := range rooms {
		if err := room.check(); err != nil {
			return fmt.Errorf("%s: %w", room.name, err)
		}
	}
	return r.checkJoins()
}

// checkJoins verifies the invariants that relate rooms to each other and to the loop.
func (r *runner) checkJoins() error {
	refs := r.n.refs
	if !r.single && (r.nu != nil || r.doms.perASID || r.check) {
		return fmt.Errorf("loop: runs of many accesses with --replace opt (%v), domains per address space (%v) or checks after every event (%v)",
			r.nu != nil, r.doms.perASID, r.check)
	}
	if r.each != (r.mem != nil || r.cfg.IgnoreSize) {
		return fmt.Errorf("loop: each access applied alone (%v) with a cache or TLB model (%v), --ignore-size (%v)", r.each, r.mem != nil, r.cfg.IgnoreSize)
	}
	if r.spanBytes != math.MaxUint64 && (r.maxPages == 0 || r.cfg.IgnoreSize) {
		return fmt.Errorf("loop: span limit %d bytes without a page budget in force", r.spanBytes)
	}
	var ckpts uint64
	var held int64
	for _, d := range r.doms.list {
		ckpts += d.ckpts
		held += int64(len(d.held))
		switch {
		case d.lastCkpt > refs:
			return fmt.Errorf("domains: domain %d's last checkpoint at access %d, after access %d, the last performed", d.id, d.lastCkpt, refs)
		case !r.doms.perASID && d.since != refs-d.lastCkpt:
			return fmt.Errorf("domains: domain %d has %d accesses since its checkpoint at access %d, want %d (access %d performed last)", d.id, d.since, d.lastCkpt, refs-d.lastCkpt, refs)
		case d.since > refs-d.lastCkpt:
			return fmt.Errorf("domains: domain %d has %d accesses since its checkpoint at access %d, more than the %d since", d.id, d.since, d.lastCkpt, refs-d.lastCkpt)
		case r.cfg.Interval > 0 && d.since > r.cfg.Interval:
			return fmt.Errorf("domains: domain %d has %d accesses since its last checkpoint, more than --interval %d", d.id, d.since, r.cfg.Interval)
		case len(d.held) > 0 && d.held[len(d.held)-1] > refs:
			return fmt.Errorf("I/O: domain %d holds the output after access %d, later than access %d", d.id, d.held[len(d.held)-1], refs)
		case !r.io.hold && len(d.held) > 0:
			return fmt.Errorf("I/O: domain %d holds %d outputs under --io none", d.id, len(d.held))
		}
	}
	if int64(ckpts) != r.n.checkpoints {
		return fmt.Errorf("domains: %d checkpoints over the domains, %d counted", ckpts, r.n.checkpoints)
	}
	if held > r.io.outputs {
		return fmt.Errorf("I/O: %d outputs held, %d made", held, r.io.outputs)
	}
	if r.io.at > refs {
		return fmt.Errorf("I/O: the last I/O record follows access %d, after access %d", r.io.at, refs)
	}
	if r.buf.on() {
		if got := r.buf.accesses(); r.buf.base > refs || got != refs-r.buf.base {
			return fmt.Errorf("replay buffer: %d accesses after access %d, want those up to access %d", got, r.buf.base, refs)
		}
		if r.buf.ioFrom > refs {
			return fmt.Errorf("replay buffer: I/O records from access %d on, after access %d", r.buf.ioFrom, refs)
		}
	} else if r.cfg.failures() {
		return fmt.Errorf("replay buffer: off in a run with failures")
	}
	if due := r.fails.due; due < refs {
		return fmt.Errorf("failures: the next failure after access %d, before access %d, the last performed", due, refs)
	}
	if r.per.on() && r.per.next < refs {
		return fmt.Errorf("intervals: the next ending at access %d, before access %d, the last performed", r.per.next, refs)
	}
	if r.mem != nil && r.mem.cur > refs {
		return fmt.Errorf("cache and TLB: performing access %d, after access %d", r.mem.cur, refs)
	}
	if w := r.n.warm; w != nil && (r.cfg.Warmup == 0 || w.Refs != r.cfg.Warmup) || w == nil && r.cfg.Warmup > 0 && refs > r.cfg.Warmup {
		return fmt.Errorf("counts: the warm-up snapshot (%v) does not match --warmup %d at access %d", w != nil, r.cfg.Warmup, refs)
	}
	return nil
}
