package traces

// DynamoRIO's drmemtrace offline traces: one file of 12-byte records per thread, the
// threads interleaved in timestamp order. traces/DRMEMTRACE.md says what vmsim reads
// from them and why; this file implements it from the format's definition (DynamoRIO's
// clients/drcachesim/common/trace_entry.h and its "Trace Format" documentation).

import (
	"archive/zip"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

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

// drStop is why a thread's read stopped.
type drStop int

const (
	drFull     drStop = iota // the caller's buffer is full
	drBoundary               // at a timestamp: the thread's next segment starts at next
	drEnd                    // the thread's footer
)

// drChunks yields a thread file's chunks, in order.
type drChunks interface {
	// next opens the next chunk; ok is false when there is none.
	next() (r io.Reader, name string, ok bool, err error)
	// following names the chunk next would open, or is "" when there is none.
	following() string
	close()
}

// drThread decodes one thread's records, a segment at a time.
type drThread struct {
	name   string // the thread file, for errors
	comp   Compression
	src    drChunks
	counts *DrmemtraceCounts

	chunk     io.Reader // the current chunk
	chunkName string    // its name in the zip file, or "" (a gzip or plain file)
	chunkEOF  bool      // chunk has no more bytes beyond buf
	buf       []byte
	pos, end  int   // buf[pos:end] is not decoded yet
	bufOff    int64 // offset of buf[0] in the thread's record stream (its chunks end to end)
	chunkOff  int64 // offset of buf[0] in the current chunk
	rec       int64 // number of the next record in the thread's stream

	// Identity, from the thread's first records.
	tid      uint64
	pid      uint64
	tidSeen  bool
	pidSeen  bool
	version  uint64
	filetype uint64
	pageSize uint64

	started   bool   // the first timestamp has been read (after the thread and process ids)
	done      bool   // the footer has been read
	next      drKey  // the segment the thread stopped before (drBoundary)
	cpu       uint64 // the last cpu marker's value
	fetched   uint64 // instructions fetched so far: the schedule's instruction count
	nextPC    uint64 // the address after the last instruction, where a bundle starts
	haveInstr bool
	lastPC    uint64 // the last instruction's address (an online trace's maybe-fetch)
	skipTS    bool   // after a chunk footer: the next chunk's copies of the last
	skipCPU   bool   //   timestamp and cpu, which are not segment boundaries

	pend  [8]Record // a bundle's fetches not yet returned
	pendI int
	pendN int
}

// drPos is where a record is, for errors: its number (from 0) and offset in the thread's
// record stream, and its chunk and offset there.
type drPos struct {
	rec, off int64
	chunk    string
	chunkOff int64
}

// here is where the next record, not decoded yet, is.
func (t *drThread) here() drPos {
	return drPos{t.rec, t.bufOff + int64(t.pos), t.chunkName, t.chunkOff + int64(t.pos)}
}

// last is where the record just decoded is, until buf is filled again.
func (t *drThread) last() drPos {
	p := t.here()
	p.rec--
	p.off -= drEntrySize
	p.chunkOff -= drEntrySize
	return p
}

// errorf is an error at the record at p.
func (t *drThread) errorf(p drPos, format string, args ...any) error {
	where := fmt.Sprintf("record %d", p.rec)
	if p.chunk != "" {
		where = fmt.Sprintf("record %d (%s, byte %d)", p.rec, p.chunk, p.chunkOff)
	}
	return &Error{File: t.name, Offset: p.off, Reason: where + ": " + fmt.Sprintf(format, args...)}
}

// openChunk makes the next chunk current. It is an error for there to be none.
func (t *drThread) openChunk(after string) error {
	r, name, ok, err := t.src.next()
	if err != nil {
		return &Error{File: t.name, Offset: t.bufOff + int64(t.end), Reason: "opening chunk " + name, Err: err}
	}
	if !ok {
		return &Error{File: t.name, Offset: t.bufOff + int64(t.end), Reason: fmt.Sprintf("truncated: %s ends with a chunk footer, and no chunk follows it", after)}
	}
	t.bufOff += int64(t.end)
	t.chunk, t.chunkName, t.chunkEOF = r, name, false
	t.pos, t.end, t.chunkOff = 0, 0, 0
	return nil
}

// fill reads more of the current chunk into buf, keeping buf[pos:end]. It returns false
// at the chunk's end (chunkEOF), with what is left in buf[pos:end].
func (t *drThread) fill() (bool, error) {
	if t.chunkEOF {
		return false, nil
	}
	if t.pos > 0 {
		copy(t.buf, t.buf[t.pos:t.end])
		t.bufOff += int64(t.pos)
		t.chunkOff += int64(t.pos)
		t.end -= t.pos
		t.pos = 0
	}
	for empty := 0; t.end-t.pos < drEntrySize*64 && t.end < len(t.buf); {
		n, err := t.chunk.Read(t.buf[t.end:])
		t.end += n
		switch {
		case err == io.EOF:
			t.chunkEOF = true
			return t.end > 0, nil
		case err != nil:
			var te *Error
			if errors.As(err, &te) {
				return false, err
			}
			where := ""
			if t.chunkName != "" {
				where = " (" + t.chunkName + ")"
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return false, &Error{File: t.name, Offset: t.bufOff + int64(t.end), Reason: "truncated compressed data" + where}
			}
			return false, &Error{File: t.name, Offset: t.bufOff + int64(t.end), Reason: "reading" + where, Err: err}
		case n == 0:
			if empty++; empty > 100 {
				return false, &Error{File: t.name, Offset: t.bufOff + int64(t.end), Reason: "reading", Err: io.ErrNoProgress}
			}
		}
	}
	return true, nil
}

// entry returns the next record (read returns those buf holds itself), reading more
// when needed, or ok=false at the end of the chunk. A chunk that ends inside a record is
// truncated.
func (t *drThread) entry() (e drEntry, ok bool, err error) {
	if t.end-t.pos < drEntrySize {
		if _, err := t.fill(); err != nil {
			return e, false, err
		}
		if t.end-t.pos < drEntrySize {
			if t.end > t.pos {
				what := "the file"
				if t.chunkName != "" {
					what = t.chunkName
				}
				return e, false, t.errorf(t.here(), "truncated: %s ends %d bytes into a %d-byte record", what, t.end-t.pos, drEntrySize)
			}
			return e, false, nil
		}
	}
	e = decodeDrEntry(t.buf[t.pos:])
	t.pos += drEntrySize
	t.rec++
	return e, true, nil
}

// atChunkEnd reports whether the current chunk has no byte left.
func (t *drThread) atChunkEnd() (bool, error) {
	if t.pos < t.end {
		return false, nil
	}
	more, err := t.fill()
	return !more && t.pos == t.end, err
}

// read decodes the thread's records into out until out is full, the thread reaches a
// timestamp marker that starts a new segment (drBoundary, with t.next set), or its
// footer (drEnd). Before the first timestamp (t.started false) it reads the thread's
// header records and stops at that timestamp, whatever len(out).
func (t *drThread) read(out []Record) (n int, stop drStop, err error) {
	for {
		for t.pendI < t.pendN && n < len(out) {
			out[n] = t.pend[t.pendI]
			n++
			t.pendI++
		}
		if t.done {
			return n, drEnd, nil
		}
		if n == len(out) && t.started {
			return n, drFull, nil
		}
		var e drEntry
		if p := t.pos; t.end-p >= drEntrySize {
			b := t.buf[p : p+drEntrySize]
			e = drEntry{binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:]), binary.LittleEndian.Uint64(b[4:])}
			t.pos += drEntrySize
			t.rec++
		} else {
			var ok bool
			if e, ok, err = t.entry(); err != nil {
				return n, 0, err
			}
			if !ok {
				reason := fmt.Sprintf("truncated: %s ends without a chunk footer or the thread's footer", t.chunkName)
				if t.chunkName == "" {
					reason = "truncated: the file ends without the thread's footer"
				}
				return n, 0, t.errorf(t.here(), "%s (after %d records)", reason, t.rec)
			}
		}
		if t.rec == 1 {
			if err := t.header(e); err != nil {
				return n, 0, err
			}
			continue
		}
		switch {
		case e.typ == drRead || e.typ == drWrite:
			if err := t.identified(); err != nil {
				return n, 0, err
			}
			k := Read
			if e.typ == drWrite {
				k = Write
				t.counts.Stores++
			} else {
				t.counts.Loads++
			}
			if e.size == 0 {
				return n, 0, t.errorf(t.last(), "a %s of size 0", k)
			}
			if e.addr+uint64(e.size-1) < e.addr {
				return n, 0, t.errorf(t.last(), "a %s of %d bytes at %#x runs past the end of the address space", k, e.size, e.addr)
			}
			out[n] = Record{Addr: e.addr, Size: uint32(e.size), ASID: ASID(t.pid), Kind: k, Thread: TID(t.tid)}
			n++
		case drIsFetch(e.typ) || e.typ == drInstrNoFetch || e.typ == drInstrMaybeFetch:
			if err := t.identified(); err != nil {
				return n, 0, err
			}
			if e.size == 0 {
				// Only the address of the data references that follow (filtered traces).
				continue
			}
			fetch := e.typ != drInstrNoFetch
			if e.typ == drInstrMaybeFetch {
				fetch = !t.haveInstr || e.addr != t.lastPC
			}
			if e.addr+uint64(e.size-1) < e.addr {
				return n, 0, t.errorf(t.last(), "an instruction of %d bytes at %#x runs past the end of the address space", e.size, e.addr)
			}
			t.lastPC, t.nextPC, t.haveInstr = e.addr, e.addr+uint64(e.size), true
			if !fetch {
				t.counts.NonFetched++
				continue
			}
			t.fetched++
			t.counts.Fetches++
			out[n] = Record{Addr: e.addr, Size: uint32(e.size), ASID: ASID(t.pid), Kind: Fetch, Thread: TID(t.tid)}
			n++
		case e.typ == drInstrBundle:
			if err := t.bundle(e); err != nil {
				return n, 0, err
			}
		case e.typ == drMarker:
			boundary, err := t.marker(e)
			if err != nil {
				return n, 0, err
			}
			if boundary {
				return n, drBoundary, nil
			}
		case e.typ == drEncoding:
			t.counts.Encodings++
		case drIsPrefetch(e.typ):
			t.counts.Prefetches++
		case e.typ == drInstrFlush:
			t.counts.ICFlushes++
		case e.typ == drDataFlush:
			t.counts.DCFlushes++
		case e.typ == drInstrFlushEnd || e.typ == drDataFlushEnd:
			// The end address of the flush before it.
		case e.typ == drThreadID:
			if t.tidSeen && e.addr != t.tid {
				return n, 0, t.errorf(t.last(), "thread id %d in the file of thread %d (vmsim reads thread-sharded traces: one thread a file)", e.addr, t.tid)
			}
			if e.addr == 0 || e.addr > 1<<32-1 {
				return n, 0, t.errorf(t.last(), "thread id %d (want 1 to 2^32-1)", e.addr)
			}
			t.tid, t.tidSeen = e.addr, true
		case e.typ == drPid:
			if t.pidSeen && e.addr != t.pid {
				return n, 0, t.errorf(t.last(), "process id %d in a thread of process %d", e.addr, t.pid)
			}
			if e.addr > 1<<32-1 {
				return n, 0, t.errorf(t.last(), "process id %d (want at most 2^32-1)", e.addr)
			}
			t.pid, t.pidSeen = e.addr, true
		case e.typ == drThreadExit:
			if t.tidSeen && e.addr != t.tid {
				return n, 0, t.errorf(t.last(), "exit of thread %d in the file of thread %d", e.addr, t.tid)
			}
		case e.typ == drFooter:
			at := t.last()
			end, err := t.atChunkEnd()
			if err != nil {
				return n, 0, err
			}
			if !end {
				return n, 0, t.errorf(at, "records after the thread's footer")
			}
			if c := t.src.following(); c != "" {
				return n, 0, t.errorf(at, "the thread's footer, and %s after it", c)
			}
			t.done = true
		case e.typ == drHeader:
			return n, 0, t.errorf(t.last(), "a header record that does not start the file")
		default:
			return n, 0, t.errorf(t.last(), "unknown record type %d (vmsim knows 0 to %d, trace versions %d to %d)", e.typ, drNumTypes-1, drMinVersion, drMaxVersion)
		}
	}
}

