package traces

import (
	"strings"
	"testing"
)

func TestPinReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Record
		wantErr string
	}{
		{"ManualExamples output", "0x40001ee0: R 0xbfffe798\n0x40001efd: W 0xbfffe7d4\n#eof\n",
			[]Record{{Addr: 0xbfffe798, Size: 1, ASID: 0, Kind: Read}, {Addr: 0xbfffe7d4, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"with sizes", "0x7f3a1c2d4e5f: R 0x7ffd2a3b4c50 8\n0x7f3a1c2d4e63: W 0x7ffd2a3b4c58 4\n",
			[]Record{{Addr: 0x7ffd2a3b4c50, Size: 8, ASID: 0, Kind: Read}, {Addr: 0x7ffd2a3b4c58, Size: 4, ASID: 0, Kind: Write}}, ""},
		{"size then value", "0x10: W 0x20  8 0x0000000000000001\n", []Record{{Addr: 0x20, Size: 8, ASID: 0, Kind: Write}}, ""},
		{"nil address", "0x10: R (nil)\n", []Record{{Addr: 0, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"comments, blanks, crlf", "# pinatrace\n\n0x10: r 0x20\r\n   # x\n", []Record{{Addr: 0x20, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"empty", "", nil, ""},
		{"no colon", "0x10 R 0x20\n", nil, "t.trace:1: want ':' after the instruction pointer"},
		{"bad kind", "0x10: X 0x20\n", nil, "t.trace:1: want R or W"},
		{"no address", "0x10: R\n", nil, "t.trace:1: want a space and an address"},
		{"address not hex", "0x10: R zz\n", nil, "t.trace:1: want a hex address"},
		{"address too long", "0x10: R 0x1ffffffffffffffff\n", nil, "t.trace:1: want a hex address of at most 16 digits"},
		{"junk after the address", "0x10: R 0x20z\n", nil, "t.trace:1: unexpected character after the address"},
		{"size zero", "0x10: R 0x20 0\n", nil, "t.trace:1: size 0"},
		{"bad size", "0x10: R 0x20 8x\n", nil, "t.trace:1: bad character in the size"},
		{"size not a number", "0x10: R 0x20 big\n", nil, "t.trace:1: want a decimal size"},
		{"wraps", "0x10: W 0xffffffffffffffff 2\n", nil, "t.trace:1: access runs past the end"},
		{"second line bad", "0x10: R 0x20\nhello\n", []Record{{Addr: 0x20, Size: 1, ASID: 0, Kind: Read}}, "t.trace:2: not a pinatrace record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readString(t, FormatPin, false, tt.in)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSniffPin(t *testing.T) {
	for _, in := range []string{
		"0x40001ee0: R 0xbfffe798\n",
		"#\n# header\n0x7f3a1c2d4e5f: W 0x7ffd2a3b4c50 8\n",
	} {
		got, err := Sniff([]byte(in))
		if err != nil || got != FormatPin {
			t.Errorf("Sniff(%q) = %s, %v; want pin", in, got, err)
		}
	}
	if _, err := Sniff([]byte("#eof\n")); err == nil || !strings.Contains(err.Error(), "no record") {
		t.Errorf("Sniff of comments only: %v", err)
	}
}

func FuzzPin(f *testing.F) {
	for _, s := range []string{"0x40001ee0: R 0xbfffe798\n#eof\n", "0x1: W 0x2 8 0x3\n", "0x1: R (nil)\r\n", "junk"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzReader(t, data, Options{Format: FormatPin})
		sameAsLineByLine(t, data, FormatPin, parsePin)
	})
}
