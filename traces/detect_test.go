package traces

import (
	"bytes"
	"strings"
	"testing"
)

// TestDetectionAgreesWithReaders runs each text format through --format auto and through
// its own reader with a '#' comment before the records, and with an invalid first record
// (issue 20, item 18). Only pin's format has comment lines: detection skips them there
// and nowhere else. Where the file is one format's but the reader rejects it, detection
// reports exactly the reader's error: the file, the line and the reader's reason, never
// "not a trace format vmsim knows".
func TestDetectionAgreesWithReaders(t *testing.T) {
	formats := []struct {
		format  Format
		skipped string // a line the format skips
		valid   string // a record
		invalid string // a line that looks like a record of the format, and is not
		reason  string // what the reader says of invalid
	}{
		{FormatRW, "", "0041f7a0 R", "0041f7a0 X", "want R or W after the address"},
		{FormatDin, "", "1 70f60888", "7 70f60888", "din label must be 0 to 5"},
		{FormatXDin, "", "w 70f60888 4", "w 70f60888", "extended din: want a hex size after the address"},
		{FormatLackey, "==1== Lackey", " L 1ffefffd78,8", " L 1ffefffd78", "want ',' and a size after the address"},
		{FormatPin, "", "0x40001ee0: R 0xbfffe798", "0x40001ee0: X 0xbfffe798", "want R or W after 'IP:'"},
	}
	for _, ff := range formats {
		comment := noComments(string(ff.format))
		if ff.format == FormatXDin {
			comment = noComments("din")
		}
		cases := []struct {
			name    string
			text    string
			wantErr string // "" when the records read
		}{
			{"comment first line", "# recorded by hand\n" + ff.valid + "\n" + ff.valid + "\n", "t.trace:1: " + comment},
			{"invalid first record", ff.invalid + "\n" + ff.valid + "\n", "t.trace:1: " + ff.reason},
			{"invalid record after a skipped line", ff.skipped + "\n" + ff.invalid + "\n", "t.trace:2: " + ff.reason},
			{"comment then invalid record", "#\n" + ff.invalid + "\n", "t.trace:1: " + comment},
		}
		if ff.format == FormatPin {
			cases[0].wantErr = ""
			cases[3].wantErr = "t.trace:2: " + ff.reason
		}
		for _, tt := range cases {
			t.Run(string(ff.format)+"/"+tt.name, func(t *testing.T) {
				// The format's own reader.
				want, _, wantErr := readString(t, ff.format, false, tt.text)
				// Detection.
				var got []Record
				f, err := NewFile(strings.NewReader(tt.text), "t.trace", Options{})
				if err == nil {
					got, err = ReadAll(f)
				}
				checkErr(t, err, tt.wantErr)
				if tt.wantErr == "" {
					if !equalRecs(got, want) || wantErr != nil || len(got) != 2 {
						t.Errorf("detected: %v; the reader: %v, %v", got, want, wantErr)
					}
					return
				}
				if wantErr == nil || wantErr.Error() != err.Error() {
					t.Errorf("detection says %q, the %s reader %v", err, ff.format, wantErr)
				}
				if !strings.HasSuffix(err.Error(), ": "+quote(tt.text, tt.wantErr)) {
					t.Errorf("error %q does not quote the line", err)
				}
				// Sniff itself tells the format (valgrind's line does), or names it in its
				// error (the din reader reads xdin: Sniff calls both din).
				name := strings.TrimPrefix(string(ff.format), "x")
				if sf, serr := Sniff([]byte(tt.text)); !strings.HasSuffix(string(sf), name) && (serr == nil || !strings.Contains(serr.Error(), name)) {
					t.Errorf("Sniff: %s, %v; want %s or an error naming it", sf, serr, ff.format)
				}
			})
		}
	}
}

// quote is the line of text that an error at "t.trace:N: ..." quotes.
func quote(text, wantErr string) string {
	n := 0
	for _, c := range wantErr[len("t.trace:"):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return `"` + strings.Split(text, "\n")[n-1] + `"`
}

// TestDetectionLenientLackeyComment: a lenient lackey reader skips (and counts) what it
// rejects, a '#' line among them, and so does detection with --lenient.
func TestDetectionLenientLackeyComment(t *testing.T) {
	f, err := NewFile(bytes.NewReader([]byte("# x\n L 10,4\n S 20,8\n")), "t.trace", Options{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadAll(f)
	if err != nil || len(recs) != 2 || f.Format != FormatLackey || f.SkippedLines() != 1 {
		t.Errorf("read %v, %v as %s, %d lines skipped; want 2 lackey records, 1 line skipped", recs, err, f.Format, f.SkippedLines())
	}
}

func TestLooksLike(t *testing.T) {
	for _, tt := range []struct {
		line string
		want Format
	}{
		{"0x4011a0: X 0x10", FormatPin},
		{"4011a0:", FormatPin},
		{"SYSCALL[1,1](0) what", FormatLackey},
		{"I  04001100", FormatLackey},
		{" M 10", FormatLackey},
		{"S 10 4", FormatLackey},
		{"I 10,x", FormatLackey},
		{"i 10", FormatXDin},
		{"M 10", FormatXDin},
		{"v zz", FormatXDin},
		{"7 1000", FormatDin},
		{"0x9 0x1000 junk", FormatDin},
		{"1000", FormatRW},
		{"1000 X", FormatRW},
		{"1000R", FormatRW},
		{"1ffffffffffffffff R", FormatRW},
		{"hello world", ""},
		{"zz R", ""},
		{"1000-", ""},
	} {
		if got := looksLike([]byte(tt.line)); got != tt.want {
			t.Errorf("looksLike(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// FuzzDetect checks that --format auto and the reader of the format it picks (or names
// in its error) agree on text: the same records, and the same error.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"# c\n0041f7a0 R\n", "0041f7a0 X\n", "\n7 70f60888\n", "#\nw 70f60888\n", "==1== x\n L 10\n",
		"# c\n L 10,4\n", "0x40001ee0: X 0xbfffe798\n", "# c\n0x40001ee0: R 0xbfffe798\n#eof\n", "10 R\r\r\n", "hello\n", "I 10"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, lenient bool) {
		if bytes.IndexByte(data, 0) >= 0 || detectCompression(func(n int) []byte { return data[:min(n, len(data))] }) != None {
			return // binary, or compressed: not text
		}
		opt := Options{Lenient: lenient}
		var got []Record
		fa, err := NewFile(bytes.NewReader(data), "f.trace", opt)
		var format Format
		if err == nil {
			format = fa.Format
			got, err = ReadAll(fa)
		} else if _, serr := Sniff(data[:min(len(data), 8<<10)]); serr != nil {
			se, ok := serr.(*sniffError)
			if !ok || se.likely == "" {
				return // no format to compare with
			}
			format = se.likely
		}
		if err != nil && !strings.Contains(err.Error(), "f.trace") {
			t.Fatalf("error %q does not name the file", err)
		}
		opt.Format = format
		want, _, werr := func() ([]Record, *File, error) {
			f, err := NewFile(bytes.NewReader(data), "f.trace", opt)
			if err != nil {
				return nil, nil, err
			}
			r, err := ReadAll(f)
			return r, f, err
		}()
		if !equalRecs(got, want) || (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("auto: %d records, %v; %s: %d records, %v", len(got), err, format, len(want), werr)
		}
	})
}
