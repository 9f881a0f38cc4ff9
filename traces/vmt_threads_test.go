package traces

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomThreadRecords is randomRecords with thread ids: runs of records of one thread,
// threads switching often, a few thread ids of 32 bits, and a stretch of thread 0.
func randomThreadRecords(rng *rand.Rand, n int) []Record {
	recs := randomRecords(rng, n)
	var th TID
	for i := range recs {
		if rng.IntN(8) == 0 {
			th = TID(rng.IntN(6))
			if rng.IntN(10) == 0 {
				th = TID(rng.Uint32())
			}
		}
		recs[i].Thread = th
	}
	return recs
}

func TestVMTThreadsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 1))
	recs := randomThreadRecords(rng, 20000)
	for _, tt := range []struct {
		name string
		recs []Record
		opt  VMTOptions
	}{
		{"empty", nil, VMTOptions{Threads: true}},
		{"one", recs[:1], VMTOptions{Threads: true}},
		{"plain", recs, VMTOptions{Threads: true}},
		{"zstd", recs, VMTOptions{Threads: true, Compress: true}},
		{"small blocks", recs, VMTOptions{Threads: true, BlockRecords: 7}},
		{"block of one", recs[:50], VMTOptions{Threads: true, BlockRecords: 1}},
		{"no thread ids in a version 2 file", randomRecords(rng, 500), VMTOptions{Threads: true, BlockRecords: 100}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := writeVMT(t, tt.recs, tt.opt)
			if v := binary.LittleEndian.Uint16(data[8:]); v != VMTVersionThreads {
				t.Fatalf("version %d, want %d", v, VMTVersionThreads)
			}
			for _, seekable := range []bool{false, true} {
				got, err := readVMT(data, seekable)
				if err != nil || !equalRecs(got, tt.recs) {
					t.Fatalf("seekable=%v: %d records, %v; want %d", seekable, len(got), err, len(tt.recs))
				}
				// The parallel decoder, from the start and (seekable) from an access on.
				froms := []uint64{0}
				if seekable {
					froms = append(froms, countAccesses(tt.recs)/2)
				}
				for _, from := range froms {
					want, werr := readVMTFrom(data, seekable, from)
					pgot, perr := prefetchVMT(data, seekable, 2, from)
					if werr != nil || perr != nil || !equalRecs(pgot, want) {
						t.Fatalf("seekable=%v from %d: prefetched %d records, %v; sequential %d, %v", seekable, from, len(pgot), perr, len(want), werr)
					}
				}
			}
			f, err := NewFile(bytes.NewReader(data), "t.vmt", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if v := f.Reader.(*VMTReader); !v.Header().Threads() || !f.Threads() {
				t.Errorf("header %+v: Threads() false", v.Header())
			}
		})
	}
}

// TestVMTSeekWithThreads checks that a seek restores the thread of the records it
// lands among: the state is per block, so a record after the seek point carries the
// thread id its block set, even when that was several records before.
func TestVMTSeekWithThreads(t *testing.T) {
	recs := randomThreadRecords(rand.New(rand.NewPCG(23, 2)), 3000)
	data := writeVMT(t, recs, VMTOptions{Threads: true, BlockRecords: 64})
	all, err := readVMT(data, false)
	if err != nil || !equalRecs(all, recs) {
		t.Fatalf("%d records, %v", len(all), err)
	}
	// Access numbers to records.
	var accessAt []int
	for i, r := range recs {
		if r.Kind.IsAccess() {
			accessAt = append(accessAt, i)
		}
	}
	for _, from := range []uint64{1, 63, 64, 65, 1000, uint64(len(accessAt) - 1)} {
		t.Run("", func(t *testing.T) {
			got, err := readVMTFrom(data, true, from)
			if err != nil {
				t.Fatal(err)
			}
			// The first record after access from-1.
			first := accessAt[from-1] + 1
			if !equalRecs(got, recs[first:]) {
				t.Errorf("from access %d: %d records, want %d (first %v, want %v)", from, len(got), len(recs)-first, got[0], recs[first])
			}
		})
	}
}

// TestVMTVersion1Unchanged checks what a version 1 file keeps: a writer without Threads
// writes version 1 (TestVMTExample pins its bytes) and refuses a thread id; a version 1
// reader refuses the thread bit of a tag as it always did, as a bad tag.
func TestVMTVersion1Unchanged(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(23, 3)), 1000)
	v1 := writeVMT(t, recs, VMTOptions{})
	if v := binary.LittleEndian.Uint16(v1[8:]); v != VMTVersion {
		t.Errorf("without threads: version %d, want %d", v, VMTVersion)
	}
	// The same records with Threads differ only in the version: no record has a thread.
	v2 := writeVMT(t, recs, VMTOptions{Threads: true})
	if !bytes.Equal(v1[10:], v2[10:]) {
		t.Error("records without thread ids encode differently in version 2")
	}
	for _, tt := range []struct {
		name string
		data func() []byte
		want string
	}{
		{"thread bit in version 1", func() []byte {
			b := writeVMT(t, []Record{{Addr: 1, Size: 1, Thread: 3}}, VMTOptions{Threads: true})
			binary.LittleEndian.PutUint16(b[8:], VMTVersion)
			return b
		}, "bad record tag 0x20"},
		{"spare bit in version 2", func() []byte {
			return wrapVMTVersion(VMTVersionThreads, []byte{0x40, 0x02}, 1, 1, 1)
		}, "bad record tag 0x40"},
		{"thread id past 32 bits", func() []byte {
			return wrapVMTVersion(VMTVersionThreads, []byte{0x20, 0x80, 0x80, 0x80, 0x80, 0x10, 0x02}, 1, 1, 1)
		}, "bad thread id"},
		{"thread id cut short", func() []byte {
			return wrapVMTVersion(VMTVersionThreads, []byte{0x20, 0x80}, 1, 1, 1)
		}, "bad thread id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, seekable := range []bool{false, true} {
				_, err := readVMT(tt.data(), seekable)
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "c.vmt") {
					t.Errorf("seekable=%v: err = %v, want %q", seekable, err, tt.want)
				}
			}
		})
	}
	w, err := NewVMTWriter(new(bytes.Buffer), VMTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]Record{{Addr: 1, Size: 1, Thread: 2}}); err == nil || !strings.Contains(err.Error(), "thread id 2") {
		t.Errorf("version 1 writer took a thread id: %v", err)
	}
}

