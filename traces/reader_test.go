package traces

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func readString(t *testing.T, format Format, lenient bool, text string) ([]Record, *File, error) {
	t.Helper()
	f, err := NewFile(strings.NewReader(text), "t.trace", Options{Format: format, Lenient: lenient})
	if err != nil {
		return nil, nil, err
	}
	recs, err := ReadAll(f)
	return recs, f, err
}

func TestRWReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Record
		wantErr string // substring; "" for none
	}{
		{"two records", "0041f7a0 R\n31348900 W\n", []Record{{0x41f7a0, 1, 0, Read}, {0x31348900, 1, 0, Write}}, ""},
		{"no final newline", "10 R", []Record{{0x10, 1, 0, Read}}, ""},
		{"crlf and lower case", "0x10 w\r\nFF r\r\n", []Record{{0x10, 1, 0, Write}, {0xff, 1, 0, Read}}, ""},
		{"blank lines and tabs", "\n10\tR\n  \n20 W  \n", []Record{{0x10, 1, 0, Read}, {0x20, 1, 0, Write}}, ""},
		{"64-bit address", "ffffffffffffffff R\n", []Record{{^uint64(0), 1, 0, Read}}, ""},
		{"eight digits, upper case", "0041F7A0 W\nFFFFFFFF R\n", []Record{{0x41f7a0, 1, 0, Write}, {0xffffffff, 1, 0, Read}}, ""},
		{"eight digits, one not hex", "0041f7a0 R\n0041g7a0 R\n", []Record{{0x41f7a0, 1, 0, Read}}, "t.trace:2: want an address, a space and R or W"},
		{"eight digits, lower-case kind", "0041f7a0 w\n", []Record{{0x41f7a0, 1, 0, Write}}, ""},
		{"empty", "", nil, ""},
		{"bad kind", "10 R\n20 X\n", []Record{{0x10, 1, 0, Read}}, "t.trace:2: want R or W"},
		{"no kind", "10\n", nil, "t.trace:1: want an address, a space and R or W"},
		{"no space", "10R\n", nil, "t.trace:1:"},
		{"not hex", "zz R\n", nil, "t.trace:1: want a hex address"},
		{"address too long", "1ffffffffffffffff R\n", nil, "t.trace:1: want a hex address of at most 16 digits"},
		{"trailing text", "10 R extra\n", nil, "t.trace:1: unexpected text"},
		{"line too long", "10 R\n" + strings.Repeat("1", 5000) + " R\n", []Record{{0x10, 1, 0, Read}}, "t.trace:2: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readString(t, FormatRW, false, tt.in)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLackeyReader(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		lenient     bool
		want        []Record
		wantSkipped int64
		wantErr     string
	}{
		{"all kinds", "==12== Lackey\n--12-- note\nI  04001100,3\n L 1ffefffd78,8\n S 0421d3c0,4\n M 0421d3c0,4\n",
			false, []Record{{0x4001100, 3, 0, Fetch}, {0x1ffefffd78, 8, 0, Read}, {0x421d3c0, 4, 0, Write}, {0x421d3c0, 4, 0, Modify}}, 0, ""},
		{"valgrind lines only", "==1== a\n==1== b\n", false, nil, 0, ""},
		{"strict rejects junk", "I  10,1\nhello\n", false, []Record{{0x10, 1, 0, Fetch}}, 0, "t.trace:2: not a lackey record"},
		{"lenient skips junk", "I  10,1\nhello\n\n L 20,2\n", true, []Record{{0x10, 1, 0, Fetch}, {0x20, 2, 0, Read}}, 2, ""},
		{"size zero", " L 10,0\n", false, nil, 0, "t.trace:1: size 0"},
		{"no size", " L 10\n", false, nil, 0, "t.trace:1: want ',' and a size"},
		{"bad size", " L 10,x\n", false, nil, 0, "t.trace:1: want a decimal size"},
		{"huge size", " L 10,99999999999\n", false, nil, 0, "t.trace:1: want a decimal size"},
		{"wraps address space", " L ffffffffffffffff,2\n", false, nil, 0, "past the end of the address space"},
		{"trailing text", " L 10,4 x\n", false, nil, 0, "t.trace:1: unexpected text"},
		{"truncated last line", "I  10,1\n L 2", false, []Record{{0x10, 1, 0, Fetch}}, 0, "t.trace:2: want ','"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f, err := readString(t, FormatLackey, tt.lenient, tt.in)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
			if f != nil && f.SkippedLines() != tt.wantSkipped {
				t.Errorf("skipped = %d, want %d", f.SkippedLines(), tt.wantSkipped)
			}
		})
	}
}

