package traces

import "io"

// LackeyReader reads the output of valgrind --tool=lackey --trace-mem=yes:
//
//	I  04001100,3     instruction fetch of 3 bytes at 0x4001100
//	 L 1ffefffd78,8   load
//	 S 1ffefffd78,8   store
//	 M 0421d3c0,4     modify: a load and a store of the same bytes, one access
//
// Valgrind's own lines, starting "==N==" or "--N--", are skipped. Any other line is an
// error, unless the reader is lenient, in which case it is skipped and counted
// (SkippedLines). Every access is in address space 0.
type LackeyReader struct {
	s       lineScanner
	lenient bool
	skipped int64
}

// NewLackeyReader returns a lackey reader; name is used in error messages.
func NewLackeyReader(r io.Reader, name string, lenient bool) *LackeyReader {
	return &LackeyReader{s: newLineScanner(r, name), lenient: lenient}
}

// SkippedLines is the number of malformed lines skipped so far (lenient readers only).
func (r *LackeyReader) SkippedLines() int64 { return r.skipped }

func (r *LackeyReader) Read(recs []Record) (int, error) {
	n := 0
	for n < len(recs) {
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
		rec, reason := parseLackey(line)
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

const skipLine = "skip"

// parseLackey parses one lackey line. reason is "" for a record, skipLine for a valgrind
// line, or why the line is malformed.
func parseLackey(line []byte) (rec Record, reason string) {
	if isValgrindLine(line) {
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
	default:
		return rec, "not a lackey record (want I, L, S or M)"
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