// header checks the thread's first record: the header, holding the trace version.
func (t *drThread) header(e drEntry) error {
	if e.typ != drHeader {
		return t.errorf(t.last(), "not a drmemtrace thread file: the first record has type %d, not a header (%d)", e.typ, drHeader)
	}
	if e.addr>>32 == uint64(drMarker)|12<<16 && e.addr&0xffffffff >= drMinVersion && e.addr&0xffffffff <= drMaxVersion {
		return t.errorf(t.last(), "a 32-bit trace (8-byte records): vmsim reads 64-bit traces (12-byte records)")
	}
	if e.addr < drMinVersion || e.addr > drMaxVersion {
		return t.errorf(t.last(), "drmemtrace version %d; vmsim reads versions %d to %d", e.addr, drMinVersion, drMaxVersion)
	}
	t.version = e.addr
	return nil
}

// identified checks that the thread's first timestamp, and so its thread and process
// ids, came before an access at at.
func (t *drThread) identified() error {
	if !t.started {
		return t.errorf(t.last(), "an access before the thread's first timestamp")
	}
	return nil
}

// bundle expands an instruction bundle (size instructions, each one byte of addr long,
// starting where the last instruction ended) into fetches.
func (t *drThread) bundle(e drEntry) error {
	if err := t.identified(); err != nil {
		return err
	}
	if !t.haveInstr {
		return t.errorf(t.last(), "an instruction bundle with no instruction before it")
	}
	if e.size == 0 || e.size > 8 {
		return t.errorf(t.last(), "an instruction bundle of %d instructions (want 1 to 8)", e.size)
	}
	t.pendI, t.pendN = 0, int(e.size)
	for i := range int(e.size) {
		l := uint64(byte(e.addr >> (8 * i)))
		if l == 0 {
			return t.errorf(t.last(), "instruction %d of a bundle has length 0", i)
		}
		if t.nextPC+l-1 < t.nextPC {
			return t.errorf(t.last(), "a bundled instruction at %#x runs past the end of the address space", t.nextPC)
		}
		t.pend[i] = Record{Addr: t.nextPC, Size: uint32(l), ASID: ASID(t.pid), Kind: Fetch, Thread: TID(t.tid)}
		t.nextPC += l
	}
	t.fetched += uint64(e.size)
	t.counts.Fetches += int64(e.size)
	return nil
}