func TestErrorIsSticky(t *testing.T) {
	r := NewRWReader(strings.NewReader("10 R\nbad\n20 R\n"), "x")
	buf := make([]Record, 10)
	n, err := r.Read(buf)
	if n != 1 || err == nil {
		t.Fatalf("Read = %d, %v; want 1 record and an error", n, err)
	}
	if n2, err2 := r.Read(buf); n2 != 0 || err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second Read = %d, %v; want the same error", n2, err2)
	}
	var te *Error
	if !errors.As(err, &te) || te.Line != 2 || te.File != "x" {
		t.Fatalf("error %v is not a *Error at x:2", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name, in string
		want     Format
		wantErr  bool
	}{
		{"rw", "0041f7a0 R\n", FormatRW, false},
		{"lackey header", "==1== Lackey\n", FormatLackey, false},
		{"lackey record", "\nI  0400,2\n", FormatLackey, false},
		{"garbage", "hello world\n", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Sniff = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

const sampleRW = "0041f7a0 R\n13f5e2c0 R\n31348900 W\n"

// randomRW is an rw trace that does not compress to almost nothing.
func randomRW(n int) string {
	var b strings.Builder
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(&b, "%08x %c\n", uint32(x), "RW"[x>>63])
	}
	return b.String()
}

func compress(t *testing.T, c Compression, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case Gzip:
		w = gzip.NewWriter(&b)
	case Zstd:
		w, err = zstd.NewWriter(&b)
	case XZ:
		w, err = xz.NewWriter(&b)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCompressionFromContent(t *testing.T) {
	want, _, err := readString(t, FormatRW, false, sampleRW)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{Gzip, Zstd, XZ} {
		t.Run(string(c), func(t *testing.T) {
			data := compress(t, c, sampleRW)
			// The name says nothing: detection is by content.
			f, err := NewFile(bytes.NewReader(data), "trace.txt", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Compression != c || f.Format != FormatRW {
				t.Errorf("detected %s/%s, want %s/rw", f.Compression, f.Format, c)
			}
			got, err := ReadAll(f)
			if err != nil || !equalRecs(got, want) {
				t.Errorf("ReadAll = %v, %v; want %v", got, err, want)
			}
		})
		t.Run(string(c)+"/truncated", func(t *testing.T) {
			data := compress(t, c, randomRW(20000))
			f, err := NewFile(bytes.NewReader(data[:len(data)/2]), "cut.gz", Options{Format: FormatRW})
			if err == nil {
				_, err = ReadAll(f)
			}
			if err == nil || !strings.Contains(err.Error(), "cut.gz") {
				t.Errorf("truncated %s stream: error %v, want one naming the file", c, err)
			}
		})
		t.Run(string(c)+"/corrupt", func(t *testing.T) {
			data := compress(t, c, randomRW(20000))
			for i := len(data) / 3; i < len(data)/3+64; i++ {
				data[i] ^= 0x5a
			}
			f, err := NewFile(bytes.NewReader(data), "bad.zst", Options{Format: FormatRW})
			if err == nil {
				_, err = ReadAll(f)
			}
			if err == nil || !strings.Contains(err.Error(), "bad.zst") {
				t.Errorf("corrupt %s stream: error %v, want one naming the file", c, err)
			}
		})
	}
}

func TestSample(t *testing.T) {
	f, err := OpenSample()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 545288 {
		t.Errorf("sample has %d records, want 545288 (traces/sample/README.md)", len(recs))
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

func equalRecs(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
