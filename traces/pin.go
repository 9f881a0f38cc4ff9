package traces

import "io"

// FormatPin is the text that Intel Pin's pinatrace tool writes (PIN.md).
const FormatPin Format = "pin"

// PinAccessSize is the size of a pinatrace access whose line gives none (the
// ManualExamples tool prints none): one byte, so that the access touches exactly the
// page of its address.
const PinAccessSize = 1

// PinReader reads the output of Pin's pinatrace tool, one data access a line:
//
//	0x7f3a1c2d4e5f: R 0x7ffd2a3b4c50
//	0x7f3a1c2d4e63: W 0x7ffd2a3b4c58 8
//
// that is, the instruction pointer followed by a colon, R (a read) or W (a write), the
// hex address, and optionally the access size in decimal bytes; anything after the size
// (some variants print the value moved) is ignored. An address printed as "(nil)"
// (glibc's %p of a null pointer) is 0. The instruction pointer is checked but not turned
// into an access: pinatrace lists only instructions that touch memory, so fetches
// derived from it would be a biased sample. Lines starting with '#' (the final "#eof")
// and blank lines are skipped. Every access is in address space 0; an access without a
// size has size [PinAccessSize].
type PinReader struct{ textReader }

// NewPinReader returns a reader of pinatrace text; name is used in error messages.
func NewPinReader(r io.Reader, name string) *PinReader {
	return &PinReader{textReader{s: newLineScanner(r, name), fast: noFastPath, parse: parsePin}}
}

// noFastPath is the fast parser of a format that has none.
func noFastPath(_ *lineScanner, _ []Record, n int) int { return n }

// parsePin parses one pinatrace line.
func parsePin(line []byte) (rec Record, reason string) {
	i := skipSpace(line, 0)
	if i == len(line) || line[i] == '#' {
		return rec, skipLine
	}
	if _, n, ok := parsePointer(line[i:]); !ok {
		return rec, "not a pinatrace record (want 'IP: R|W ADDRESS [SIZE]')"
	} else {
		i += n
	}
	if i >= len(line) || line[i] != ':' {
		return rec, "want ':' after the instruction pointer"
	}
	j := skipSpace(line, i+1)
	if j == i+1 || j >= len(line) {
		return rec, "want a space and R or W after 'IP:'"
	}
	switch line[j] {
	case 'R', 'r':
		rec.Kind = Read
	case 'W', 'w':
		rec.Kind = Write
	default:
		return rec, "want R or W after 'IP:'"
	}
	k := skipSpace(line, j+1)
	if k == j+1 {
		return rec, "want a space and an address after R or W"
	}
	addr, n, ok := parsePointer(line[k:])
	if !ok {
		return rec, "want a hex address of at most 16 digits"
	}
	k += n
	size := uint32(PinAccessSize)
	if e := skipSpace(line, k); e == len(line) {
		// no size
	} else if e == k {
		return rec, "unexpected character after the address"
	} else {
		s, m, ok := parseDec(line[e:])
		if !ok {
			return rec, "want a decimal size (at most 4294967295) after the address"
		}
		if e+m < len(line) && line[e+m] != ' ' && line[e+m] != '\t' {
			return rec, "bad character in the size"
		}
		if s == 0 {
			return rec, "size 0"
		}
		size = s
	}
	if addr+uint64(size)-1 < addr {
		return rec, "access runs past the end of the address space"
	}
	rec.Addr, rec.Size = addr, size
	return rec, ""
}

// parsePointer parses a pointer as C's %p prints it: hex with an optional 0x, or
// "(nil)" for 0.
func parsePointer(b []byte) (v uint64, n int, ok bool) {
	if len(b) >= 5 && string(b[:5]) == "(nil)" {
		return 0, 5, true
	}
	return parseHex(b)
}
