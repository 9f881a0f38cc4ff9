package traces

// Decoding a drmemtrace thread's records into vmsim's (DRMEMTRACE.md, "Records").

import (
	"encoding/binary"
	"fmt"
)

// read decodes the thread's records into out until out is full, the thread reaches a
// timestamp marker that starts a new segment (drBoundary, with t.next set), a cpu marker
// inside the segment that changes its cpu (drMoved: the records before it ran on the
// cpu before), or its footer (drEnd). Before the first timestamp (t.started false) it reads the thread's
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
			boundary, moved, err := t.marker(e)
			if err != nil {
				return n, 0, err
			}
			if boundary {
				return n, drBoundary, nil
			}
			if moved {
				return n, drMoved, nil
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

// marker handles a marker; boundary is true at a timestamp that starts a segment, moved
// at a cpu marker inside a segment that changes the thread's cpu.
func (t *drThread) marker(e drEntry) (boundary, moved bool, err error) {
	switch e.size {
	case drmTimestamp:
		if t.skipTS {
			t.skipTS = false // the next chunk's copy of the last timestamp
			return false, false, nil
		}
		if !t.tidSeen || !t.pidSeen {
			return false, false, t.errorf(t.last(), "a timestamp before the thread's thread id and process id records")
		}
		t.counts.SchedMarks++
		t.started = true
		t.next = drKey{ts: e.addr, cpu: t.cpu, tid: t.tid, instr: t.fetched}
		// The cpu marker that follows a timestamp belongs to the segment's key.
		if t.end-t.pos < drEntrySize {
			if _, err := t.fill(); err != nil {
				return false, false, err
			}
		}
		if t.end-t.pos >= drEntrySize {
			if c := decodeDrEntry(t.buf[t.pos:]); c.typ == drMarker && c.size == drmCPU {
				t.pos += drEntrySize
				t.rec++
				t.counts.SchedMarks++
				t.setCPU(c.addr)
				t.next.cpu = c.addr
			}
		}
		return true, false, nil
	case drmCPU:
		if t.skipCPU {
			t.skipCPU = false
			return false, false, nil
		}
		t.counts.SchedMarks++
		moved = t.started && (!t.cpuSeen || e.addr != t.cpu)
		t.setCPU(e.addr)
		return false, moved, nil
	case drmKernelEvent, drmKernelXfer:
		t.counts.XferMarks++
	case drmSyscall:
		t.counts.Syscalls++
	case drmVersion:
		if e.addr != t.version {
			return false, false, t.errorf(t.last(), "version marker %d in a trace of version %d", e.addr, t.version)
		}
		t.counts.OtherMarks++
	case drmFiletype:
		if e.addr&drFile32Bit != 0 {
			return false, false, t.errorf(t.last(), "a 32-bit trace (file type %#x): vmsim reads 64-bit traces", e.addr)
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
			return false, false, err
		}
		if !end {
			return false, false, t.errorf(at, "a chunk footer before the end of its chunk")
		}
		if t.chunkName == "" {
			return false, false, t.errorf(at, "a chunk footer in a file without chunks")
		}
		if err := t.openChunk(t.chunkName); err != nil {
			return false, false, err
		}
		t.skipTS, t.skipCPU = true, true
	default:
		t.counts.OtherMarks++
	}
	return false, false, nil
}