// marker handles a marker; boundary is true at a timestamp that starts a segment.
func (t *drThread) marker(e drEntry) (boundary bool, err error) {
	switch e.size {
	case drmTimestamp:
		if t.skipTS {
			t.skipTS = false // the next chunk's copy of the last timestamp
			return false, nil
		}
		if !t.tidSeen || !t.pidSeen {
			return false, t.errorf(t.last(), "a timestamp before the thread's thread id and process id records")
		}
		t.counts.SchedMarks++
		t.started = true
		t.next = drKey{ts: e.addr, cpu: t.cpu, tid: t.tid, instr: t.fetched}
		// The cpu marker that follows a timestamp belongs to the segment's key.
		if t.end-t.pos < drEntrySize {
			if _, err := t.fill(); err != nil {
				return false, err
			}
		}
		if t.end-t.pos >= drEntrySize {
			if c := decodeDrEntry(t.buf[t.pos:]); c.typ == drMarker && c.size == drmCPU {
				t.pos += drEntrySize
				t.rec++
				t.counts.SchedMarks++
				t.cpu, t.next.cpu = c.addr, c.addr
			}
		}
		return true, nil
	case drmCPU:
		if t.skipCPU {
			t.skipCPU = false
			return false, nil
		}
		t.counts.SchedMarks++
		t.cpu = e.addr
	case drmKernelEvent, drmKernelXfer:
		t.counts.XferMarks++
	case drmSyscall:
		t.counts.Syscalls++
	case drmVersion:
		if e.addr != t.version {
			return false, t.errorf(t.last(), "version marker %d in a trace of version %d", e.addr, t.version)
		}
		t.counts.OtherMarks++
	case drmFiletype:
		if e.addr&drFile32Bit != 0 {
			return false, t.errorf(t.last(), "a 32-bit trace (file type %#x): vmsim reads 64-bit traces", e.addr)
		}
		t.filetype = e.addr
		t.counts.OtherMarks++
	case drmPageSize:
		t.pageSize = e.addr
		t.counts.OtherMarks++
	case drmRecordOrdinal, drmBranchTarget:
		// Chunk bookkeeping, and a branch's target: DynamoRIO's reader shows neither.
	case drmChunkFooter:
		t.counts.OtherMarks++
		at := t.last()
		end, err := t.atChunkEnd()
		if err != nil {
			return false, err
		}
		if !end {
			return false, t.errorf(at, "a chunk footer before the end of its chunk")
		}
		if t.chunkName == "" {
			return false, t.errorf(at, "a chunk footer in a file without chunks")
		}
		if err := t.openChunk(t.chunkName); err != nil {
			return false, err
		}
		t.skipTS, t.skipCPU = true, true
	default:
		t.counts.OtherMarks++
	}
	return false, nil
}

