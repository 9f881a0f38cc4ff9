package traces

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Reader streams records.
//
// Read fills recs with up to len(recs) records and returns how many it stored. At the end
// of the trace it returns 0, io.EOF. A malformed record or a read error ends the stream:
// Read returns the records before it together with the error (so n may be > 0 with a
// non-nil error), and every later call returns the same error.
type Reader interface {
	Read(recs []Record) (n int, err error)
}

// LineSkipper is implemented by readers that can skip malformed lines (lackey with
// Lenient): SkippedLines is how many they skipped so far.
type LineSkipper interface {
	SkippedLines() int64
}

// maxLine is the longest text line a reader accepts, terminator included.
const maxLine = 4096

// scanBufSize is the size of a text reader's buffer: the only memory a text reader holds.
// 128 KiB: reads of that size cost no more a byte than larger ones, and the buffer stays in
// the caches and pages in once (a 1 MiB buffer cost 256 page faults a run).
const scanBufSize = 128 << 10

// lineScanner splits a stream into lines without allocating.
type lineScanner struct {
	src  io.Reader
	name string
	buf  []byte
	pos  int // start of the unconsumed data in buf
	end  int // end of valid data in buf
	eof  bool
	line int64 // lines returned so far; the current line's number after next
	off  int64 // stream offset of buf[0]
	err  error // sticky error
	// skipLong, when set, decides from its first bytes whether a line longer than maxLine
	// is dropped (skip) rather than an error, and whether it counts as a malformed line
	// skipped (count, added to longSkipped).
	skipLong    func(prefix []byte) (skip, count bool)
	longSkipped int64
}

func newLineScanner(src io.Reader, name string) lineScanner {
	return lineScanner{src: src, name: name, buf: make([]byte, scanBufSize)}
}

// fill makes sure at least maxLine bytes are buffered, or all that is left.
func (s *lineScanner) fill() error {
	if s.eof || s.end-s.pos >= maxLine {
		return nil
	}
	s.off += int64(s.pos)
	copy(s.buf, s.buf[s.pos:s.end])
	s.end -= s.pos
	s.pos = 0
	for empty := 0; s.end-s.pos < maxLine && !s.eof; {
		n, err := s.src.Read(s.buf[s.end:])
		s.end += n
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			return s.errorf(s.line+1, err, "reading the trace")
		case n == 0:
			if empty++; empty > 100 {
				return s.errorf(s.line+1, io.ErrNoProgress, "reading the trace")
			}
		}
	}
	return nil
}

// next returns the next line without its terminator ("\n" or "\r\n"), ok=false at the end.
func (s *lineScanner) next() (line []byte, ok bool, err error) {
	if s.err != nil {
		return nil, false, s.err
	}
	if err := s.fill(); err != nil {
		s.err = err
		return nil, false, err
	}
	if s.pos >= s.end {
		return nil, false, nil
	}
	rest := s.buf[s.pos:s.end]
	i := bytes.IndexByte(rest, '\n')
	s.line++
	if (i >= maxLine || (i < 0 && (!s.eof || len(rest) >= maxLine))) && s.skipLong != nil {
		if skip, count := s.skipLong(rest[:min(len(rest), 64)]); skip {
			if count {
				s.longSkipped++
			}
			if err := s.dropLine(); err != nil {
				s.err = err
				return nil, false, err
			}
			return s.next()
		}
	}
	if i >= maxLine {
		s.err = s.errorf(s.line, nil, "line longer than %d bytes", maxLine-1)
		return nil, false, s.err
	}
	if i < 0 {
		if !s.eof || len(rest) >= maxLine {
			s.err = s.errorf(s.line, nil, "line longer than %d bytes", maxLine-1)
			return nil, false, s.err
		}
		i = len(rest)
		s.pos = s.end
	} else {
		s.pos += i + 1
	}
	line = rest[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, true, nil
}

// dropLine discards the rest of the current line, terminator included, however long.
func (s *lineScanner) dropLine() error {
	for {
		rest := s.buf[s.pos:s.end]
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			s.pos += i + 1
			return nil
		}
		s.pos = s.end
		if s.eof {
			return nil
		}
		if err := s.fill(); err != nil {
			return err
		}
	}
}

func (s *lineScanner) errorf(line int64, err error, format string, args ...any) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	return &Error{File: s.name, Line: line, Offset: -1, Reason: fmt.Sprintf(format, args...), Err: err}
}

// textReader is a line-oriented reader: each line goes through an in-place fast path for
// the format's canonical shape, or else through the general line parser.
type textReader struct {
	s lineScanner
	// fast parses canonical lines from s's buffer into recs[n:] and returns the new n;
	// it stops at the first line of another shape or when the buffer needs refilling.
	fast func(s *lineScanner, recs []Record, n int) int
	// parse parses one line: reason is "" for a record, skipLine for a line to skip, or
	// why the line is malformed.
	parse   func(line []byte) (rec Record, reason string)
	lenient bool // skip and count malformed lines instead of failing
	skipped int64
}

