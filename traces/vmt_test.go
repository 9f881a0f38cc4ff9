package traces

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomRecords makes a trace exercising every field: address spaces, kinds, sizes,
// control records, and addresses both near each other and far apart.
func randomRecords(rng *rand.Rand, n int) []Record {
	recs := make([]Record, n)
	var asid ASID
	addr := [2]uint64{0x400000, 0x7ffff000}
	for i := range recs {
		if rng.IntN(50) == 0 {
			asid = ASID(rng.IntN(4))
			if rng.IntN(4) == 0 {
				asid = ASID(rng.Uint32())
			}
		}
		k := Kind(rng.IntN(int(numKinds)))
		if rng.IntN(8) != 0 && k > Fetch {
			k = Kind(rng.IntN(4))
		}
		if !k.IsAccess() {
			recs[i] = Record{ASID: asid, Kind: k}
			continue
		}
		s := stream(k)
		switch rng.IntN(10) {
		case 0:
			addr[s] = rng.Uint64()
		case 1:
			addr[s] -= uint64(rng.IntN(1 << 20))
		default:
			addr[s] += uint64(rng.IntN(64))
		}
		size := uint32(1) << rng.IntN(4)
		if rng.IntN(100) == 0 {
			size = rng.Uint32() | 1
		}
		if addr[s]+uint64(size-1) < addr[s] {
			addr[s] -= uint64(size) // no access runs past the top of the address space
		}
		recs[i] = Record{Addr: addr[s], Size: size, ASID: asid, Kind: k}
	}
	return recs
}

