package scheme

import (
	"github.com/vmsim/vmsim/record"
)

// Domain identifies a checkpoint domain: the whole system under --scope system, or one
// address space under --scope asid.
type Domain int32

// Run is a run of consecutive accesses the driver hands a scheme in one call.
//
// An access is a program access (LevelCPU, or LevelMemory without a cache), or a line fill
// (Kind Read) or write-back (Kind Write) from the cache (LevelMemory with a cache). Runs of
// one access are the general case: with a cache or TLB model, --ignore-size,
// per-address-space domains, --replace opt and --check the driver hands over one access
// at a time; otherwise a run is every access up to the next event (a checkpoint due, a
// failure, a control record). A scheme performs a run of many exactly as it would the
// same accesses in runs of one.
type Run struct {
	// Recs are accesses (Kind.IsAccess, Size >= 1: the access touches bytes [Addr,
	// Addr+Size)), in trace order. The slice is the driver's; a scheme must not keep it.
	Recs []record.Record
	// N is the number of the access before Recs[0]: Recs[i] is access N+i+1 of the trace
	// (numbers start at 1). A replay after a failure hands over the accesses again with
	// their first numbers, so a number may repeat but never runs ahead of the accesses
	// seen. A cache's fill or write-back comes alone (a run of one) numbered as the access
	// that caused it, or as the last access before the checkpoint whose flush wrote it back
	// (so N+1 may equal the number of the access before it).
	N int64
	// Verify, when not nil (--verify), must be called with i after Recs[i]'s access and
	// before Recs[i+1]'s: it checks what the access read and stores what it wrote, reading
	// and writing the scheme's memory through Image only (nothing else of the scheme). A
	// scheme past its memory budget (Err not nil) may skip it for the rest of the run; the
	// driver stops after the run.
	Verify func(i int)
}

// Scheme is a way of checkpointing memory.
//
// The driver calls Access with the accesses in trace order, Checkpoint on its schedule, and
// Rollback or Crash when a failure strikes, after which it replays the accesses since the
// domain's last checkpoint through Access. A scheme counts what it does into a Tally
// (Counters). The only optional interface is IOAware.
type Scheme interface {
	// Access performs run.Recs in order (calling run.Verify after each when it is set) and
	// returns how many it performed: all of them, or, when it called
	// Machine.RequestCheckpoint during an access, the accesses up to that one (it must stop
	// there). The driver then takes the checkpoint and hands over the rest in a later run,
	// so that runs of many count exactly as runs of one.
	Access(run Run) (performed int)
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
	// Image is the scheme's memory, for --verify only (never called otherwise): it returns
	// the stamps of page page (of Machine.PageSize bytes) of asid as a program reading it
	// now would see them, one per block of Machine.VerifyBlock bytes (PageSize/VerifyBlock
	// of them), in place: the driver reads them, and writes into them the data of a write
	// the scheme just performed (the stamp of the access, in each block it wrote), and of a
	// cache line written back. The slice is valid until the next call into the scheme.
	// Without create, a page that holds no version (it reads as zeros, the initial
	// content) is nil, and Image has no side effects. With create such a page gets a
	// version first (all zeros); precondition: an access just performed (or a write-back
	// just passed to Access) wrote the page. It counts nothing.
	Image(asid record.ASID, page uint64, create bool) []uint64
	// Counters adds the scheme's counts so far to t, which the driver makes zero with
	// Info.NewTally (t.Own points to the scheme's own counter struct, zeroed), so that a
	// scheme may as well assign a whole group (t.Pages = ...).
	Counters(t *Tally)
	// Check verifies the scheme's invariants from scratch.
	Check() error
	// Err returns a sticky error that ended the run early (a memory budget exceeded), or nil.
	Err() error
}

// IOAware is implemented by schemes that see the trace's I/O records (input and output
// system calls: Kind Input or Output, Addr the channel, Size the bytes), such as a scheme
// that logs inputs for replay. IO is called once per I/O record, in trace order among the
// accesses, the first time the program performs it (not again when a replay after a
// failure repeats it); n is the number of the access before it. It is the only optional
// interface of a scheme, and it changes results: a scheme that implements it says so in
// Info.IO, and the driver refuses a scheme whose Info.IO does not match what it
// implements (a wrapper that hides IO, or one that adds it unannounced).
type IOAware interface {
	IO(rec record.Record, n int64)
}
