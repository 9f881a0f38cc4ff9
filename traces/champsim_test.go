package traces

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// champsimInstr is one instruction as ChampSim's tracer records it, before encoding.
type champsimInstr struct {
	ip            uint64
	branch, taken byte
	src, dst      [4]uint64
	asid          [2]byte
}

// encodeChampSim lays instrs out as the tracer's struct for format does.
func encodeChampSim(format Format, instrs ...champsimInstr) []byte {
	l := champsimLayoutOf(format)
	var out []byte
	for _, in := range instrs {
		rec := make([]byte, l.size)
		binary.LittleEndian.PutUint64(rec, in.ip)
		rec[8], rec[9] = in.branch, in.taken
		for i := range l.nDst {
			binary.LittleEndian.PutUint64(rec[l.dstOff+8*i:], in.dst[i])
		}
		for i := range l.nSrc {
			binary.LittleEndian.PutUint64(rec[l.srcOff+8*i:], in.src[i])
		}
		if l.asidOff >= 0 {
			rec[l.asidOff], rec[l.asidOff+1] = in.asid[0], in.asid[1]
		}
		// Registers: small numbers, as in real traces.
		for i := 10; i < 16; i++ {
			rec[i] = byte(i * 3)
		}
		out = append(out, rec...)
	}
	return out
}

// realisticChampSim is a synthetic instruction stream shaped like a real trace: ips
// advancing a few bytes at a time with occasional jumps, a third of the instructions
// loading and a tenth storing, on the heap and the stack.
func realisticChampSim(n int, seed uint64) []champsimInstr {
	rng := rand.New(rand.NewPCG(seed, 1))
	ip := uint64(0x401000)
	out := make([]champsimInstr, n)
	for i := range out {
		in := champsimInstr{ip: ip, asid: [2]byte{3, 3}}
		if rng.IntN(3) == 0 {
			in.src[0] = 0x7ffd_2000_0000 + uint64(rng.IntN(1<<16))*8
		}
		if rng.IntN(10) == 0 {
			in.dst[0] = 0x5555_5555_0000 + uint64(rng.IntN(1<<16))*8
		}
		if rng.IntN(8) == 0 {
			in.branch = 1
			if rng.IntN(2) == 0 {
				in.taken = 1
				ip = 0x401000 + uint64(rng.IntN(1<<14))
			}
		}
		ip += 1 + uint64(rng.IntN(7))
		out[i] = in
	}
	return out
}

