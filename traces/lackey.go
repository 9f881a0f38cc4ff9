package traces

import (
	"bytes"
	"encoding/binary"
	"io"
)

// LackeyReader reads the output of valgrind --tool=lackey --trace-mem=yes:
//
//	I  04001100,3     instruction fetch of 3 bytes at 0x4001100
//	 L 1ffefffd78,8   load
//	 S 1ffefffd78,8   store
//	 M 0421d3c0,4     modify: a load and a store of the same bytes, one access
//
// With valgrind's --trace-syscalls=yes the log also holds system calls, one line each or
// a line at the call and one at its completion (other threads' lines may come between):
//
//	SYSCALL[4400,1](0) sys_read ( 4, 0x1ffeffedf8, 832 ) --> [async] ...
//	SYSCALL[4400,1](0) ... [async] --> Success(0x340)
//	SYSCALL[4400,1](1) sys_write ( 1, 0x4a8b000, 6 )[sync] --> Success(0x6)
//
// A successful read, pread64, readv, preadv, preadv2, recvfrom or recvmsg becomes an
// Input record, and a successful write, pwrite64, writev, pwritev, pwritev2, sendto or
// sendmsg an Output record: Size is the call's result (the bytes transferred), Addr its
// first argument (the file descriptor), placed at the line that completes the call. Every
// other system call, and every failed one, is skipped and counted (SkippedSyscalls), not
// an error. A thread may start a call before its last one completed (a signal handler
// runs while the thread waits; the call is then restarted): a completion ends the latest
// pending call of its number on its (pid, tid), and any started after it, which never
// complete. A completion with no such call pending is malformed. Valgrind ends an
// execve's line with no newline, the new program's first record following on the same
// line: that record is read.
//
// vmtrace, vmsim's valgrind tool (package vgrecord), also writes a line where the program
// calls the checkpoint library of package validate (ckpt_checkpoint):
//
//	CHECKPOINT 3 0    checkpoint number 3 of the run, library mechanism 0
//
// which becomes a Checkpoint record (the two numbers are checked, not kept); and, when
// asked, which thread makes the records that follow, and the kernel's writes into the
// program's memory (a system call's output, a signal frame):
//
//	THREAD 2              the records below are thread 2's
//	 K 04a8b000,4096      a write of 4096 bytes that the kernel made (Record.Kernel)
//
// Records before the first THREAD line are of thread 0; after it, an I/O record's thread
// is its SYSCALL[pid,tid] line's tid (which vmtrace then writes in THREAD's numbers).
// lackey itself writes none of these lines.
//
// Valgrind's own lines, starting "==N==" or "--N--", are skipped. Any other line is an
// error, unless the reader is lenient, in which case it is skipped and counted
// (SkippedLines); so are lines starting with '#': lackey's output has no comment lines
// (of the text formats only pin's has them). Every record is in address space 0.
type LackeyReader struct {
	textReader
	sys *lackeyParser
}

// SkippedSyscalls is the number of system calls read so far that carry no I/O record
// (other calls, failures).
func (r *LackeyReader) SkippedSyscalls() int64 { return r.sys.skippedSyscalls }

// lackeyParser parses lackey lines; it keeps the system calls started and not yet
// completed.
type lackeyParser struct {
	// pending maps a thread to the system calls it started and that have not completed,
	// oldest first. Invariant: at most maxPending a thread (the oldest are dropped).
	pending map[lackeyThread][]pendingCall
	// skippedSyscalls counts completed calls that gave no record.
	skippedSyscalls int64
	// sawSyscall is set at the first system call line: from then on blank lines (pieces
	// of lines a forked child wrote into its parent's log) are skipped.
	sawSyscall bool
	// thread is the thread of the records that follow: the last THREAD line's (0 before
	// any). sawThread is set at the first THREAD line.
	thread    TID
	sawThread bool
}

type lackeyThread struct{ pid, tid uint64 }

type pendingCall struct {
	thread  TID // the SYSCALL line's tid once THREAD lines name threads, else 0
	sysno   uint64
	kind    Kind // Input or Output; Read (the zero Kind) for a call that is not I/O
	channel uint64
}

// NewLackeyReader returns a lackey reader; name is used in error messages.
func NewLackeyReader(r io.Reader, name string, lenient bool) *LackeyReader {
	s := newLineScanner(r, name)
	// valgrind's own lines (its command line, say) may be of any length, and are skipped
	// like the short ones; with lenient, so is any other overlong line, counted.
	s.skipLong = func(prefix []byte) (skip, count bool) {
		if isValgrindLine(prefix) {
			return true, false
		}
		return lenient, lenient
	}
	p := &lackeyParser{}
	fast := func(s *lineScanner, recs []Record, n int) int { return fastLackey(s, recs, n, p.thread) }
	return &LackeyReader{textReader{s: s, fast: fast, parse: p.parse, lenient: lenient}, p}
}

