package scheme

import (
	"github.com/vmsim/vmsim/record"
)

// Access is one memory access as a scheme sees it: a program access (LevelCPU, or
// LevelMemory without a cache), or a line fill (Kind Read) or write-back (Kind Write) from
// the cache (LevelMemory with a cache).
type Access struct {
	Addr uint64
	Size uint32 // bytes, >= 1
	ASID record.ASID
	Kind record.Kind // Read, Write, Modify or Fetch
	// N is the access's number in the trace (1-based; a replayed access keeps its number).
	// Fills and write-backs carry the number of the access that caused them, or of the last
	// access before the checkpoint that flushed them.
	N int64
}

// Domain identifies a checkpoint domain: the whole system under --scope system, or one
// address space under --scope asid.
type Domain int32

// Scheme is a way of checkpointing memory.
//
// The driver calls Access for every access in trace order, Checkpoint on its schedule, and
// Rollback or Crash when a failure strikes, after which it replays the accesses since the
// domain's last checkpoint. A scheme counts what it does into a Tally (Counters).
type Scheme interface {
	// Access performs one access.
	Access(a Access)
	// DomainOf returns the checkpoint domain of an address space.
	DomainOf(asid record.ASID) Domain
	// Checkpoint takes a checkpoint of domain d.
	Checkpoint(d Domain)
	// Rollback returns domain d to its last checkpoint after a transient failure, or a crash
	// of non-volatile memory. Precondition: the scheme's Info says it recovers transient
	// failures.
	Rollback(d Domain)
	// Crash loses everything volatile (--memory volatile) and recovers every domain to its
	// last checkpoint. Precondition: the scheme's Info says it recovers crashes.
	Crash()
	// Load copies into dst the stamps of len(dst) consecutive blocks of Machine.VerifyBlock
	// bytes, from block number first of asid: what a program reading them now would get.
	// It has no side effects. Never-written blocks hold 0. Only called when verifying.
	Load(asid record.ASID, first uint64, dst []uint64)
	// Store writes src into len(src) consecutive blocks from block number first of asid:
	// the data of a write access just performed by Access (or of a line the cache writes
	// back, also just passed to Access). Only called when verifying.
	Store(asid record.ASID, first uint64, src []uint64)
	// Counters adds the scheme's counts so far to t, which the driver makes zero with
	// Info.NewTally (t.Own points to the scheme's own counter struct, zeroed), so that a
	// scheme may as well assign a whole group (t.Pages = ...).
	Counters(t *Tally)
	// Check verifies the scheme's invariants from scratch.
	Check() error
	// Err returns a sticky error that ended the run early (a memory budget exceeded), or nil.
	Err() error
}

// BatchAccessor is implemented by schemes with a fast path for the common configuration
// (no verification, no cache or TLB model, no --replace opt, no --ignore-size, one
// checkpoint domain: --scope system). AccessBatch performs every record of recs,
// in order, exactly as Access would perform each (an Access built from the record, N
// counting on); every record is an access, and nothing else happens between them. A
// scheme that implements it must not call Machine.RequestCheckpoint from AccessBatch. It
// returns how many of the records write (Kind.Writes), which it has to know anyway.
type BatchAccessor interface {
	AccessBatch(recs []record.Record) (writes int64)
}

// StampView is implemented by schemes that keep the stamps of each page in one slice, so
// that --verify can read and write them in place rather than copy them through Load and
// Store. PageStamps returns the stamps of page page (Machine.PageSize / VerifyBlock of them)
// of asid as the program sees them now, nil when the page holds no version (it reads as
// the initial content, stamp 0; the driver then writes through Store). Reading the slice
// is Load and writing it Store, with the same preconditions; it is valid until the next
// call into the scheme. It has no side effects.
type StampView interface {
	PageStamps(asid record.ASID, page uint64) []uint64
}

// VerifyingBatchAccessor is implemented by BatchAccessor schemes whose fast path can also
// run under --verify (with the same limits otherwise). AccessBatchVerify performs recs as
// AccessBatch does and, after each record's access and before the next, calls check(i,
// stamps) with what StampView.PageStamps would return at that moment for the page of the
// record's last byte. check may call the scheme's Load, Store and PageStamps, nothing else.
// A scheme whose page table outgrew its limit (Err) may skip check for the rest of the
// batch; the driver stops after it.
type VerifyingBatchAccessor interface {
	AccessBatchVerify(recs []record.Record, check func(i int, stamps []uint64)) (writes int64)
}

// IOAware is implemented by schemes that see the trace's I/O records (input and output
// system calls: Kind Input or Output, Addr the channel, Size the bytes), such as a scheme
// that logs inputs for replay. IO is called once per I/O record, in trace order among the
// accesses, the first time the program performs it (not again when a replay after a
// failure repeats it).
type IOAware interface {
	IO(a Access)
}
