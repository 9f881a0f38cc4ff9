package traces

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
)

// wrapVMT builds a well-formed uncompressed vmt file around one block payload: the
// header, a block of n records whose checksum is right, the end block with a right index
// and the footer naming recs records and accesses accesses. Checksums never stop a
// mutation before the decoder sees it.
func wrapVMT(payload []byte, n uint32, recs, accesses uint64) []byte {
	return wrapVMTVersion(VMTVersion, payload, n, recs, accesses)
}

// wrapVMTVersion is wrapVMT with the header's version given.
func wrapVMTVersion(version uint16, payload []byte, n uint32, recs, accesses uint64) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(vmtMagic)
	b.Write(le.AppendUint16(nil, version))
	b.Write(le.AppendUint16(nil, 0))
	b.Write(le.AppendUint32(nil, vmtMaxBlockRecords))
	b.Write(le.AppendUint32(nil, 2))
	b.WriteString("{}")
	var index []byte
	if n > 0 {
		index = vmtIndexEntry{0, 0, int64(b.Len())}.append(nil)
		b.Write(le.AppendUint32(nil, n))
		b.Write(le.AppendUint32(nil, uint32(len(payload))))
		b.Write(le.AppendUint32(nil, uint32(len(payload))))
		b.Write(le.AppendUint32(nil, crc32.Checksum(payload, castagnoli)))
		b.Write(payload)
	}
	endOff := uint64(b.Len())
	b.Write(le.AppendUint32(nil, 0))
	b.Write(le.AppendUint32(nil, uint32(len(index))))
	b.Write(le.AppendUint32(nil, uint32(len(index))))
	b.Write(le.AppendUint32(nil, crc32.Checksum(index, castagnoli)))
	b.Write(index)
	b.Write(le.AppendUint64(nil, recs))
	b.Write(le.AppendUint64(nil, accesses))
	b.Write(le.AppendUint64(nil, endOff))
	b.Write(vmtEndMagic)
	return b.Bytes()
}

// blockPayload returns the first block's payload of a vmt file written uncompressed in
// one block.
func blockPayload(t testing.TB, recs []Record) []byte {
	return blockPayloadOpt(t, recs, VMTOptions{})
}

// blockPayloadOpt is blockPayload written with opt (its block size aside).
func blockPayloadOpt(t testing.TB, recs []Record, opt VMTOptions) []byte {
	opt.BlockRecords, opt.Compress = vmtMaxBlockRecords, false
	data := writeVMT(t, recs, opt)
	off := vmtHeaderSize + int(binary.LittleEndian.Uint32(data[16:]))
	raw := binary.LittleEndian.Uint32(data[off+8:])
	return data[off+vmtBlockHeaderSize : off+vmtBlockHeaderSize+int(raw)]
}

func TestWrapVMTReadsBack(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(1, 2)), 300)
	var acc uint64
	for _, r := range recs {
		if r.Kind.IsAccess() {
			acc++
		}
	}
	data := wrapVMT(blockPayload(t, recs), uint32(len(recs)), uint64(len(recs)), acc)
	for _, seekable := range []bool{false, true} {
		got, err := readVMT(data, seekable)
		if err != nil || !equalRecs(got, recs) {
			t.Fatalf("seekable=%v: %d records, %v", seekable, len(got), err)
		}
	}
}

// FuzzVMTPayload mutates a block's payload, its record count and the footer's totals
// inside an otherwise valid file, so that the fuzzer reaches the record decoder.
func FuzzVMTPayload(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 64} {
		recs := randomRecords(rng, n)
		var acc uint64
		for _, r := range recs {
			if r.Kind.IsAccess() {
				acc++
			}
		}
		f.Add(blockPayload(f, recs), uint32(n), uint64(n), acc)
	}
	f.Fuzz(func(t *testing.T, payload []byte, n uint32, recs, accesses uint64) {
		data := wrapVMT(payload, n%(vmtMaxBlockRecords+1), recs, accesses)
		for _, seekable := range []bool{false, true} {
			got, err := readVMT(data, seekable)
			if err != nil && !strings.Contains(err.Error(), "c.vmt") {
				t.Fatalf("error %q does not name the file", err)
			}
			for _, r := range got {
				if r.Kind >= numKinds || r.Kind.IsAccess() && (r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr) {
					t.Fatalf("invalid record %v", r)
				}
			}
			if err == nil && uint64(len(got)) != recs {
				t.Fatalf("read %d records cleanly, the footer says %d", len(got), recs)
			}
		}
	})
}

func TestCompressedVMTTrailerChecked(t *testing.T) {
	data := writeVMT(t, randomRecords(rand.New(rand.NewPCG(5, 6)), 100), VMTOptions{})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	good := gz.Bytes()
	tests := []struct {
		name    string
		mutate  func(b []byte)
		wantErr string
	}{
		{"intact", func([]byte) {}, ""},
		{"gzip CRC", func(b []byte) { b[len(b)-6] ^= 0xff }, "checksum"},
		{"gzip length", func(b []byte) { b[len(b)-2] ^= 0xff }, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tt.mutate(b)
			f, err := NewFile(bytes.NewReader(b), "t.vmt.gz", Options{})
			if err == nil {
				_, err = ReadAll(f)
			}
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLackeyLongLines(t *testing.T) {
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name        string
		text        string
		lenient     bool
		wantRecords int
		wantSkipped int64
		wantErr     bool
	}{
		{"valgrind command line", "==12== Command: prog " + long + "\n L 10,4\n", false, 1, 0, false},
		{"valgrind line last, no newline", " L 10,4\n==12== " + long, false, 1, 0, false},
		{"garbage strict", " L 10,4\n" + long + "\n S 20,8\n", false, 1, 0, true},
		{"garbage lenient", " L 10,4\n" + long + "\n S 20,8\n", true, 2, 1, false},
		{"huge garbage lenient", strings.Repeat(long, 200) + "\n S 20,8\n", true, 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewLackeyReader(strings.NewReader(tt.text), "t.lackey", tt.lenient)
			got, err := ReadAll(r)
			if (err != nil) != tt.wantErr || len(got) != tt.wantRecords || r.SkippedLines() != tt.wantSkipped {
				t.Errorf("%d records, %d skipped, %v", len(got), r.SkippedLines(), err)
			}
		})
	}
}