func TestChampSimReader(t *testing.T) {
	one := champsimInstr{ip: 0x400100, src: [4]uint64{0x1000, 0, 0x2000, 0}, dst: [4]uint64{0, 0x3000, 0, 0}, asid: [2]byte{7, 9}}
	full := champsimInstr{ip: 0x400200, src: [4]uint64{1, 2, 3, 4}, dst: [4]uint64{5, 6, 7, 8}, asid: [2]byte{1, 2}}
	plain := encodeChampSim(FormatChampSim, one)
	tests := []struct {
		name    string
		format  Format
		in      []byte
		want    []Record
		wantErr string
	}{
		{"fetch, loads, stores in order", FormatChampSim, plain, []Record{
			{Addr: 0x400100, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 0x1000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x2000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x3000, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"no memory operands", FormatChampSim, encodeChampSim(FormatChampSim, champsimInstr{ip: 0x10, branch: 1, taken: 1}),
			[]Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Fetch}}, ""},
		{"plain layout has 2 store slots", FormatChampSim, encodeChampSim(FormatChampSim, full), []Record{
			{Addr: 0x400200, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 1, Size: 1, ASID: 0, Kind: Read}, {Addr: 2, Size: 1, ASID: 0, Kind: Read}, {Addr: 3, Size: 1, ASID: 0, Kind: Read}, {Addr: 4, Size: 1, ASID: 0, Kind: Read}, {Addr: 5, Size: 1, ASID: 0, Kind: Write}, {Addr: 6, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"cloudsuite: asid[0] fetches, asid[1] data", FormatChampSimCloudSuite, encodeChampSim(FormatChampSimCloudSuite, one), []Record{
			{Addr: 0x400100, Size: 1, ASID: 7, Kind: Fetch}, {Addr: 0x1000, Size: 1, ASID: 9, Kind: Read}, {Addr: 0x2000, Size: 1, ASID: 9, Kind: Read}, {Addr: 0x3000, Size: 1, ASID: 9, Kind: Write}}, ""},
		{"cloudsuite: 4 store slots", FormatChampSimCloudSuite, encodeChampSim(FormatChampSimCloudSuite, full), []Record{
			{Addr: 0x400200, Size: 1, ASID: 1, Kind: Fetch}, {Addr: 1, Size: 1, ASID: 2, Kind: Read}, {Addr: 2, Size: 1, ASID: 2, Kind: Read}, {Addr: 3, Size: 1, ASID: 2, Kind: Read}, {Addr: 4, Size: 1, ASID: 2, Kind: Read},
			{Addr: 5, Size: 1, ASID: 2, Kind: Write}, {Addr: 6, Size: 1, ASID: 2, Kind: Write}, {Addr: 7, Size: 1, ASID: 2, Kind: Write}, {Addr: 8, Size: 1, ASID: 2, Kind: Write}}, ""},
		{"empty", FormatChampSim, nil, nil, ""},
		{"truncated last record", FormatChampSim, append(bytes.Clone(plain), plain[:40]...), []Record{
			{Addr: 0x400100, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 0x1000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x2000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x3000, Size: 1, ASID: 0, Kind: Write}},
			"t.trace: offset 64: truncated champsim record: 40 of 64 bytes"},
		{"only a partial record", FormatChampSimCloudSuite, make([]byte, 95), nil,
			"t.trace: offset 0: truncated champsim-cloudsuite record: 95 of 96 bytes"},
		{"bad is_branch", FormatChampSim, append(bytes.Clone(plain), encodeChampSim(FormatChampSim, champsimInstr{ip: 1, branch: 2})...),
			[]Record{{Addr: 0x400100, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 0x1000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x2000, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x3000, Size: 1, ASID: 0, Kind: Write}},
			"t.trace: offset 64: not a champsim record: is_branch 2, branch_taken 0 (want 0 or 1); a CloudSuite trace needs --format champsim-cloudsuite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFile(bytes.NewReader(tt.in), "t.trace", Options{Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadAll(f)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChampSimSmallReads reads with every buffer size from 1 to 10, so that records
// straddle Read calls, and checks the records and that the error stays put.
func TestChampSimSmallReads(t *testing.T) {
	instrs := realisticChampSim(500, 1)
	instrs[3].src = [4]uint64{1, 2, 3, 4}
	instrs[3].dst = [4]uint64{5, 6, 0, 0}
	data := encodeChampSim(FormatChampSim, instrs...)
	data = append(data, 0, 0, 0) // a truncated tail
	want, wantErr := ReadAll(NewChampSimReader(bytes.NewReader(data), "t", FormatChampSim))
	if wantErr == nil || !strings.Contains(wantErr.Error(), "offset 32000: truncated") {
		t.Fatalf("error = %v, want a truncation at offset 32000", wantErr)
	}
	for size := 1; size <= 10; size++ {
		r := NewChampSimReader(iotestOneByte{bytes.NewReader(data)}, "t", FormatChampSim)
		var got []Record
		buf := make([]Record, size)
		var err error
		for err == nil {
			var n int
			n, err = r.Read(buf)
			got = append(got, buf[:n]...)
		}
		if !equalRecs(got, want) || err.Error() != wantErr.Error() {
			t.Fatalf("buffer %d: %d records, %v; want %d, %v", size, len(got), err, len(want), wantErr)
		}
		if _, again := r.Read(buf); again == nil || again.Error() != wantErr.Error() {
			t.Fatalf("buffer %d: error not sticky: %v", size, again)
		}
	}
	if r := NewChampSimReader(bytes.NewReader(data[:64*500]), "t", FormatChampSim); true {
		ReadAll(r)
		if r.Instructions() != 500 {
			t.Errorf("Instructions() = %d, want 500", r.Instructions())
		}
	}
}

// iotestOneByte returns at most 7 bytes a Read, to exercise refills.
type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 7)]) }

func TestSniffChampSim(t *testing.T) {
	real := realisticChampSim(200, 2)
	tests := []struct {
		name    string
		data    []byte
		want    Format
		wantErr string
	}{
		{"dpc3-like", encodeChampSim(FormatChampSim, real...), FormatChampSim, ""},
		{"cloudsuite-like", encodeChampSim(FormatChampSimCloudSuite, real...), FormatChampSimCloudSuite, ""},
		{"dpc3-like, xz", compressBytes(t, XZ, encodeChampSim(FormatChampSim, real...)), FormatChampSim, ""},
		{"cloudsuite-like, gzip", compressBytes(t, Gzip, encodeChampSim(FormatChampSimCloudSuite, real...)), FormatChampSimCloudSuite, ""},
		{"one plain record", encodeChampSim(FormatChampSim, real[0]), FormatChampSim, ""},
		{"ambiguous: short and uniform", ambiguousChampSim(), "", "give --format champsim"},
		{"random binary", bytes.Repeat([]byte{0, 0xff, 3, 9}, 100), "", "neither vmt nor a ChampSim trace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFile(bytes.NewReader(tt.data), "t.trace", Options{})
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if f.Format != tt.want {
				t.Fatalf("format = %s, want %s", f.Format, tt.want)
			}
			got, err := ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != (Record{Addr: real[0].ip, Size: 1, ASID: got[0].ASID, Kind: Fetch}) {
				t.Errorf("first access %v, want the fetch at %#x", got[0], real[0].ip)
			}
		})
	}
}