// openThread opens one thread's decompressed record stream and reads its header up to
// its first timestamp.
func openThread(name string, src drChunks, counts *DrmemtraceCounts) (*drThread, error) {
	t := &drThread{name: name, src: src, counts: counts, buf: make([]byte, drBufSize)}
	r, chunk, ok, err := src.next()
	if err != nil {
		return nil, &Error{File: name, Offset: 0, Reason: "opening " + chunk, Err: err}
	}
	if !ok {
		return nil, &Error{File: name, Offset: 0, Reason: "no chunk: not a drmemtrace thread file"}
	}
	t.chunk, t.chunkName = r, chunk
	if _, _, err := t.read(nil); err != nil {
		return nil, err
	}
	counts.Threads++
	return t, nil
}

// streamChunks is a gzip or plain thread file: one chunk, with no name.
type streamChunks struct {
	r       io.Reader
	closeFn func()
	given   bool
}

func (s *streamChunks) next() (io.Reader, string, bool, error) {
	if s.given {
		return nil, "", false, nil
	}
	s.given = true
	return s.r, "", true, nil
}

func (s *streamChunks) following() string { return "" }

func (s *streamChunks) close() {
	if s.closeFn != nil {
		s.closeFn()
		s.closeFn = nil
	}
}

// zipChunks is a zip thread file: its entries are the chunks, chunk.0000 on, in order.
type zipChunks struct {
	z   *zip.ReadCloser
	i   int
	cur io.ReadCloser
}

