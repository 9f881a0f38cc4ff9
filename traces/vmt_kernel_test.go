package traces

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomKernelRecords is randomThreadRecords with about one write in four marked as the
// kernel's.
func randomKernelRecords(rng *rand.Rand, n int) []Record {
	recs := randomThreadRecords(rng, n)
	for i := range recs {
		if recs[i].Kind == Write && rng.IntN(4) == 0 {
			recs[i].Kernel = true
		}
	}
	return recs
}

func TestVMTKernelRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 9))
	recs := randomKernelRecords(rng, 20000)
	for _, tt := range []struct {
		name string
		recs []Record
		opt  VMTOptions
	}{
		{"empty", nil, VMTOptions{Kernel: true}},
		{"plain", recs, VMTOptions{Kernel: true}},
		{"zstd, small blocks", recs, VMTOptions{Kernel: true, Compress: true, BlockRecords: 7}},
		{"no kernel writes in a version 3 file", randomThreadRecords(rng, 500), VMTOptions{Kernel: true, BlockRecords: 100}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := writeVMT(t, tt.recs, tt.opt)
			if v := binary.LittleEndian.Uint16(data[8:]); v != VMTVersionKernel {
				t.Fatalf("version %d, want %d", v, VMTVersionKernel)
			}
			for _, seekable := range []bool{false, true} {
				got, err := readVMT(data, seekable)
				if err != nil || !equalRecs(got, tt.recs) {
					t.Fatalf("seekable=%v: %d records, %v; want %d", seekable, len(got), err, len(tt.recs))
				}
				if pgot, err := prefetchVMT(data, seekable, 2, 0); err != nil || !equalRecs(pgot, tt.recs) {
					t.Fatalf("seekable=%v: prefetched %d records, %v; want %d", seekable, len(pgot), err, len(tt.recs))
				}
			}
		})
	}
	// Without kernel marks, version 3 encodes the records as version 2 does.
	plain := randomThreadRecords(rng, 300)
	v2, v3 := writeVMT(t, plain, VMTOptions{Threads: true}), writeVMT(t, plain, VMTOptions{Kernel: true})
	if !bytes.Equal(v2[10:], v3[10:]) {
		t.Error("records without kernel marks encode differently in version 3")
	}
}

func TestVMTKernelErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		data func() []byte
		want string
	}{
		{"kernel bit in version 2", func() []byte {
			b := writeVMT(t, []Record{{Addr: 1, Size: 1, Kind: Write, Kernel: true}}, VMTOptions{Kernel: true})
			binary.LittleEndian.PutUint16(b[8:], VMTVersionThreads)
			return b
		}, "bad record tag 0x41"},
		{"kernel bit on a read", func() []byte {
			return wrapVMTVersion(VMTVersionKernel, []byte{0x40, 0x02}, 1, 1, 1)
		}, "bad record tag 0x40: a read marked as the kernel's"},
		{"kernel bit on a checkpoint", func() []byte {
			return wrapVMTVersion(VMTVersionKernel, []byte{0x44}, 1, 1, 0)
		}, "a checkpoint marked as the kernel's"},
		{"spare bit in version 3", func() []byte {
			return wrapVMTVersion(VMTVersionKernel, []byte{0x81, 0x02}, 1, 1, 1)
		}, "bad record tag 0x81"},
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
	for _, tt := range []struct {
		name string
		opt  VMTOptions
		rec  Record
		want string
	}{
		{"version 2 writer", VMTOptions{Threads: true}, Record{Addr: 1, Size: 1, Kind: Write, Kernel: true}, "kernel write in a trace written without"},
		{"version 1 writer", VMTOptions{}, Record{Addr: 1, Size: 1, Kind: Write, Kernel: true}, "kernel write in a trace written without"},
		{"a kernel read", VMTOptions{Kernel: true}, Record{Addr: 1, Size: 1, Kind: Read, Kernel: true}, "a read record marked as the kernel's"},
		{"a kernel modify", VMTOptions{Kernel: true}, Record{Addr: 1, Size: 1, Kind: Modify, Kernel: true}, "a modify record marked as the kernel's"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewVMTWriter(new(bytes.Buffer), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]Record{tt.rec}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestVMTKernelExample pins the version 3 example in FORMAT.md byte for byte.
func TestVMTKernelExample(t *testing.T) {
	want := "89564D540D0A1A0A 0300 0000 00001000 02000000 7B7D" +
		"02000000 0B000000 0B000000 %s 6902802080C0C54A 090810" +
		"00000000 18000000 18000000 799DE8B3" +
		"0000000000000000 0000000000000000 1600000000000000" +
		"0200000000000000 0200000000000000 3100000000000000 89564D54454E440A"
	got := writeVMT(t, []Record{
		{Addr: 0x4a8b000, Size: 4096, Kind: Write, Kernel: true, Thread: 2},
		{Addr: 0x4a8b008, Size: 8, Kind: Write, Thread: 2},
	}, VMTOptions{Kernel: true})
	crc := strings.ToUpper(hex.EncodeToString(got[22+12 : 22+16]))
	w := strings.ReplaceAll(strings.Replace(want, "%s", crc, 1), " ", "")
	if g := strings.ToUpper(hex.EncodeToString(got)); g != w {
		t.Errorf("example bytes\n got %s\nwant %s", g, w)
	}
	if crc != "700723F5" {
		t.Errorf("block CRC-32C %s; FORMAT.md says 700723F5", crc)
	}
}

// TestTextWritersAndKernel checks that no text format drops the kernel's mark silently:
// each refuses a kernel write unless lossy, and a lossy writer writes it as a plain write
// and counts it.
func TestTextWritersAndKernel(t *testing.T) {
	recs := []Record{{Addr: 0x10, Size: 1, Kind: Read}, {Addr: 0x20, Size: 1, Kind: Write, Kernel: true}, {Addr: 0x30, Size: 1, Kind: Write}}
	for _, f := range []Format{FormatRW, FormatDin, FormatXDin, FormatLackey} {
		t.Run(string(f), func(t *testing.T) {
			w, err := NewWriter(new(bytes.Buffer), f, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(recs); err == nil || !strings.Contains(err.Error(), "cannot mark the kernel's writes (access 2 is one)") {
				t.Errorf("strict: %v", err)
			}
			var buf bytes.Buffer
			w, _ = NewWriter(&buf, f, WriterOptions{Lossy: true})
			if err := w.Write(recs); err != nil {
				t.Fatal(err)
			}
			if got := w.(LossyWriter).Losses().Kernel; got != 1 {
				t.Errorf("lossy: %d kernel marks dropped, want 1", got)
			}
			w.Close()
			if lines := strings.Count(buf.String(), "\n"); lines != 3 {
				t.Errorf("lossy: %d lines, want 3 (the kernel write kept as a write):\n%s", lines, buf.String())
			}
		})
	}
}

// TestSummarizeKernelWrites counts the kernel's writes and the pages only they wrote, in
// whichever order the kernel and the program write a page.
func TestSummarizeKernelWrites(t *testing.T) {
	k := func(addr uint64, size uint32) Record {
		return Record{Addr: addr, Size: size, Kind: Write, Kernel: true}
	}
	for _, tt := range []struct {
		name                     string
		recs                     []Record
		kernel, kpages, onlyKern int64
	}{
		{"none", []Record{{Addr: 0x1000, Size: 8, Kind: Write}}, 0, 0, 0},
		{"kernel only", []Record{k(0x1000, 4096)}, 1, 1, 1},
		{"program first", []Record{{Addr: 0x1000, Size: 8, Kind: Write}, k(0x1000, 8)}, 1, 1, 0},
		{"kernel first", []Record{k(0x1000, 8), {Addr: 0x1010, Size: 8, Kind: Modify}}, 1, 1, 0},
		{"program reads only", []Record{{Addr: 0x1000, Size: 8, Kind: Read}, k(0x1000, 8)}, 1, 1, 1},
		{"two pages in one write", []Record{k(0x1ff8, 16), {Addr: 0x2000, Size: 8, Kind: Write}}, 1, 2, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(NewDecoded(tt.recs).Open(), SummaryOptions{PageSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			if s.KernelWrites != tt.kernel || s.KernelPagesWritten != tt.kpages || s.KernelOnlyPages != tt.onlyKern {
				t.Errorf("kernel writes %d, pages %d, only the kernel's %d; want %d, %d, %d",
					s.KernelWrites, s.KernelPagesWritten, s.KernelOnlyPages, tt.kernel, tt.kpages, tt.onlyKern)
			}
		})
	}
}

// FuzzVMTKernel mutates a version 3 block's payload inside an otherwise valid file, as
// FuzzVMTThreads does for version 2: the decoder must give valid records (a kernel mark
// on writes only) or an error naming the file, the parallel decoder the same, and what
// decodes cleanly re-encodes to the same records.
func FuzzVMTKernel(f *testing.F) {
	rng := rand.New(rand.NewPCG(23, 10))
	for _, n := range []int{1, 7, 64} {
		recs := randomKernelRecords(rng, n)
		f.Add(blockPayloadOpt(f, recs, VMTOptions{Kernel: true}), uint32(n), uint64(n), countAccesses(recs))
	}
	f.Fuzz(func(t *testing.T, payload []byte, n uint32, recs, accesses uint64) {
		data := wrapVMTVersion(VMTVersionKernel, payload, n%(vmtMaxBlockRecords+1), recs, accesses)
		for _, seekable := range []bool{false, true} {
			got, err := readVMT(data, seekable)
			if err != nil && !strings.Contains(err.Error(), "c.vmt") {
				t.Fatalf("error %q does not name the file", err)
			}
			if pgot, perr := prefetchVMT(data, seekable, 2, 0); !equalRecs(pgot, got) || (perr == nil) != (err == nil) || (err != nil && perr.Error() != err.Error()) {
				t.Fatalf("prefetched %d records, %v; sequential %d, %v", len(pgot), perr, len(got), err)
			}
			for _, r := range got {
				if r.Kind >= numKinds || r.Kind.IsAccess() && (r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr) || r.Kernel && r.Kind != Write {
					t.Fatalf("invalid record %v", r)
				}
			}
			if err == nil {
				if uint64(len(got)) != recs {
					t.Fatalf("read %d records cleanly, the footer says %d", len(got), recs)
				}
				again, err := readVMT(writeVMT(t, got, VMTOptions{Kernel: true}), seekable)
				if err != nil || !equalRecs(again, got) {
					t.Fatalf("re-encoding changed the records: %v", err)
				}
			}
		}
	})
}
