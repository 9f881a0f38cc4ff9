package traces

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDinReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Record
		wantErr string
	}{
		{"traditional", "2 0\n0 1000\n1 70f60888\n", []Record{{Addr: 0, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 0x1000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x70f60888, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"comments ignored", "2 0 This is an instruction fetch at hex address 0.\n0 1000\tread\n", []Record{{Addr: 0, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 0x1000, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"misc is a read; flush and invalidate skipped", "3 10\n4 20\n5 30\n1 40\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x40, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"0x prefixes, crlf, blank lines", "0x1 0x10\r\n\n  0 FF\r\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Write}, {Addr: 0xff, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"64-bit address", "0 ffffffffffffffff\n", []Record{{Addr: ^uint64(0), Size: 1, ASID: 0, Kind: Read}}, ""},
		{"extended", "r 1000 4\nw 0x2000 0x8\ni 400 2 comment\nm 10 1\nc 10 40\nV 10 40\n", []Record{{Addr: 0x1000, Size: 4, ASID: 0, Kind: Read}, {Addr: 0x2000, Size: 8, ASID: 0, Kind: Write}, {Addr: 0x400, Size: 2, ASID: 0, Kind: Fetch}, {Addr: 0x10, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"mixed", "1 10\nW 20 4\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Write}, {Addr: 0x20, Size: 4, ASID: 0, Kind: Write}}, ""},
		{"bad label", "0 10\n6 10\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Read}}, "t.trace:2: din label must be 0 to 5"},
		{"no address", "1\n", nil, "t.trace:1:"},
		{"bad address", "1 10z\n", nil, "t.trace:1: din: bad character in the address"},
		{"not din", "hello world\n", nil, "t.trace:1: not a din record"},
		{"extended without size", "r 1000\n", nil, "t.trace:1: extended din: want a hex size"},
		{"extended size 0", "r 1000 0\n", nil, "t.trace:1: extended din: size must be"},
		{"extended bad size", "r 1000 4q\n", nil, "t.trace:1: extended din: bad character in the size"},
		{"address too long", "0 1ffffffffffffffff\n", nil, "t.trace:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readString(t, FormatDin, false, tt.in)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSniffDin(t *testing.T) {
	for _, in := range []string{"2 0\n0 1000\n", "r 1000 4\n", "4 10\n0 20\n"} {
		f, err := NewFile(strings.NewReader(in), "t", Options{})
		if err != nil || f.Format != FormatDin {
			t.Errorf("%q: format %v, err %v", in, f, err)
		}
	}
}

// TestWriterRoundTrips checks X -> vmt -> X for every text format X: the records read
// back equal those first read, as far as X can carry them.
func TestWriterRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	all := randomRecords(rng, 5000)
	for _, f := range []Format{FormatRW, FormatDin, FormatXDin, FormatLackey} {
		t.Run(string(f), func(t *testing.T) {
			// What f can carry: address space 0, no control records, and per format
			// the kinds and sizes.
			var recs []Record
			for _, r := range all {
				if !r.Kind.IsAccess() {
					continue
				}
				r.ASID = 0
				switch f {
				case FormatRW:
					r.Size = 1
					if r.Kind == Fetch {
						r.Kind = Read
					}
					if r.Kind == Modify {
						r.Kind = Write
					}
				case FormatDin:
					r.Size = 1
					if r.Kind == Modify {
						r.Kind = Write
					}
				case FormatXDin:
					if r.Kind == Modify {
						r.Kind = Write
					}
				}
				recs = append(recs, r)
			}
			text := writeText(t, f, recs, false)
			vmt := writeVMT(t, readBack(t, text, f), VMTOptions{Compress: true})
			again := writeText(t, f, readBack(t, vmt, FormatAuto), false)
			if !bytes.Equal(text, again) {
				t.Fatalf("%s -> vmt -> %s changed the file", f, f)
			}
			if got := readBack(t, again, FormatAuto); !equalRecs(got, recs) {
				t.Fatalf("records differ after the round trip")
			}
		})
	}
}

func writeText(t *testing.T, f Format, recs []Record, lossy bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, WriterOptions{Lossy: lossy})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if lw, ok := w.(LossyWriter); ok && !lossy && (lw.Losses().ASIDs != 0 || lw.Losses().Control != 0) {
		t.Fatalf("losses %+v without Lossy", lw.Losses())
	}
	return buf.Bytes()
}

func readBack(t *testing.T, data []byte, f Format) []Record {
	t.Helper()
	file, err := NewFile(bytes.NewReader(data), "rt", Options{Format: f})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadAll(file)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestTextWriterLosses(t *testing.T) {
	recs := []Record{{Addr: 1, Size: 8, Kind: Modify}, {Addr: 2, Size: 1, Kind: Fetch, ASID: 3}, {Kind: Checkpoint}}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, FormatRW, WriterOptions{})
	if err := w.Write(recs); err == nil || !strings.Contains(err.Error(), "address space") {
		t.Fatalf("ASID accepted: %v", err)
	}
	w, _ = NewWriter(&buf, FormatDin, WriterOptions{})
	if err := w.Write(recs[2:]); err == nil || !strings.Contains(err.Error(), "checkpoint records") {
		t.Fatalf("control record accepted: %v", err)
	}
	buf.Reset()
	w, _ = NewWriter(&buf, FormatRW, WriterOptions{Lossy: true})
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got, want := w.(LossyWriter).Losses(), (Losses{Sizes: 1, Kinds: 2, ASIDs: 1, Control: 1}); got != want {
		t.Errorf("losses %+v, want %+v", got, want)
	}
	if got := buf.String(); got != "00000001 W\n00000002 R\n" {
		t.Errorf("wrote %q", got)
	}
}

func FuzzDin(f *testing.F) {
	for _, s := range []string{"2 0\n0 1000 c\n1 70f60888\n", "r 10 4\nw 0x20 0x8\nc 1 1\n", "6 1\n", "0x1 0x10\r\n",
		// The fast path's fixed shape (8 digits) and its near misses.
		"0 70F60888\n1 0040a7f4\n2 ffffffff\n", "1 70f6088g\n", "1 70f60888\r\n", "1 7 f60888\n", "3 70f60888\n", "1 70f60888"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzReader(t, data, Options{Format: FormatDin})
		sameAsLineByLine(t, data, FormatDin, parseDin)
	})
}