// SkippedLines is the number of malformed lines skipped so far (lenient readers only).
func (r *textReader) SkippedLines() int64 { return r.skipped + r.s.longSkipped }

func (r *textReader) Read(recs []Record) (int, error) {
	n := 0
	for n < len(recs) {
		if n = r.fastPath(recs, n); n == len(recs) {
			break
		}
		line, ok, err := r.s.next()
		if err != nil {
			return n, err
		}
		if !ok {
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		rec, reason := r.parse(line)
		switch reason {
		case "":
			recs[n] = rec
			n++
		case skipLine:
		default:
			if r.lenient {
				r.skipped++
				continue
			}
			r.s.err = r.s.errorf(r.s.line, nil, "%s: %q", reason, clip(line))
			return n, r.s.err
		}
	}
	return n, nil
}

// fastPath runs the fast parser and refills the buffer when it ran low.
func (r *textReader) fastPath(recs []Record, n int) int {
	s := &r.s
	if s.err != nil {
		return n
	}
	n = r.fast(s, recs, n)
	if !s.eof && s.end-s.pos < maxLine {
		if err := s.fill(); err != nil {
			s.err = err
		}
	}
	return n
}

// skipLine is the reason a parser gives for a line that holds no record and is no error.
const skipLine = "skip"

// noComments is the reason the parser of a text format without comment lines gives for a
// line starting with '#'.
func noComments(format string) string {
	return "a '#' comment line: the " + format + " format has none (of the text formats only pin's has)"
}

// clip shortens a line quoted in an error message.
func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// hexVal maps an ASCII byte to its hex digit value, or 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// parseHex parses a hex number (optionally 0x-prefixed) at the start of b and returns it
// with the bytes consumed. It fails on no digits or more than 16 significant digits.
func parseHex(b []byte) (v uint64, n int, ok bool) {
	if len(b) >= 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		n = 2
	}
	start := n
	for n < len(b) {
		d := hexVal[b[n]]
		if d == 0xff {
			break
		}
		if v>>60 != 0 {
			return 0, n, false
		}
		v = v<<4 | uint64(d)
		n++
	}
	return v, n, n > start
}

// hexDigits takes 8 bytes (the first the lowest: binary.LittleEndian.Uint64 of them) and returns each one's value as a hex
// digit, a byte each; ok is false if any is not a hex digit.
func hexDigits(x uint64) (uint64, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// For bytes below 0x80, x + (0x80-lo)*ones sets a byte's high bit iff it is >= lo.
	l := x | 0x20*ones // 'A'-'F' to 'a'-'f'; no other byte becomes one of them
	digit := (x + (0x80-'0')*ones) &^ (x + (0x80-'9'-1)*ones)
	letter := (l + (0x80-'a')*ones) &^ (l + (0x80-'f'-1)*ones)
	ok := (digit|letter)&^x&highs == highs // and no byte of x >= 0x80
	// Letters have bit 6 set: add 9.
	return x&(0x0f*ones) + (x>>6)&ones*9, ok
}

// packNibbles packs 8 digit values, a byte each, the first the lowest, into the number
// they write, the first the most significant. hexDigits and packNibbles parse 8 hex
// digits all at once (SWAR: the 8 bytes as one word, no loop and no branch a digit); each
// is inlined where a function of both would not be.
func packNibbles(x uint64) uint64 {
	x = bits.ReverseBytes64(x)
	x = (x>>4 | x) & 0x00ff00ff00ff00ff
	x = (x>>8 | x) & 0x0000ffff0000ffff
	return (x>>16 | x) & 0xffffffff
}

// scanHex reads hex digits from buf[i:] and returns their value (the low 64 bits) and the
// index just past them. Callers check the digit count.
func scanHex(buf []byte, i int) (v uint64, end int) {
	for i < len(buf) {
		d := hexVal[buf[i]]
		if d == 0xff {
			break
		}
		v = v<<4 | uint64(d)
		i++
	}
	return v, i
}

// parseDec parses a decimal number that fits in 32 bits at the start of b.
func parseDec(b []byte) (v uint32, n int, ok bool) {
	var x uint64
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		x = x*10 + uint64(b[n]-'0')
		if x > 1<<32-1 {
			return 0, n, false
		}
		n++
	}
	return uint32(x), n, n > 0
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

func isBlank(b []byte) bool { return skipSpace(b, 0) == len(b) }

// SliceReader reads records from a slice. It is meant for tests and examples.
type SliceReader struct {
	recs []Record
}

// NewSliceReader returns a reader over recs.
func NewSliceReader(recs []Record) *SliceReader { return &SliceReader{recs: recs} }

func (r *SliceReader) Read(out []Record) (int, error) {
	if len(r.recs) == 0 {
		return 0, io.EOF
	}
	n := copy(out, r.recs)
	r.recs = r.recs[n:]
	return n, nil
}

// ReadAll reads every record of r. It is meant for tests and small traces: it holds the
// whole trace in memory.
func ReadAll(r Reader) ([]Record, error) {
	var all []Record
	buf := make([]Record, 4096)
	for {
		n, err := r.Read(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}