func writeVMT(t testing.TB, recs []Record, opt VMTOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewVMTWriter(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Write in uneven batches.
	for len(recs) > 0 {
		k := min(len(recs), 1+len(recs)/3)
		if err := w.Write(recs[:k]); err != nil {
			t.Fatal(err)
		}
		recs = recs[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVMTRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := randomRecords(rng, 20000)
	for _, tt := range []struct {
		name string
		recs []Record
		opt  VMTOptions
	}{
		{"empty", nil, VMTOptions{}},
		{"one", recs[:1], VMTOptions{}},
		{"plain", recs, VMTOptions{}},
		{"zstd", recs, VMTOptions{Compress: true}},
		{"small blocks", recs, VMTOptions{BlockRecords: 7}},
		{"small zstd blocks", recs, VMTOptions{BlockRecords: 1000, Compress: true}},
		{"block of one", recs[:50], VMTOptions{BlockRecords: 1}},
		{"metadata", recs[:10], VMTOptions{Meta: map[string]any{"program": "sort", "args": []string{"-n"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := writeVMT(t, tt.recs, tt.opt)
			// Streaming, through the format sniffer.
			f, err := NewFile(bytes.NewReader(data), "t.vmt", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Format != FormatVMT {
				t.Fatalf("sniffed %s", f.Format)
			}
			got, err := ReadAll(f)
			if err != nil || !equalRecs(got, tt.recs) {
				t.Fatalf("stream: %d records, err %v; want %d", len(got), err, len(tt.recs))
			}
			// Seekable.
			v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "t.vmt")
			if err != nil {
				t.Fatal(err)
			}
			got, err = ReadAll(v)
			if err != nil || !equalRecs(got, tt.recs) {
				t.Fatalf("seekable: %d records, err %v", len(got), err)
			}
			r, a, ok := v.Records()
			if !ok || r != uint64(len(tt.recs)) || a != countAccesses(tt.recs) {
				t.Errorf("Records() = %d, %d, %v", r, a, ok)
			}
			h := v.Header()
			if h.Compressed != tt.opt.Compress || h.Version != VMTVersion {
				t.Errorf("header %+v", h)
			}
			if tt.opt.Meta != nil {
				var m map[string]any
				if err := json.Unmarshal(h.Meta, &m); err != nil || m["program"] != "sort" {
					t.Errorf("meta %s", h.Meta)
				}
			}
		})
	}
}

func countAccesses(recs []Record) uint64 {
	var n uint64
	for _, r := range recs {
		if r.Kind.IsAccess() {
			n++
		}
	}
	return n
}

func TestVMTSeekAccess(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := randomRecords(rng, 3000)
	// Control records at the start and the end, and runs of them across block edges.
	recs = append([]Record{{Kind: Checkpoint}}, recs...)
	recs = append(recs, Record{Kind: Fail}, Record{Kind: Checkpoint})
	for _, block := range []int{1, 10, 64, 5000} {
		data := writeVMT(t, recs, VMTOptions{BlockRecords: block, Compress: block == 64})
		v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "t.vmt")
		if err != nil {
			t.Fatal(err)
		}
		// start[n] is the index of the first record after access n-1.
		var start []int
		start = append(start, 0)
		for i, r := range recs {
			if r.Kind.IsAccess() {
				start = append(start, i+1)
			}
		}
		for _, n := range []int{0, 1, 2, 9, 10, 11, 63, 64, 65, 1000, len(start) - 2, len(start) - 1} {
			if err := v.SeekAccess(uint64(n)); err != nil {
				t.Fatalf("block %d: SeekAccess(%d): %v", block, n, err)
			}
			got, err := ReadAll(v)
			if err != nil || !equalRecs(got, recs[start[n]:]) {
				t.Fatalf("block %d: after SeekAccess(%d): %d records (%v), want %d", block, n, len(got), err, len(recs)-start[n])
			}
		}
		if err := v.SeekAccess(uint64(len(start))); err == nil || !strings.Contains(err.Error(), "past the end") {
			t.Errorf("seek past the end: %v", err)
		}
	}
}

// TestVMTCorrupt feeds every truncation and many single-byte corruptions of a valid file
// to both readers: each must fail with an error naming the file, never panic, and never
// return the whole trace as if nothing were wrong (a flip the checksums cannot see, in
// an index offset say, may still decode the same records, but not silently different ones).
func TestVMTCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	recs := randomRecords(rng, 500)
	for _, compress := range []bool{false, true} {
		data := writeVMT(t, recs, VMTOptions{BlockRecords: 100, Compress: compress, Meta: map[string]any{"a": 1}})
		for cut := 0; cut < len(data); cut++ {
			for _, seekable := range []bool{false, true} {
				got, err := readVMT(data[:cut], seekable)
				if err == nil {
					t.Fatalf("compress %v seekable %v: truncated at %d of %d: no error (%d records)", compress, seekable, cut, len(data), len(got))
				}
				if !strings.Contains(err.Error(), "c.vmt") {
					t.Fatalf("error %q does not name the file", err)
				}
			}
		}
		for i := 0; i < len(data); i++ {
			for _, bit := range []byte{1, 0x80} {
				bad := bytes.Clone(data)
				bad[i] ^= bit
				for _, seekable := range []bool{false, true} {
					got, err := readVMT(bad, seekable)
					if err == nil && !equalRecs(got, recs) {
						t.Fatalf("compress %v seekable %v: flip at %d: silently different records", compress, seekable, i)
					}
					if err != nil && !strings.Contains(err.Error(), "c.vmt") {
						t.Fatalf("error %q does not name the file", err)
					}
				}
			}
		}
		// Trailing garbage.
		if _, err := readVMT(append(bytes.Clone(data), 0), false); err == nil {
			t.Error("trailing byte accepted")
		}
	}
}

func readVMT(data []byte, seekable bool) ([]Record, error) {
	var r Reader
	if seekable {
		v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "c.vmt")
		if err != nil {
			return nil, err
		}
		r = v
	} else {
		v, err := NewVMTReader(bytes.NewReader(data), "c.vmt")
		if err != nil {
			return nil, err
		}
		r = v
	}
	return ReadAll(r)
}

func TestVMTWriterRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		rec  Record
		want string
	}{
		{"size 0", Record{Addr: 1, Kind: Read}, "size 0"},
		{"control with address", Record{Addr: 1, Kind: Checkpoint}, "with an address"},
		{"unknown kind", Record{Size: 1, Kind: 9}, "unknown kind"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewVMTWriter(io.Discard, VMTOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]Record{tt.rec}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := NewVMTWriter(io.Discard, VMTOptions{BlockRecords: vmtMaxBlockRecords + 1}); err == nil {
		t.Error("huge block size accepted")
	}
}

func TestVMTHeaderErrors(t *testing.T) {
	good := writeVMT(t, []Record{{Addr: 1, Size: 1}}, VMTOptions{})
	for _, tt := range []struct {
		name string
		edit func([]byte)
		want string
	}{
		// Version 2 (threads) is known since threads came, 3 since kernel writes; 4 is the first unknown one.
		{"version", func(b []byte) { b[8] = 4 }, "vmt version 4; this vmsim reads versions 1 to 3"},
		{"version 0", func(b []byte) { b[8] = 0 }, "vmt version 0"},
		{"flags", func(b []byte) { b[10] = 0x80 }, "unknown vmt flags"},
		{"block size", func(b []byte) { b[12], b[13], b[14], b[15] = 0, 0, 0, 0 }, "block size of 0"},
		{"metadata", func(b []byte) { b[20] = 'x' }, "metadata is not a JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tt.edit(b)
			_, err := NewVMTReader(bytes.NewReader(b), "h.vmt")
			var te *Error
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &te) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzVMT(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	recs := randomRecords(rng, 40)
	f.Add(writeVMT(f, recs, VMTOptions{BlockRecords: 16}))
	f.Add(writeVMT(f, recs, VMTOptions{BlockRecords: 16, Compress: true}))
	f.Add(writeVMT(f, nil, VMTOptions{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, seekable := range []bool{false, true} {
			got, err := readVMT(data, seekable)
			if err != nil && !strings.Contains(err.Error(), "c.vmt") {
				t.Fatalf("error %q does not name the file", err)
			}
			// The parallel decoder gives the same records and error.
			if pgot, perr := prefetchVMT(data, seekable, 2, 0); !equalRecs(pgot, got) || (perr == nil) != (err == nil) || (err != nil && perr.Error() != err.Error()) {
				t.Fatalf("prefetched %d records, %v; sequential %d, %v", len(pgot), perr, len(got), err)
			}
			for _, r := range got {
				if r.Kind >= numKinds || r.Kind.IsAccess() && (r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr) {
					t.Fatalf("invalid record %v", r)
				}
			}
			// Whatever decodes cleanly re-encodes to the same records.
			if err == nil {
				again, err := readVMT(writeVMT(t, got, VMTOptions{}), seekable)
				if err != nil || !equalRecs(again, got) {
					t.Fatalf("re-encoding changed the records: %v", err)
				}
			}
		}
		fuzzReader2(t, data)
	})
}

// fuzzReader2 runs arbitrary bytes through the format sniffer, which must not panic.
func fuzzReader2(t *testing.T, data []byte) {
	f, err := NewFile(bytes.NewReader(data), "c.vmt", Options{})
	if err != nil {
		return
	}
	ReadAll(f)
}

// TestVMTExample pins the example in FORMAT.md byte for byte.
func TestVMTExample(t *testing.T) {
	want := "89564D540D0A1A0A 0100 0000 00001000 02000000 7B7D" +
		"01000000 04000000 04000000 C6C10047 09048040" +
		"00000000 18000000 18000000 799DE8B3" +
		"0000000000000000 0000000000000000 1600000000000000" +
		"0100000000000000 0100000000000000 2A00000000000000 89564D54454E440A"
	got := writeVMT(t, []Record{{Addr: 0x1000, Size: 4, Kind: Write}}, VMTOptions{})
	if g, w := strings.ToUpper(hex.EncodeToString(got)), strings.ReplaceAll(want, " ", ""); g != w {
		t.Errorf("example bytes\n got %s\nwant %s", g, w)
	}
}
