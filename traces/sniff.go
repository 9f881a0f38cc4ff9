package traces

// Telling a trace's format from its first bytes (--format auto).

import (
	"bytes"
	"errors"
	"fmt"
)

// Sniff guesses the format of a trace from its first decompressed bytes. Binary content
// (a NUL byte in head) is vmt by its magic number or one of the ChampSim layouts
// (sniffChampSim says how). Text is read line by line, blank lines skipped, up to the
// first record line: its format is the first of lackey, rw, din and pin that accepts it.
//
// Only the pin format has comment lines ('#' first); the rw, din and lackey readers reject
// them. So a '#' line before the first record is skipped when that record is pin's, and
// makes an error otherwise. A first record that no format accepts but that looks like one
// format's (looksLike) is an error naming that format and its reader's reason; NewFile
// then reports that reader's own error, with the file and line.
func Sniff(head []byte) (Format, error) {
	if bytes.HasPrefix(head, vmtMagic) {
		return FormatVMT, nil
	}
	if isDrmemtraceHead(head) {
		return FormatDrmemtrace, nil
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return sniffChampSim(head)
	}
	comment := 0 // the number of the first '#' line, 0 if none yet
	for line, off := 1, 0; off < len(head) && line <= 64; line++ {
		i := bytes.IndexByte(head[off:], '\n')
		end := off + i + 1
		if i < 0 {
			end = len(head)
		}
		text := bytes.TrimSuffix(bytes.TrimSuffix(head[off:end], []byte("\n")), []byte("\r"))
		off = end
		if isBlank(text) {
			continue
		}
		if text[skipSpace(text, 0)] == '#' {
			if comment == 0 {
				comment = line
			}
			continue
		}
		f := acceptedBy(text)
		likely := f
		if f == "" {
			likely = looksLike(text)
		}
		switch {
		case comment != 0 && likely != "" && likely != FormatPin:
			return "", &sniffError{likely: likely, line: comment, end: end,
				msg: fmt.Sprintf("line %d is a '#' comment, which only the pin format has; the first record (line %d) looks like %s", comment, line, likely)}
		case f != "":
			return f, nil
		case likely != "":
			_, reason := textParser(likely)(text)
			return "", &sniffError{likely: likely, line: line, end: end,
				msg: fmt.Sprintf("line %d looks like %s but is not a valid record: %s: %q", line, likely, reason, clip(text))}
		}
		return "", &sniffError{line: line, end: end,
			msg: fmt.Sprintf("not a trace format vmsim knows (rw, lackey, din, pin, vmt or champsim); first record %q", clip(text))}
	}
	return "", errors.New("cannot tell the format: no record in the first lines")
}

// sniffError is Sniff's error for text it cannot take as a trace.
type sniffError struct {
	msg    string
	likely Format // the format the text looks like, whose reader rejects it; "" for none
	line   int    // the 1-based line of head at fault
	end    int    // the offset in head just past the first record line
}

func (e *sniffError) Error() string { return e.msg }

// acceptedBy returns the text format that takes line (not blank, no comment) as a record
// (or, for lackey, as one of valgrind's lines), or "".
func acceptedBy(line []byte) Format {
	if isValgrindLine(line) {
		return FormatLackey
	}
	if _, reason := parseLackey(line); reason == "" || reason == skipLine {
		return FormatLackey
	}
	if _, reason := parseRW(line); reason == "" {
		return FormatRW
	}
	if _, reason := parseDin(line); reason == "" || reason == skipLine {
		return FormatDin
	}
	if _, reason := parsePin(line); reason == "" {
		return FormatPin
	}
	return ""
}

// looksLike names the text format whose records line, which no format accepts, is
// shaped like, or returns "":
//
//   - pin: a hex number and ':' ("0x4011a0: X 0x10");
//   - lackey: SYSCALL[, or I, L, S or M and white space, where L and S (no extended din
//     type), a ',' or lackey's layout (" L ...", "I  ...") tell it from extended din;
//   - extended din: a type letter (r, w, i, m, c, v) and white space ("w 1000");
//   - din: two hex numbers ("7 1000");
//   - rw: a hex number alone, or followed by white space or R or W ("1000 X").
func looksLike(line []byte) Format {
	if bytes.HasPrefix(line, syscallPrefix) {
		return FormatLackey
	}
	i := skipSpace(line, 0)
	rest := line[i:]
	n := hexRun(rest)
	if n > 0 && n < len(rest) && rest[n] == ':' {
		return FormatPin
	}
	if len(rest) >= 2 && (rest[1] == ' ' || rest[1] == '\t') {
		switch c := rest[0]; {
		case c == 'L' || c == 'S',
			(c == 'I' || c == 'M') && (bytes.IndexByte(rest, ',') >= 0 || i > 0 || bytes.HasPrefix(rest, []byte("I  "))):
			return FormatLackey
		}
		if _, ok := xdinKind(rest[0]); ok {
			return FormatXDin
		}
	}
	if n == 0 {
		return ""
	}
	if j := skipSpace(rest, n); j > n && j < len(rest) && hexRun(rest[j:]) > 0 {
		return FormatDin
	}
	if n == len(rest) || rest[n] == ' ' || rest[n] == '\t' || rest[n]|0x20 == 'r' || rest[n]|0x20 == 'w' {
		return FormatRW
	}
	return ""
}

// hexRun is the length of the hex number (0x optional, any number of digits) at the
// start of b, or 0 when there is none.
func hexRun(b []byte) int {
	n := 0
	if len(b) >= 2 && b[0] == '0' && b[1]|0x20 == 'x' {
		n = 2
	}
	start := n
	for n < len(b) && hexVal[b[n]] != 0xff {
		n++
	}
	if n == start {
		if start == 2 {
			return 1 // the "0" of a bare "0x"
		}
		return 0
	}
	return n
}

// textParser returns the line parser of a text format's reader (a fresh one, for lackey).
func textParser(f Format) func([]byte) (Record, string) {
	switch f {
	case FormatRW:
		return parseRW
	case FormatLackey:
		return parseLackey
	case FormatDin, FormatXDin:
		return parseDin
	case FormatPin:
		return parsePin
	}
	panic("textParser: not a text format: " + string(f))
}