// parse parses one lackey line. reason is "" for a record, skipLine for a valgrind
// line (or a system call that gives no record), or why the line is malformed.
func (p *lackeyParser) parse(line []byte) (rec Record, reason string) {
	rec, reason = p.parseLine(line)
	if reason == "" && !(rec.Kind.IsIO() && p.sawThread) {
		rec.Thread = p.thread // an I/O record's is its SYSCALL line's
	}
	return rec, reason
}

var threadPrefix = []byte("THREAD ")

// parseLine parses one lackey line, as parse does, but leaves the thread of a record
// other than an I/O record 0.
func (p *lackeyParser) parseLine(line []byte) (rec Record, reason string) {
	if bytes.HasPrefix(line, threadPrefix) {
		th, k, ok := parseDec(line[len(threadPrefix):])
		if !ok || skipSpace(line, len(threadPrefix)+k) != len(line) {
			return rec, "want THREAD and a thread number"
		}
		p.thread, p.sawThread = TID(th), true
		return rec, skipLine
	}
	if isValgrindLine(line) {
		return rec, skipLine
	}
	if bytes.HasPrefix(line, syscallPrefix) {
		p.sawSyscall = true
		return p.parseSyscall(line)
	}
	if p.sawSyscall && isBlank(line) {
		// A forked child's lines may break its parent's: a blank piece is no record.
		return rec, skipLine
	}
	if bytes.HasPrefix(line, syscallContinuation) {
		// The second line of a call valgrind does not know ("unimplemented (by the
		// kernel) syscall: 334! (ni_syscall)" then " --> [pre-fail] Failure(0x26)"), or of
		// a fork.
		return rec, skipLine
	}
	if p.sawSyscall && bytes.HasPrefix(line, syscallName) {
		// The rest of a call's line whose start a forked child's output broke off
		// ("sys_wait4 ( ... )" and, glued to it, the next record). It cannot be told
		// which thread it belongs to: a cut I/O call is an error, never a lost record.
		j := bytes.IndexAny(line, " (")
		if j < 0 {
			j = len(line)
		}
		if _, io := ioSyscalls[string(line[len(syscallName):j])]; io {
			return rec, "an I/O system call's line cut off from its SYSCALL[pid,tid] start (a forked child's output broke it)"
		}
		p.skippedSyscalls++
		if r, ok := gluedRecord(line); ok {
			return r, ""
		}
		return rec, skipLine
	}
	if bytes.HasPrefix(line, checkpointPrefix) {
		return parseCheckpointLine(line)
	}
	if bytes.HasPrefix(line[skipSpace(line, 0):], forkNote) {
		// A fork's note ("   fork: process 6785 created child 6806") on a line of its own.
		return rec, skipLine
	}
	i := skipSpace(line, 0)
	if i >= len(line) {
		return rec, "blank line"
	}
	switch line[i] {
	case 'I':
		rec.Kind = Fetch
	case 'L':
		rec.Kind = Read
	case 'S':
		rec.Kind = Write
	case 'M':
		rec.Kind = Modify
	case 'K':
		rec.Kind, rec.Kernel = Write, true
	case '#':
		return rec, noComments("lackey")
	default:
		return rec, "not a lackey record (want I, L, S, M or K)"
	}
	j := skipSpace(line, i+1)
	if j == i+1 {
		return rec, "want a space after the record kind"
	}
	addr, k, ok := parseHex(line[j:])
	if !ok {
		return rec, "want a hex address of at most 16 digits"
	}
	j += k
	if j >= len(line) || line[j] != ',' {
		return rec, "want ',' and a size after the address"
	}
	size, k, ok := parseDec(line[j+1:])
	if !ok {
		return rec, "want a decimal size after ','"
	}
	if size == 0 {
		return rec, "size 0"
	}
	if skipSpace(line, j+1+k) != len(line) {
		return rec, "unexpected text after the size"
	}
	if addr+uint64(size)-1 < addr {
		return rec, "access runs past the end of the address space"
	}
	rec.Addr, rec.Size = addr, size
	return rec, ""
}

var checkpointPrefix = []byte("CHECKPOINT ")

// parseCheckpointLine parses vmtrace's "CHECKPOINT N MECHANISM" into a Checkpoint record.
func parseCheckpointLine(line []byte) (rec Record, reason string) {
	i := len(checkpointPrefix)
	_, k, ok := parseDec64(line[i:])
	if ok && i+k < len(line) && line[i+k] == ' ' {
		i += k + 1
		if _, k, ok = parseDec64(line[i:]); ok && skipSpace(line, i+k) == len(line) {
			return Record{Kind: Checkpoint}, ""
		}
	}
	return rec, "want CHECKPOINT, the checkpoint's number and the mechanism's"
}