func (c *zipChunks) next() (io.Reader, string, bool, error) {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
	if c.i >= len(c.z.File) {
		return nil, "", false, nil
	}
	f := c.z.File[c.i]
	if n, ok := strings.CutPrefix(f.Name, "chunk."); !ok || !allDigits(n) || atoiOr(n, -1) != c.i {
		return nil, f.Name, false, fmt.Errorf("zip entry %d is %q, not chunk.%04d: not a drmemtrace thread file, or its chunks are out of order", c.i, f.Name, c.i)
	}
	c.i++
	r, err := f.Open()
	if err != nil {
		return nil, f.Name, false, err
	}
	c.cur = r
	return r, f.Name, true, nil
}

func (c *zipChunks) following() string {
	if c.i < len(c.z.File) {
		return c.z.File[c.i].Name
	}
	return ""
}

func (c *zipChunks) close() {
	if c.cur != nil {
		c.cur.Close()
	}
	c.z.Close()
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func atoiOr(s string, or int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return or
	}
	return n
}

// zipMagic starts a zip file (a local file header).
var zipMagic = []byte("PK\x03\x04")

// isDrmemtraceHead reports whether head (decompressed) begins as a drmemtrace thread's
// records do: a header record holding a version vmsim reads, then a marker.
func isDrmemtraceHead(head []byte) bool {
	if len(head) < 2*drEntrySize {
		return false
	}
	e, m := decodeDrEntry(head), decodeDrEntry(head[drEntrySize:])
	return e.typ == drHeader && e.size == 0 && e.addr >= drMinVersion && e.addr <= drMaxVersion && m.typ == drMarker
}

// openDrmemtraceFile opens a drmemtrace trace at path (OpenDrmemtrace) as a File.
func openDrmemtraceFile(path string) (*File, error) {
	d, err := OpenDrmemtrace(path)
	if err != nil {
		return nil, err
	}
	return &File{Reader: d, Name: path, Format: FormatDrmemtrace, Compression: d.compression, closeAll: func() { d.Close() }}, nil
}