// ambiguousChampSim is 192 bytes that read as 3 plain or 2 CloudSuite records: every
// 8-byte word is 0x400000 but those holding either layout's flag bytes.
func ambiguousChampSim() []byte {
	b := make([]byte, 192)
	for off := 0; off < len(b); off += 8 {
		switch off {
		case 8, 72, 136, 104:
		default:
			binary.LittleEndian.PutUint64(b[off:], 0x400000)
		}
	}
	return b
}

func compressBytes(t *testing.T, c Compression, data []byte) []byte {
	return compress(t, c, string(data))
}

// TestSniffChampSimRandomStreams checks the heuristic on many synthetic streams of each
// layout, cut at every length the 8 KiB sniffing window can see.
func TestSniffChampSimRandomStreams(t *testing.T) {
	for seed := range uint64(50) {
		instrs := realisticChampSim(200, seed)
		for _, f := range []Format{FormatChampSim, FormatChampSimCloudSuite} {
			data := encodeChampSim(f, instrs...)
			for _, cut := range []int{8 << 10, 4 << 10, 1000, 500} {
				got, err := Sniff(data[:cut])
				if err != nil || got != f {
					t.Fatalf("seed %d, %s cut at %d: %s, %v", seed, f, cut, got, err)
				}
			}
		}
	}
}

func TestChampSimConvertRoundTrip(t *testing.T) {
	data := encodeChampSim(FormatChampSimCloudSuite, realisticChampSim(3000, 9)...)
	want, err := ReadAll(NewChampSimReader(bytes.NewReader(data), "t", FormatChampSimCloudSuite))
	if err != nil {
		t.Fatal(err)
	}
	got := readBack(t, writeVMT(t, want, VMTOptions{Compress: true}), FormatVMT)
	if !equalRecs(got, want) {
		t.Fatal("champsim -> vmt -> records differs")
	}
}

func TestNewChampSimReaderPanicsOnOtherFormat(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	NewChampSimReader(bytes.NewReader(nil), "t", FormatRW)
}

func FuzzChampSim(f *testing.F) {
	f.Add(encodeChampSim(FormatChampSim, realisticChampSim(3, 1)...), false)
	f.Add(encodeChampSim(FormatChampSimCloudSuite, realisticChampSim(3, 1)...), true)
	f.Add(make([]byte, 70), false)
	f.Fuzz(func(t *testing.T, data []byte, cloud bool) {
		format := FormatChampSim
		if cloud {
			format = FormatChampSimCloudSuite
		}
		fuzzReader(t, data, Options{Format: format})
		// Independent decoding: whole records only, stop at the first bad flag byte.
		l := champsimLayoutOf(format)
		var want []Record
		var wantErr bool
		for off := 0; off < len(data); off += l.size {
			if len(data)-off < l.size || data[off+8] > 1 || data[off+9] > 1 {
				wantErr = true
				break
			}
			var out [champsimMaxAccesses]Record
			want = append(want, out[:l.decode(data[off:off+l.size], out[:])]...)
		}
		got, err := ReadAll(NewChampSimReader(bytes.NewReader(data), "fuzz", format))
		var te *Error
		if (err != nil) != wantErr || (err != nil && !errors.As(err, &te)) || !equalRecs(got, want) {
			t.Fatalf("got %d records, %v; want %d, error %v", len(got), err, len(want), wantErr)
		}
	})
}
