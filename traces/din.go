package traces

import (
	"encoding/binary"
	"io"
)

// DinReader reads Dinero's text formats, as Dinero IV documents them, line by line:
//
// The traditional "din" format (Dinero III, dineroIV -informat d): a label, an address
// and the rest of the line ignored (often a comment), for example "1 70f60888". Label and
// address are hex, each with an optional 0x. Labels: 0 read, 1 write, 2 instruction
// fetch, 3 miscellaneous (an access of unknown type; read as a read), 4 copy-back (cache
// flush) and 5 invalidate. The line carries no size: the access has size 1 at the address
// as given (Dinero IV reads it as the 4-byte word at address&^3, which lies on the same
// page).
//
// The extended din format (dineroIV -informat D): an access type letter, a hex address
// and a hex size, the rest ignored, for example "w 70f60888 4". Types: r read, w write, i
// instruction fetch, m miscellaneous (read as a read), c copy-back and v invalidate,
// either case.
//
// Copy-back and invalidate records manage a cache and access no memory: the reader skips
// them. Blank lines are skipped. Neither form has comment lines: a line starting with
// '#' is an error (of the text formats only pin's has them). Both forms may be mixed in
// one file. Every access is in address space 0.
type DinReader struct{ textReader }

// NewDinReader returns a reader of Dinero's din and extended din formats; name is used
// in error messages.
func NewDinReader(r io.Reader, name string) *DinReader {
	return &DinReader{textReader{s: newLineScanner(r, name), fast: fastDin, parse: parseDin}}
}

// dinKinds maps a traditional din label to a kind; skipKind marks cache control.
const skipKind Kind = 0xff

var dinKinds = [...]Kind{0: Read, 1: Write, 2: Fetch, 3: Read, 4: skipKind, 5: skipKind}

func xdinKind(c byte) (Kind, bool) {
	switch c | 0x20 {
	case 'r', 'm':
		return Read, true
	case 'w':
		return Write, true
	case 'i':
		return Fetch, true
	case 'c', 'v':
		return skipKind, true
	}
	return 0, false
}

// parseDin parses one line of either din form.
func parseDin(line []byte) (rec Record, reason string) {
	i := skipSpace(line, 0)
	if i == len(line) {
		return rec, skipLine
	}
	// The extended form: one type letter, then white space.
	if k, ok := xdinKind(line[i]); ok && i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t') {
		addr, j, bad := hexField(line, skipSpace(line, i+1))
		switch bad {
		case fieldMissing:
			return rec, "extended din: want a hex address after the access type"
		case fieldBadChar:
			return rec, "extended din: bad character in the address"
		}
		size, _, bad := hexField(line, skipSpace(line, j))
		switch bad {
		case fieldMissing:
			return rec, "extended din: want a hex size after the address"
		case fieldBadChar:
			return rec, "extended din: bad character in the size"
		}
		if size == 0 || size > 1<<32-1 {
			return rec, "extended din: size must be 1 to ffffffff"
		}
		if addr+size-1 < addr {
			return rec, "access runs past the end of the address space"
		}
		if k == skipKind {
			return rec, skipLine
		}
		return Record{Addr: addr, Size: uint32(size), Kind: k}, ""
	}
	label, n, ok := parseHex(line[i:])
	if !ok && line[i] == '#' {
		return rec, noComments("din")
	}
	if !ok {
		return rec, "not a din record (want a label 0-5 or an access type r, w, i, m, c, v)"
	}
	if label >= uint64(len(dinKinds)) {
		return rec, "din label must be 0 to 5"
	}
	j := i + n
	if e := skipSpace(line, j); e == j {
		return rec, "want white space after the din label"
	} else {
		j = e
	}
	addr, _, bad := hexField(line, j)
	switch bad {
	case fieldMissing:
		return rec, "din: want a hex address after the label"
	case fieldBadChar:
		return rec, "din: bad character in the address"
	}
	k := dinKinds[label]
	if k == skipKind {
		return rec, skipLine
	}
	return Record{Addr: addr, Size: 1, Kind: k}, ""
}

// What hexField found wrong with a field.
const (
	fieldOK      = iota
	fieldMissing // no hex number there
	fieldBadChar // a character other than white space right after the number
)

// hexField parses a hex number (optionally 0x-prefixed) at line[j:] that must end the
// line or be followed by white space, and returns it with the index just past it.
func hexField(line []byte, j int) (v uint64, end int, bad int) {
	v, n, ok := parseHex(line[j:])
	if !ok {
		return 0, j, fieldMissing
	}
	end = j + n
	if end < len(line) && line[end] != ' ' && line[end] != '\t' {
		return 0, end, fieldBadChar
	}
	return v, end, fieldOK
}

// fastDin parses canonical traditional lines ("<0|1|2> <1-16 hex digits>\n") in place.
func fastDin(s *lineScanner, recs []Record, n int) int {
	buf, pos := s.buf[:s.end], s.pos
	for n < len(recs) && (s.eof || len(buf)-pos >= maxLine) {
		if pos+3 >= len(buf) || buf[pos] < '0' || buf[pos] > '2' || buf[pos+1] != ' ' {
			break
		}
		// The commonest shape, an address of 8 digits, by lookups of fixed positions.
		if pos+11 <= len(buf) && buf[pos+10] == '\n' {
			if v, ok := hexDigits(binary.LittleEndian.Uint64(buf[pos+2:])); ok {
				recs[n] = Record{Addr: packNibbles(v), Size: 1, Kind: dinKinds[buf[pos]-'0']}
				n++
				s.line++
				pos += 11
				continue
			}
		}
		v, i := scanHex(buf, pos+2)
		if i == pos+2 || i-pos-2 > 16 || i >= len(buf) || buf[i] != '\n' {
			break
		}
		recs[n] = Record{Addr: v, Size: 1, Kind: dinKinds[buf[pos]-'0']}
		n++
		s.line++
		pos = i + 1
	}
	s.pos = pos
	return n
}
