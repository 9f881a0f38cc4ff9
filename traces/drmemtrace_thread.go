package traces

// A drmemtrace thread's record stream: its chunks read through a buffer, and where each
// record is, for errors (DRMEMTRACE.md).

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// drStop is why a thread's read stopped.
type drStop int

const (
	drFull     drStop = iota // the caller's buffer is full
	drBoundary               // at a timestamp: the thread's next segment starts at next
	drEnd                    // the thread's footer
	drMoved                  // at a cpu marker inside a segment that changes the thread's cpu
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

	started bool   // the first timestamp has been read (after the thread and process ids)
	done    bool   // the footer has been read
	next    drKey  // the segment the thread stopped before (drBoundary)
	cpu     uint64 // the last cpu marker's value
	// cpus are the cpus (cpuNumber) the thread's cpu markers named so far, increasing,
	// none twice. Invariant: holds cpuNumber(cpu) once a cpu marker was read.
	cpus      []int
	cpuSeen   bool   // a cpu marker was read
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

// setCPU records a cpu marker's value c as the thread's cpu.
func (t *drThread) setCPU(c uint64) {
	t.cpu, t.cpuSeen = c, true
	n := cpuNumber(c)
	if i, found := slices.BinarySearch(t.cpus, n); !found {
		t.cpus = slices.Insert(t.cpus, i, n)
	}
}

// cpuNow is the cpu the thread's next records run on: its last cpu marker's, or -1 when
// it had none.
func (t *drThread) cpuNow() int {
	if !t.cpuSeen {
		return -1
	}
	return cpuNumber(t.cpu)
}

// cpuNumber is a cpu marker's value as a cpu number: -1 (unknown) for a value above
// 2^31-1, which is no cpu's.
func cpuNumber(c uint64) int {
	if c > 1<<31-1 {
		return -1
	}
	return int(c)
}