// isValgrindLine reports whether line is one of valgrind's own: "==123==..." or "--123--...".
func isValgrindLine(line []byte) bool {
	if len(line) < 5 || (line[0] != '=' && line[0] != '-') || line[1] != line[0] {
		return false
	}
	c := line[0]
	i := 2
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 2 && i+1 < len(line) && line[i] == c && line[i+1] == c
}

// fastLackey parses canonical lackey records ("I  hex,size\n", " L hex,size\n", ...)
// in place, as thread's.
func fastLackey(s *lineScanner, recs []Record, n int, thread TID) int {
	buf, pos := s.buf[:s.end], s.pos
	for n < len(recs) && (s.eof || len(buf)-pos >= maxLine) && len(buf)-pos > 5 {
		var k Kind
		switch {
		case buf[pos] == 'I' && buf[pos+1] == ' ' && buf[pos+2] == ' ':
			k = Fetch
		case buf[pos] == ' ' && buf[pos+2] == ' ':
			switch buf[pos+1] {
			case 'L':
				k = Read
			case 'S':
				k = Write
			case 'M':
				k = Modify
			default:
				s.pos = pos
				return n
			}
		default:
			s.pos = pos
			return n
		}
		// The commonest shapes, an address of 8 or 10 digits and a size of one ("I
		// 0401ab70,3", " S 1fff000658,8"), by lookups of fixed positions; any other
		// through the loops below.
		if p := pos + 3; p+14 <= len(buf) {
			var addr uint64
			ok := false
			i := p + 8
			if buf[i] == ',' {
				var d uint64
				d, ok = hexDigits(binary.LittleEndian.Uint64(buf[p:]))
				addr = packNibbles(d)
			} else if i += 2; buf[i] == ',' {
				hi, ok1 := hexDigits(binary.LittleEndian.Uint64(buf[p:]))
				lo, ok2 := hexDigits(binary.LittleEndian.Uint64(buf[p+2:]))
				addr, ok = packNibbles(hi)<<8|packNibbles(lo)&0xff, ok1 && ok2
			}
			if c := buf[i+1]; ok && c >= '1' && c <= '9' && buf[i+2] == '\n' {
				// 10 digits at most: no access runs past the end of the address space.
				recs[n] = Record{Addr: addr, Size: uint32(c - '0'), Kind: k, Thread: thread}
				n++
				s.line++
				pos = i + 3
				continue
			}
		}
		addr, i := scanHex(buf, pos+3)
		if i == pos+3 || i-pos-3 > 16 || i+2 >= len(buf) || buf[i] != ',' {
			break
		}
		i++
		var size uint64
		j := i
		for j < len(buf) && j-i < 9 && buf[j] >= '0' && buf[j] <= '9' {
			size = size*10 + uint64(buf[j]-'0')
			j++
		}
		if j == i || j >= len(buf) || buf[j] != '\n' || size == 0 || addr+size-1 < addr {
			break
		}
		recs[n] = Record{Addr: addr, Size: uint32(size), Kind: k, Thread: thread}
		n++
		s.line++
		pos = j + 1
	}
	s.pos = pos
	return n
}

var (
	syscallPrefix       = []byte("SYSCALL[")
	syscallName         = []byte("sys_")
	syscallContinuation = []byte(" --> [")
	forkNote            = []byte("fork: process ")
	syscallArrow        = []byte("--> ")
	syscallAsyncStart   = []byte("[async] ...")
	syscallAsyncDone    = []byte("... [async] --> ")
)

// ioSyscalls maps the names of the system calls that carry I/O (after valgrind's "sys_")
// to their record kind.
var ioSyscalls = map[string]Kind{
	"read": Input, "pread64": Input, "readv": Input, "preadv": Input, "preadv2": Input,
	"recvfrom": Input, "recvmsg": Input,
	"write": Output, "pwrite64": Output, "writev": Output, "pwritev": Output, "pwritev2": Output,
	"sendto": Output, "sendmsg": Output,
}

// maxPending bounds the calls a thread may have started and not completed.
const maxPending = 16

var (
	syscallNoResult = []byte("NoWriteResult")
	syscallSuccess  = []byte("Success(0x")
	syscallFailure  = []byte("Failure(0x")
)

// parseLackey parses one lackey line on its own, with no system call pending (for
// sniffing the format and for tests).
func parseLackey(line []byte) (Record, string) {
	var p lackeyParser
	return p.parse(line)
}
