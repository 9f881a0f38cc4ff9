package traces

import "io"

// RWReader reads the "rw" text format: one access a line, a hex address, white space,
// and R (read) or W (write), for example "0041f7a0 R". Every access has size 1 and
// address space 0. Lines holding only white space are skipped. The format has no comment
// lines: a line starting with '#' is an error (of the text formats only pin's has them).
type RWReader struct{ textReader }

// NewRWReader returns a reader of the rw format; name is used in error messages.
func NewRWReader(r io.Reader, name string) *RWReader {
	return &RWReader{textReader{s: newLineScanner(r, name), fast: fastRW, parse: parseRW}}
}

// parseRW parses one rw line. reason is "" for a record, skipLine for a blank line, or
// why the line is malformed.
func parseRW(line []byte) (rec Record, reason string) {
	i := skipSpace(line, 0)
	addr, k, ok := parseHex(line[i:])
	if !ok {
		if i == len(line) {
			return rec, skipLine
		}
		if line[i] == '#' {
			return rec, noComments("rw")
		}
		return rec, "want a hex address of at most 16 digits"
	}
	i += k
	j := skipSpace(line, i)
	if j == i || j >= len(line) {
		return rec, "want an address, a space and R or W"
	}
	switch line[j] {
	case 'R', 'r':
		rec.Kind = Read
	case 'W', 'w':
		rec.Kind = Write
	default:
		return rec, "want R or W after the address"
	}
	if skipSpace(line, j+1) != len(line) {
		return rec, "unexpected text after R or W"
	}
	rec.Addr, rec.Size = addr, 1
	return rec, ""
}

// fastRW parses canonical lines ("<1-16 hex digits> <R|W>\n") in place.
func fastRW(s *lineScanner, recs []Record, n int) int {
	buf, pos := s.buf[:s.end], s.pos
	for n < len(recs) && (s.eof || len(buf)-pos >= maxLine) {
		// The commonest shape of all, "<8 hex digits> R\n": eight independent lookups
		// instead of a loop.
		if pos+11 <= len(buf) && buf[pos+8] == ' ' && buf[pos+10] == '\n' && (buf[pos+9] == 'R' || buf[pos+9] == 'W') {
			b := buf[pos : pos+8 : pos+8]
			d0, d1, d2, d3 := hexVal[b[0]], hexVal[b[1]], hexVal[b[2]], hexVal[b[3]]
			d4, d5, d6, d7 := hexVal[b[4]], hexVal[b[5]], hexVal[b[6]], hexVal[b[7]]
			if (d0|d1|d2|d3|d4|d5|d6|d7)&0xf0 == 0 {
				v := uint64(d0)<<28 | uint64(d1)<<24 | uint64(d2)<<20 | uint64(d3)<<16 |
					uint64(d4)<<12 | uint64(d5)<<8 | uint64(d6)<<4 | uint64(d7)
				recs[n] = Record{Addr: v, Size: 1, Kind: Kind(buf[pos+9]>>2) & 1} // 'R' 0x52 -> 0, 'W' 0x57 -> 1
				n++
				s.line++
				pos += 11
				continue
			}
		}
		v, i := scanHex(buf, pos)
		if i == pos || i-pos > 16 || i+2 >= len(buf) || buf[i] != ' ' || buf[i+2] != '\n' {
			break
		}
		var k Kind
		switch buf[i+1] {
		case 'R':
			k = Read
		case 'W':
			k = Write
		default:
			s.pos = pos
			return n
		}
		recs[n] = Record{Addr: v, Size: 1, Kind: k}
		n++
		s.line++
		pos = i + 3
	}
	s.pos = pos
	return n
}