// TestVMTThreadsExample pins the version 2 example in FORMAT.md byte for byte.
func TestVMTThreadsExample(t *testing.T) {
	want := "89564D540D0A1A0A 0200 0000 00001000 02000000 7B7D" +
		"02000000 08000000 08000000 %s 2907048040 200910" +
		"00000000 18000000 18000000 799DE8B3" +
		"0000000000000000 0000000000000000 1600000000000000" +
		"0200000000000000 0200000000000000 2E00000000000000 89564D54454E440A"
	got := writeVMT(t, []Record{{Addr: 0x1000, Size: 4, Kind: Write, Thread: 7}, {Addr: 0x1008, Size: 4, Kind: Read, Thread: 9}},
		VMTOptions{Threads: true})
	crc := strings.ToUpper(hex.EncodeToString(got[22+12 : 22+16]))
	w := strings.ReplaceAll(strings.Replace(want, "%s", crc, 1), " ", "")
	if g := strings.ToUpper(hex.EncodeToString(got)); g != w {
		t.Errorf("example bytes\n got %s\nwant %s", g, w)
	}
	if crc != "1FC4979F" {
		t.Errorf("block CRC-32C %s; FORMAT.md says 1FC4979F", crc)
	}
}

// FuzzVMTThreads mutates a version 2 block's payload inside an otherwise valid file, as
// FuzzVMTPayload does for version 1: the decoder must give valid records or an error
// naming the file, the parallel decoder the same, and what decodes cleanly re-encodes to
// the same records.
func FuzzVMTThreads(f *testing.F) {
	rng := rand.New(rand.NewPCG(23, 4))
	for _, n := range []int{1, 7, 64} {
		recs := randomThreadRecords(rng, n)
		f.Add(blockPayloadOpt(f, recs, VMTOptions{Threads: true}), uint32(n), uint64(n), countAccesses(recs))
	}
	f.Fuzz(func(t *testing.T, payload []byte, n uint32, recs, accesses uint64) {
		data := wrapVMTVersion(VMTVersionThreads, payload, n%(vmtMaxBlockRecords+1), recs, accesses)
		for _, seekable := range []bool{false, true} {
			got, err := readVMT(data, seekable)
			if err != nil && !strings.Contains(err.Error(), "c.vmt") {
				t.Fatalf("error %q does not name the file", err)
			}
			if pgot, perr := prefetchVMT(data, seekable, 2, 0); !equalRecs(pgot, got) || (perr == nil) != (err == nil) || (err != nil && perr.Error() != err.Error()) {
				t.Fatalf("prefetched %d records, %v; sequential %d, %v", len(pgot), perr, len(got), err)
			}
			for _, r := range got {
				if r.Kind >= numKinds || r.Kind.IsAccess() && (r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr) {
					t.Fatalf("invalid record %v", r)
				}
			}
			if err == nil {
				if uint64(len(got)) != recs {
					t.Fatalf("read %d records cleanly, the footer says %d", len(got), recs)
				}
				again, err := readVMT(writeVMT(t, got, VMTOptions{Threads: true}), seekable)
				if err != nil || !equalRecs(again, got) {
					t.Fatalf("re-encoding changed the records: %v", err)
				}
			}
		}
	})
}

// TestTextWritersAndThreads checks that no text format takes a thread id silently: each
// refuses one unless lossy, and a lossy writer counts the accesses whose thread it
// dropped.
func TestTextWritersAndThreads(t *testing.T) {
	recs := []Record{{Addr: 0x10, Size: 1, Kind: Read}, {Addr: 0x20, Size: 1, Kind: Write, Thread: 4}, {Addr: 0x30, Size: 1, Kind: Read, Thread: 5}}
	for _, f := range []Format{FormatRW, FormatDin, FormatXDin, FormatLackey} {
		t.Run(string(f), func(t *testing.T) {
			w, err := NewWriter(new(bytes.Buffer), f, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(recs); err == nil || !strings.Contains(err.Error(), "cannot carry thread ids (access 2 is of thread 4)") {
				t.Errorf("strict: %v", err)
			}
			w, _ = NewWriter(new(bytes.Buffer), f, WriterOptions{Lossy: true})
			if err := w.Write(recs); err != nil {
				t.Fatal(err)
			}
			if got := w.(LossyWriter).Losses().Threads; got != 2 {
				t.Errorf("lossy: %d thread ids dropped, want 2", got)
			}
		})
	}
}
