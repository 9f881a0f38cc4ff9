package traces

// DynamoRIO's drmemtrace offline traces: one file of 12-byte records per thread, the
// threads interleaved in timestamp order. traces/DRMEMTRACE.md says what vmsim reads
// from them and why; this file and the other drmemtrace*.go files implement it from the
// format's definition (DynamoRIO's clients/drcachesim/common/trace_entry.h and its "Trace
// Format" documentation). This file: the record and marker types, the counts, and the
// order of segments. drmemtrace_files.go: thread files and their chunks (zip, gzip,
// plain); drmemtrace_thread.go: a thread's buffered record stream; drmemtrace_decode.go:
// decoding its records; drmemtrace_schedule.go: the schedule files;
// drmemtrace_reader.go: the reader that interleaves the threads.

import "encoding/binary"

// FormatDrmemtrace is DynamoRIO's drmemtrace offline format (DRMEMTRACE.md): a
// directory of per-thread files, or one thread's file.
const FormatDrmemtrace Format = "drmemtrace"

// Record types (trace_entry.h's trace_type_t), by value.
const (
	drRead             = 0
	drWrite            = 1
	drInstr            = 10 // drInstr to drInstrReturn: fetches of an instruction
	drInstrReturn      = 16 //   of one category or another
	drInstrBundle      = 17
	drInstrFlush       = 18
	drInstrFlushEnd    = 19
	drDataFlush        = 20
	drDataFlushEnd     = 21
	drThreadID         = 22
	drThreadExit       = 23
	drPid              = 24
	drHeader           = 25
	drFooter           = 26
	drHardwarePrefetch = 27
	drMarker           = 28
	drInstrNoFetch     = 29
	drInstrMaybeFetch  = 30
	drInstrSysenter    = 31
	drEncoding         = 47
	drTakenJump        = 48
	drUntakenJump      = 49
	drNumTypes         = 50 // 50 is TRACE_TYPE_INVALID; no type from here on is defined
)

// Marker types (trace_marker_type_t): a marker record's size field.
const (
	drmKernelEvent   = 0
	drmKernelXfer    = 1
	drmTimestamp     = 2
	drmCPU           = 3
	drmFiletype      = 9
	drmVersion       = 12
	drmPageSize      = 18
	drmChunkFooter   = 21
	drmRecordOrdinal = 22
	drmSyscall       = 25
	drmBranchTarget  = 29
)

const (
	drEntrySize = 12 // a record: type (2 bytes), size (2), address (8), little-endian
	// The trace versions (trace_version_t) vmsim reads: 2 (TRACE_ENTRY_VERSION_NO_KERNEL_PC)
	// to 7 (TRACE_ENTRY_VERSION_RETIRED_INSTRUCTIONS_ONLY). None changes what vmsim reads.
	drMinVersion = 2
	drMaxVersion = 7
	// File type bits (offline_file_type_t) of 32-bit traces, whose records are 8 bytes.
	drFile32Bit = 0x10 | 0x20 // OFFLINE_FILE_TYPE_ARCH_ARM32 | OFFLINE_FILE_TYPE_ARCH_X86_32
	// drScheduleEntrySize is a schedule file's record: thread, timestamp, cpu and
	// instruction count, each a little-endian uint64 (schedule_entry_t).
	drScheduleEntrySize = 32
	// drBufSize is a thread's read buffer: a whole number of records.
	drBufSize = 5461 * drEntrySize
)

// drIsPrefetch reports whether type t is a prefetch (type_is_prefetch).
func drIsPrefetch(t uint16) bool {
	return t >= 2 && t <= 9 || t >= 32 && t <= 46 || t == drHardwarePrefetch
}

// drIsFetch reports whether type t is the fetch of one instruction (type_is_instr).
func drIsFetch(t uint16) bool {
	return t >= drInstr && t <= drInstrReturn || t == drInstrSysenter || t == drTakenJump || t == drUntakenJump
}

// drEntry is one decoded record.
type drEntry struct {
	typ, size uint16
	addr      uint64
}

// decodeDrEntry decodes the record at the start of b (at least drEntrySize bytes).
func decodeDrEntry(b []byte) drEntry {
	return drEntry{binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:]), binary.LittleEndian.Uint64(b[4:])}
}

// DrmemtraceCounts counts what a drmemtrace reader decoded, named as DynamoRIO's
// basic_counts tool names them; those vmsim drops (DRMEMTRACE.md) are counted here only.
type DrmemtraceCounts struct {
	Threads     int64 `json:"threads"`
	Fetches     int64 `json:"fetched_instructions"`     // Fetch records, bundles expanded
	NonFetched  int64 `json:"non_fetched_instructions"` // dropped: rep string iterations
	Loads       int64 `json:"loads"`                    // Read records
	Stores      int64 `json:"stores"`                   // Write records
	Prefetches  int64 `json:"prefetches"`               // dropped
	ICFlushes   int64 `json:"icache_flushes"`           // dropped
	DCFlushes   int64 `json:"dcache_flushes"`           // dropped
	SchedMarks  int64 `json:"scheduling_markers"`       // timestamps and cpus (not a chunk's copies)
	XferMarks   int64 `json:"transfer_markers"`         // kernel events and transfers (signals)
	Syscalls    int64 `json:"syscall_markers"`          // system call numbers
	OtherMarks  int64 `json:"other_markers"`            // every other marker but chunk bookkeeping
	Encodings   int64 `json:"encoding_records"`         // instruction encodings, dropped
	RecordCount int64 `json:"records"`                  // 12-byte records read, all types
}

// DrmemtraceInfo describes an open drmemtrace trace.
type DrmemtraceInfo struct {
	Threads   int    // thread files
	Processes []ASID // the process ids (the records' address spaces), increasing
	Version   uint64 // the trace version (trace_version_t) of the first thread
	FileType  uint64 // its OFFLINE_FILE_TYPE bits
	PageSize  uint64 // the page size its marker gives, 0 if none
	// Schedule names the file whose recorded order was checked against the
	// interleaving (serial_schedule.bin[.gz]), or is "" when there is none.
	Schedule string
}

// drKey orders the threads' segments: a segment starts at a timestamp marker, and
// segments run in the order of their timestamp, then cpu (the marker after the
// timestamp), thread and instruction count: the order in which DynamoRIO sorts the
// entries of its serial schedule (schedule_file.cpp), so that the interleaving is the
// recorded one.
type drKey struct {
	ts, cpu, tid, instr uint64
}

func (a drKey) less(b drKey) bool {
	switch {
	case a.ts != b.ts:
		return a.ts < b.ts
	case a.cpu != b.cpu:
		return a.cpu < b.cpu
	case a.tid != b.tid:
		return a.tid < b.tid
	}
	return a.instr < b.instr
}