// openThreadFile opens a thread file by its name: .zip (chunks), .gz, or plain.
func openThreadFile(path string, counts *DrmemtraceCounts) (*drThread, error) {
	var head [4]byte
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	n, _ := io.ReadFull(fh, head[:])
	if bytes.Equal(head[:n], zipMagic) {
		fh.Close()
		z, err := zip.OpenReader(path)
		if err != nil {
			return nil, &Error{File: path, Offset: -1, Reason: "reading the zip file", Err: err}
		}
		c := &zipChunks{z: z}
		t, err := openThread(path, c, counts)
		if err != nil {
			c.close()
			return nil, err
		}
		t.comp = Zip
		return t, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		fh.Close()
		return nil, err
	}
	r, comp, closeDec, err := Decompress(fh, path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	if comp != None && comp != Gzip {
		closeDec()
		fh.Close()
		return nil, &Error{File: path, Offset: 0, Reason: fmt.Sprintf("a %s-compressed thread file: DynamoRIO writes zip or gzip", comp)}
	}
	c := &streamChunks{r: r, closeFn: func() { closeDec(); fh.Close() }}
	t, err := openThread(path, c, counts)
	if err != nil {
		c.close()
		return nil, err
	}
	t.comp = comp
	return t, nil
}

// DrmemtraceReader reads a drmemtrace trace: its threads' records, interleaved in the
// order of the trace's serial schedule, or of the timestamps when it has none
// (DRMEMTRACE.md). Memory does not grow with the trace: each thread is a stream with a
// buffer of its own.
type DrmemtraceReader struct {
	name    string
	threads []*drThread
	// The threads stopped at a segment boundary: by drKey without a schedule, by thread
	// id with one. Invariant: a thread is in one of them, or is cur, or is done.
	waiting drHeap
	parked  map[uint64]*drThread
	cur     *drThread // the thread whose segment is being read
	prev    *drThread // the thread of the last segment started
	sched   *drSchedule
	counts  DrmemtraceCounts
	info    DrmemtraceInfo
	// compression is the first thread file's (None for a stream).
	compression Compression
	err         error
}

type drHeap []*drThread

func (h drHeap) Len() int           { return len(h) }
func (h drHeap) Less(i, j int) bool { return h[i].next.less(h[j].next) }
func (h drHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *drHeap) Push(x any)        { *h = append(*h, x.(*drThread)) }
func (h *drHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// NewDrmemtraceReader reads one thread's records from r, already decompressed (the
// content of a .gz thread file, or of a plain one); name is used in error messages.
func NewDrmemtraceReader(r io.Reader, name string) (*DrmemtraceReader, error) {
	d := &DrmemtraceReader{name: name}
	t, err := openThread(name, &streamChunks{r: r}, &d.counts)
	if err != nil {
		return nil, err
	}
	d.add(t)
	d.info.Threads = 1
	d.setInfo()
	return d, nil
}

// OpenDrmemtrace opens a drmemtrace trace: a directory (drmemtrace.APP.PID.NNNN.dir, or
// its trace/ subdirectory) of thread files, or one thread's file (.zip, .gz or plain).
// A directory's threads are checked against its schedule files, when it has them, before
// any record is read.
func OpenDrmemtrace(path string) (*DrmemtraceReader, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	d := &DrmemtraceReader{name: path}
	if !fi.IsDir() {
		t, err := openThreadFile(path, &d.counts)
		if err != nil {
			return nil, err
		}
		d.add(t)
		d.info.Threads = 1
		d.setInfo()
		return d, nil
	}
	dir, files, err := drThreadFiles(path)
	if err != nil {
		return nil, err
	}
	tids := map[uint64]string{}
	for _, f := range files {
		t, err := openThreadFile(f, &d.counts)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.threads = append(d.threads, t)
		if other, dup := tids[t.tid]; dup && t.tidSeen {
			d.Close()
			return nil, &Error{File: f, Offset: -1, Reason: fmt.Sprintf("thread %d has a second file: %s is its file too", t.tid, other)}
		}
		if t.tidSeen {
			tids[t.tid] = f
		}
	}
	d.info.Threads = len(files)
	d.setInfo()
	sched, err := openSchedule(dir, tids)
	if err != nil {
		d.Close()
		return nil, err
	}
	if sched != nil {
		d.sched = sched
		d.info.Schedule = sched.name
		d.parked = map[uint64]*drThread{}
	}
	for _, t := range d.threads {
		d.park(t)
	}
	return d, nil
}

// drThreadFiles lists the thread files of a trace directory, sorted by name, and the
// directory that holds them.
func drThreadFiles(path string) (dir string, files []string, err error) {
	dir = path
	if fi, err := os.Stat(filepath.Join(path, "trace")); err == nil && fi.IsDir() {
		dir = filepath.Join(path, "trace")
	} else if fi, err := os.Stat(filepath.Join(path, "raw")); err == nil && fi.IsDir() {
		return "", nil, &Error{File: path, Offset: -1, Reason: "a raw drmemtrace trace (raw/, no trace/): post-process it with DynamoRIO's drraw2trace first"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir(), strings.HasPrefix(name, "serial_schedule.bin"), strings.HasPrefix(name, "cpu_schedule.bin"):
		case strings.HasSuffix(name, ".trace.zip"), strings.HasSuffix(name, ".trace.gz"), strings.HasSuffix(name, ".trace"):
			files = append(files, filepath.Join(dir, name))
		case strings.Contains(name, ".trace."):
			return "", nil, &Error{File: filepath.Join(dir, name), Offset: -1,
				Reason: "a thread file compressed in a way vmsim does not read (it reads .trace.zip, .trace.gz and plain .trace files)"}
		}
	}
	if len(files) == 0 {
		return "", nil, &Error{File: dir, Offset: -1, Reason: "no drmemtrace thread files (*.trace.zip, *.trace.gz, *.trace)"}
	}
	slices.Sort(files)
	return dir, files, nil
}

// add makes t the reader's only thread.
func (d *DrmemtraceReader) add(t *drThread) {
	d.threads = append(d.threads, t)
	d.park(t)
}

// park puts t, stopped at a segment boundary, among the waiting threads (unless it is
// done).
func (d *DrmemtraceReader) park(t *drThread) {
	switch {
	case t.done:
	case d.parked != nil:
		d.parked[t.tid] = t
	default:
		heap.Push(&d.waiting, t)
	}
}

// nextSegment takes the thread whose segment comes next off the waiting threads: the
// schedule's next entry's thread, or the thread of the smallest drKey. At the end of
// the trace it returns io.EOF (after checking that no schedule entry is left).
func (d *DrmemtraceReader) nextSegment() (*drThread, error) {
	if d.sched == nil {
		if len(d.waiting) == 0 {
			return nil, io.EOF
		}
		return heap.Pop(&d.waiting).(*drThread), nil
	}
	if len(d.parked) == 0 {
		if err := d.sched.end(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	t, err := d.sched.pick(d.parked, d.prev)
	if err != nil {
		return nil, err
	}
	delete(d.parked, t.tid)
	return t, nil
}

func (d *DrmemtraceReader) setInfo() {
	pids := map[ASID]bool{}
	for _, t := range d.threads {
		if t.pidSeen && !pids[ASID(t.pid)] {
			pids[ASID(t.pid)] = true
			d.info.Processes = append(d.info.Processes, ASID(t.pid))
		}
	}
	slices.Sort(d.info.Processes)
	d.compression = None
	if len(d.threads) > 0 {
		t := d.threads[0]
		d.info.Version, d.info.FileType, d.info.PageSize = t.version, t.filetype, t.pageSize
		if t.comp != "" {
			d.compression = t.comp
		}
	}
}

// Info describes the trace.
func (d *DrmemtraceReader) Info() DrmemtraceInfo { return d.info }

// Counts returns what the reader decoded so far: the whole trace's counts once Read has
// returned io.EOF.
func (d *DrmemtraceReader) Counts() DrmemtraceCounts {
	c := d.counts
	for _, t := range d.threads {
		c.RecordCount += t.rec
	}
	return c
}

// Threads reports that the records carry thread ids: a drmemtrace trace's tids.
func (d *DrmemtraceReader) Threads() bool { return true }

// Read implements Reader.
func (d *DrmemtraceReader) Read(recs []Record) (int, error) {
	n := 0
	for n < len(recs) && d.err == nil {
		if d.cur == nil {
			t, err := d.nextSegment()
			if err != nil {
				d.err = err
				break
			}
			d.cur, d.prev = t, t
		}
		m, stop, err := d.cur.read(recs[n:])
		n += m
		if err != nil {
			d.err = err
			break
		}
		if stop != drFull {
			d.park(d.cur)
			d.cur = nil
		}
	}
	if n > 0 && d.err == io.EOF {
		return n, nil
	}
	return n, d.err
}

// Close releases the thread files.
func (d *DrmemtraceReader) Close() error {
	for _, t := range d.threads {
		t.src.close()
	}
	if d.sched != nil {
		d.sched.close()
	}
	d.threads, d.waiting, d.parked, d.cur = nil, nil, nil, nil
	return nil
}

// drSchedule is a serial schedule file (serial_schedule.bin, gzip-compressed or not):
// the recorded order of the threads' segments, which the reader follows entry by entry.
// DynamoRIO writes one entry a segment (a timestamp and cpu marker pair: the thread, the
// timestamp, the cpu, the thread's instructions before it) sorted by timestamp; older
// versions order the entries of one timestamp as they come, newer ones as drKey does and
// drop an entry whose thread is the one before's (the thread runs on). Both read.
type drSchedule struct {
	name    string
	r       io.Reader
	closeFn func()
	entry   int64 // entries read
	buf     [drScheduleEntrySize]byte
	peeked  bool // ahead holds the next entry, read but not checked
	ahead   drScheduleEntry
	aheadOK bool
}

type drScheduleEntry struct {
	tid, ts, cpu, instr uint64
}

// read returns the next entry; ok is false at the end of the file.
func (s *drSchedule) read() (e drScheduleEntry, ok bool, err error) {
	n, err := io.ReadFull(s.r, s.buf[:])
	switch {
	case err == io.EOF:
		return e, false, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return e, false, &Error{File: s.name, Offset: s.entry * drScheduleEntrySize,
			Reason: fmt.Sprintf("truncated: entry %d has %d of its %d bytes", s.entry, n, drScheduleEntrySize)}
	case err != nil:
		var te *Error
		if errors.As(err, &te) {
			return e, false, err
		}
		return e, false, &Error{File: s.name, Offset: s.entry * drScheduleEntrySize, Reason: "reading", Err: err}
	}
	le := binary.LittleEndian
	s.entry++
	return drScheduleEntry{le.Uint64(s.buf[0:]), le.Uint64(s.buf[8:]), le.Uint64(s.buf[16:]), le.Uint64(s.buf[24:])}, true, nil
}

// peek returns the next entry without taking it.
func (s *drSchedule) peek() (drScheduleEntry, bool, error) {
	if !s.peeked {
		e, ok, err := s.read()
		if err != nil {
			return e, false, err
		}
		s.ahead, s.aheadOK, s.peeked = e, ok, true
	}
	return s.ahead, s.aheadOK, nil
}

// pick returns the waiting thread whose segment comes next: the one the next entry
// names, which must stand at that entry's timestamp, cpu and instruction count; or prev,
// the thread of the segment before, running on through a boundary the schedule has no
// entry for (one that sorts before the next entry). waiting holds the threads stopped
// at a boundary, by thread id.
func (s *drSchedule) pick(waiting map[uint64]*drThread, prev *drThread) (*drThread, error) {
	e, ok, err := s.peek()
	if err != nil {
		return nil, err
	}
	at := s.entry - 1 // the entry peeked
	if !ok {
		at = s.entry
	}
	key := drKey{e.ts, e.cpu, e.tid, e.instr}
	runsOn := prev != nil && waiting[prev.tid] == prev
	switch t := waiting[e.tid]; {
	case !ok:
		if runsOn {
			// The schedule's last thread runs on to its end.
			return prev, nil
		}
	case runsOn && prev.next.ts < e.ts:
		// A boundary before the entry's time has no entry: the thread runs on.
		return prev, nil
	case t != nil && t.next == key:
		s.peeked = false
		return t, nil
	case runsOn && prev.next.less(key):
		// The same time: a schedule that drops a running thread's entries sorts them
		// as drKey does.
		return prev, nil
	}
	// The threads do not follow the schedule: say where the thread named stands.
	fail := func(format string, args ...any) error {
		return &Error{File: s.name, Offset: at * drScheduleEntrySize, Reason: fmt.Sprintf(format, args...)}
	}
	if !ok {
		var k drKey
		for _, t := range waiting {
			if k == (drKey{}) || t.next.less(k) {
				k = t.next
			}
		}
		return nil, fail("the schedule ends after %d entries; thread %d goes on at timestamp %d", s.entry, k.tid, k.ts)
	}
	want := fmt.Sprintf("entry %d puts thread %d at timestamp %d (cpu %d, instruction %d) next", at, e.tid, e.ts, e.cpu, e.instr)
	if t := waiting[e.tid]; t != nil {
		return nil, fail("%s; the thread's next timestamp marker is %d (cpu %d, instruction %d)", want, t.next.ts, t.next.cpu, t.next.instr)
	}
	return nil, fail("%s; the thread has no records left there (it ended, or runs at another place)", want)
}

// end checks that no entry is left.
func (s *drSchedule) end() error {
	e, ok, err := s.peek()
	if err != nil {
		return err
	}
	if ok {
		return &Error{File: s.name, Offset: (s.entry - 1) * drScheduleEntrySize,
			Reason: fmt.Sprintf("entry %d (thread %d at timestamp %d) is past the end of the trace", s.entry-1, e.tid, e.ts)}
	}
	return nil
}

func (s *drSchedule) close() {
	if s.closeFn != nil {
		s.closeFn()
		s.closeFn = nil
	}
}

// openSchedule opens dir's serial schedule, if any, and checks that every thread a
// schedule file names (the serial schedule, or else the cpu schedule) has a thread file:
// tids maps the threads that do to their files. It returns nil when dir has no serial
// schedule.
func openSchedule(dir string, tids map[uint64]string) (*drSchedule, error) {
	missing := func(file string, entry int64, tid uint64) error {
		return &Error{File: file, Offset: entry * drScheduleEntrySize,
			Reason: fmt.Sprintf("entry %d names thread %d, which has no thread file in %s: a thread file is missing", entry, tid, dir)}
	}
	open := func() (*drSchedule, error) {
		for _, name := range []string{"serial_schedule.bin.gz", "serial_schedule.bin"} {
			path := filepath.Join(dir, name)
			fh, err := os.Open(path)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			r, _, closeDec, err := Decompress(fh, path)
			if err != nil {
				fh.Close()
				return nil, err
			}
			return &drSchedule{name: path, r: r, closeFn: func() { closeDec(); fh.Close() }}, nil
		}
		return nil, nil
	}
	s, err := open()
	if err != nil || s == nil {
		if err == nil {
			err = checkCPUSchedule(filepath.Join(dir, "cpu_schedule.bin.zip"), tids, missing)
		}
		return nil, err
	}
	// A first pass for the threads it names, then the file again from its start.
	for {
		e, ok, err := s.read()
		if err != nil {
			s.close()
			return nil, err
		}
		if !ok {
			break
		}
		if _, ok := tids[e.tid]; !ok {
			s.close()
			return nil, missing(s.name, s.entry-1, e.tid)
		}
	}
	s.close()
	return open()
}

// checkCPUSchedule checks that every thread the cpu schedule (a zip of one entry a cpu)
// names has a thread file. A directory without one is not checked.
func checkCPUSchedule(path string, tids map[uint64]string, missing func(string, int64, uint64) error) error {
	z, err := zip.OpenReader(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{File: path, Offset: -1, Reason: "reading the zip file", Err: err}
	}
	defer z.Close()
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			return &Error{File: path, Offset: -1, Reason: "opening " + f.Name, Err: err}
		}
		s := &drSchedule{name: path + ":" + f.Name, r: r}
		for {
			e, ok, err := s.read()
			if err != nil {
				r.Close()
				return err
			}
			if !ok {
				break
			}
			if _, ok := tids[e.tid]; !ok {
				r.Close()
				return missing(s.name, s.entry-1, e.tid)
			}
		}
		r.Close()
	}
	return nil
}
