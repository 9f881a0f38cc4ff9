package record

import "fmt"

// ASID identifies an address space (a process) in a trace.
type ASID uint32

// TID identifies a thread of an address space in a trace: the thread id the trace gives
// (a Linux tid in a drmemtrace trace). 0 is every record of a format that knows no
// threads; two address spaces may use the same TID for different threads.
type TID uint32

// Kind is what a record does.
type Kind uint8

// Record kinds. Read, Write, Modify and Fetch are accesses; Checkpoint and Fail are
// control records, and Input and Output I/O records, that only some formats carry.
const (
	Read       Kind = iota // a data load
	Write                  // a data store
	Modify                 // one access that reads then writes (lackey's M); counted as a write
	Fetch                  // an instruction fetch; counted as a read
	Checkpoint             // control: take a checkpoint of the record's domain
	Fail                   // control: a failure strikes the record's domain here
	Input                  // I/O: the program received Size bytes on channel Addr (a read system call)
	Output                 // I/O: the program sent Size bytes on channel Addr (a write system call)
	NumKinds               // the number of kinds: a Kind below it is valid
)

var kindNames = [...]string{"read", "write", "modify", "fetch", "checkpoint", "fail", "input", "output"}

func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// IsAccess reports whether k is a memory access rather than a control record.
func (k Kind) IsAccess() bool { return k <= Fetch }

// IsIO reports whether k is an I/O record (Input or Output).
func (k Kind) IsIO() bool { return k == Input || k == Output }

// Writes reports whether an access of kind k stores to memory (W, S and M records): k is
// Write or Modify, tested in one compare (they are consecutive; TestKindWrites), which the
// hot loops that call it run without the branch the two compares cost.
func (k Kind) Writes() bool { return k-Write <= Modify-Write }

// Record is one trace record.
//
// Invariant (for accesses): Size >= 1; the access touches bytes [Addr, Addr+Size).
// Control records have Size 0 and Addr 0. An I/O record's Addr is its channel (a file
// descriptor) and its Size the bytes transferred (0 or more).
//
// Thread is the thread of ASID that made the record; readers of formats without threads
// leave it 0. It sits in what was the struct's padding: a Record is 24 bytes, with or
// without it (TestRecordSize).
//
// Kernel marks a write that the kernel made into the address space on Thread's behalf (a
// system call's output, such as the buffer a read fills, or a signal frame), as `vmsim
// record` records them (vgrecord); it is false for every other record and in every
// format that does not mark them. A kernel write is a write like any other to what
// replays it: the mark only tells them apart. It too sits in padding.
// Invariant: Kernel only on a Write.
type Record struct {
	Addr   uint64
	Size   uint32
	ASID   ASID
	Kind   Kind
	Kernel bool
	Thread TID
}

// PageSpan returns the first and last page (of 1<<shift bytes) that an access touches:
// every page overlapping [Addr, Addr+Size), or only Addr's page when ignoreSize.
func (r Record) PageSpan(shift uint, ignoreSize bool) (first, last uint64) {
	first = r.Addr >> shift
	if ignoreSize || r.Size <= 1 {
		return first, first
	}
	return first, (r.Addr + uint64(r.Size) - 1) >> shift
}

// String shows the record; the thread only when it is not 0, and "kernel" only on a
// kernel write, so that a record of a trace without them reads as it always has.
func (r Record) String() string {
	where := fmt.Sprintf("asid=%d", r.ASID)
	if r.Thread != 0 {
		where = fmt.Sprintf("asid=%d thread=%d", r.ASID, r.Thread)
	}
	if r.Kind.IsIO() {
		return fmt.Sprintf("%s %s channel=%d bytes=%d", where, r.Kind, r.Addr, r.Size)
	}
	if !r.Kind.IsAccess() {
		return fmt.Sprintf("%s %s", where, r.Kind)
	}
	if r.Kernel {
		where += " kernel"
	}
	return fmt.Sprintf("%s %s %#x,%d", where, r.Kind, r.Addr, r.Size)
}
