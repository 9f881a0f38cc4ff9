package traces

import "io"

// RWReader reads the "rw" text format: one access a line, a hex address, white space,
// and R (read) or W (write), for example "0041f7a0 R". Every access has size 1 and
// address space 0. Lines holding only white space are skipped.
type RWReader struct {
	s lineScanner
}

// NewRWReader returns a reader of the rw format; name is used in error messages.
func NewRWReader(r io.Reader, name string) *RWReader {
	return &RWReader{s: newLineScanner(r, name)}
}

func (r *RWReader) Read(recs []Record) (int, error) {
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
		i := skipSpace(line, 0)
		addr, k, hexOK := parseHex(line[i:])
		if !hexOK {
			if i == len(line) {
				continue // blank line
			}
			r.s.err = r.s.errorf(r.s.line, nil, "want a hex address of at most 16 digits, got %q", clip(line))
			return n, r.s.err
		}
		i += k
		j := skipSpace(line, i)
		var kind Kind
		if j == i || j >= len(line) {
			r.s.err = r.s.errorf(r.s.line, nil, "want an address, a space and R or W, got %q", clip(line))
			return n, r.s.err
		}
		switch line[j] {
		case 'R', 'r':
			kind = Read
		case 'W', 'w':
			kind = Write
		default:
			r.s.err = r.s.errorf(r.s.line, nil, "want R or W after the address, got %q", clip(line))
			return n, r.s.err
		}
		if skipSpace(line, j+1) != len(line) {
			r.s.err = r.s.errorf(r.s.line, nil, "unexpected text after R or W: %q", clip(line))
			return n, r.s.err
		}
		recs[n] = Record{Addr: addr, Size: 1, Kind: kind}
		n++
	}
	return n, nil
}

// clip shortens a line quoted in an error message.
func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}
