package traces

import "github.com/vmsim/vmsim/record"

// The record types live in package record, a leaf with no I/O, so that the parts of the
// machine can use them without importing the readers; these aliases keep the names that
// trace readers and their users have always had.
type (
	// ASID identifies an address space (a process) in a trace: record.ASID.
	ASID = record.ASID
	// TID identifies a thread of an address space in a trace: record.TID.
	TID = record.TID
	// Kind is what a record does: record.Kind.
	Kind = record.Kind
	// Record is one trace record: record.Record.
	Record = record.Record
)

// The record kinds, as in package record.
const (
	Read       = record.Read
	Write      = record.Write
	Modify     = record.Modify
	Fetch      = record.Fetch
	Checkpoint = record.Checkpoint
	Fail       = record.Fail
	Input      = record.Input
	Output     = record.Output
)

// numKinds is the number of valid kinds.
const numKinds = record.NumKinds
