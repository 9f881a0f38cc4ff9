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
type LackeyReader struct{ textReader }

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
	return &LackeyReader{textReader{s: s, fast: fastLackey, parse: parseLackey, lenient: lenient}}
}

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

// fastLackey parses canonical lackey records ("I  hex,size\n", " L hex,size\n", ...)
// in place.
func fastLackey(s *lineScanner, recs []Record, n int) int {
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
		recs[n] = Record{Addr: addr, Size: uint32(size), Kind: k}
		n++
		s.line++
		pos = j + 1
	}
	s.pos = pos
	return n
}
