package traces

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteIndex returns a copy of the vmt file data whose index entries lie has changed,
// with the index's CRC-32C fixed: a file whose checksums are all valid and whose index
// says what lie made it say.
func rewriteIndex(t testing.TB, data []byte, lie func(e []vmtIndexEntry)) []byte {
	t.Helper()
	out := bytes.Clone(data)
	foot := out[len(out)-vmtFooterSize:]
	endOff := int(binary.LittleEndian.Uint64(foot[16:]))
	idxOff := endOff + vmtBlockHeaderSize
	idx := out[idxOff : len(out)-vmtFooterSize]
	e := make([]vmtIndexEntry, len(idx)/vmtIndexEntrySize)
	for i := range e {
		b := idx[i*vmtIndexEntrySize:]
		e[i] = vmtIndexEntry{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), int64(binary.LittleEndian.Uint64(b[16:]))}
	}
	lie(e)
	b := idx[:0]
	for _, x := range e {
		b = x.append(b)
	}
	if len(b) != len(idx) {
		t.Fatalf("rewriteIndex: the index changed length")
	}
	binary.LittleEndian.PutUint32(out[endOff+12:], crc32.Checksum(idx, castagnoli))
	return out
}

// indexedTrace is 1000 accesses of 100-record blocks with a checkpoint every 37 records,
// so that a block's access number and record number differ; start[n] is the index of
// the first record after access n-1, and blockAccess[i] the access number block i
// starts at.
func indexedTrace() (recs []Record, start []int, blockAccess []uint64) {
	start = []int{0}
	for len(start) <= 1000 {
		if len(recs)%37 == 36 {
			recs = append(recs, Record{Kind: Checkpoint})
			continue
		}
		recs = append(recs, Record{Addr: 0x10000 + 8*uint64(len(recs)), Size: 8, Kind: Write})
		start = append(start, len(recs))
	}
	for i := 0; i < len(recs); i += 100 {
		blockAccess = append(blockAccess, countAccesses(recs[:i]))
	}
	return recs, start, blockAccess
}

// TestVMTSeekRefusesLyingIndex crafts files whose CRCs are valid but whose index lies
// about where blocks start (issue 20, item 17). Every seek that lands where the lie
// matters must fail with an error naming the file and a byte offset, before any record;
// the reader then stays failed (the replay path reads on after a failed seek); and no
// seek, nor any read through the parallel decoder, returns records other than the
// trace's.
func TestVMTSeekRefusesLyingIndex(t *testing.T) {
	recs, start, blockAccess := indexedTrace()
	tests := []struct {
		name string
		lie  func(e []vmtIndexEntry)
	}{
		{"first access too small", func(e []vmtIndexEntry) { e[3].firstAccess -= 5 }},
		{"first access too large", func(e []vmtIndexEntry) { e[3].firstAccess += 5 }},
		{"first record off", func(e []vmtIndexEntry) { e[3].firstRecord++ }},
		{"every other entry", func(e []vmtIndexEntry) {
			for i := 1; i < len(e); i += 2 {
				e[i].firstAccess--
			}
		}},
	}
	for _, compress := range []bool{false, true} {
		good := writeVMT(t, recs, VMTOptions{BlockRecords: 100, Compress: compress})
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/compress=%v", tt.name, compress), func(t *testing.T) {
				data := rewriteIndex(t, good, tt.lie)
				// Seeks into the blocks next to the lie (blocks 2 and 3) must fail.
				for _, n := range []uint64{blockAccess[2] + 5, blockAccess[3] - 2, blockAccess[3] + 5} {
					v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "c.vmt")
					if err != nil {
						t.Fatalf("OpenVMT: %v", err)
					}
					serr := v.SeekAccess(n)
					if serr == nil || !strings.Contains(serr.Error(), "c.vmt: offset ") || !strings.Contains(serr.Error(), "index") {
						t.Fatalf("SeekAccess(%d) = %v, want an error naming the file, an offset and the index", n, serr)
					}
					// A caller that reads on after the failed seek (the replay path
					// does) gets the same error and no record.
					got, err := ReadAll(v)
					if len(got) != 0 || err == nil || err.Error() != serr.Error() {
						t.Fatalf("after the failed SeekAccess(%d): %d records, %v; want none and %v", n, len(got), err, serr)
					}
				}
				// No seek anywhere, nor a read from the start, gives wrong records: the
				// trace's, then (where the lie is found) an error.
				for n := uint64(0); n <= 1000; n += 7 {
					want := recs[start[n]:]
					v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "c.vmt")
					if err != nil {
						t.Fatalf("OpenVMT: %v", err)
					}
					if err := v.SeekAccess(n); err != nil {
						continue
					}
					got, err := ReadAll(v)
					if len(got) > len(want) || !equalRecs(got, want[:len(got)]) {
						t.Fatalf("after SeekAccess(%d): wrong records (%v)", n, err)
					}
					if n < blockAccess[1] && err == nil {
						t.Fatalf("read from access %d through the lie: no error", n)
					}
					// The parallel decoder stops at the same place with the same error.
					pgot, perr := prefetchVMT(data, true, 2, n)
					if !equalRecs(pgot, got) || (perr == nil) != (err == nil) || (err != nil && perr.Error() != err.Error()) {
						t.Fatalf("from %d: prefetched %d records, %v; sequential %d, %v", n, len(pgot), perr, len(got), err)
					}
				}
				// A stream sees that the index does not describe the blocks.
				if _, err := readVMT(data, false); err == nil {
					t.Error("streaming the file: no error")
				}
			})
		}
	}
}

// TestOpenSeekRefusesLyingIndex is the seek of `vmsim trace head --from` (File.SeekAccess
// on a file from Open) on a file whose index lies.
func TestOpenSeekRefusesLyingIndex(t *testing.T) {
	recs, _, blockAccess := indexedTrace()
	data := rewriteIndex(t, writeVMT(t, recs, VMTOptions{BlockRecords: 100, Compress: true}),
		func(e []vmtIndexEntry) { e[3].firstAccess -= 5 })
	path := filepath.Join(t.TempDir(), "lie.vmt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = f.SeekAccess(blockAccess[3] - 2)
	var te *Error
	if err == nil || !strings.Contains(err.Error(), path+": offset ") || !errors.As(err, &te) || te.Offset <= 0 {
		t.Fatalf("SeekAccess = %v, want an *Error naming %s and a byte offset", err, path)
	}
	if _, rerr := f.Read(make([]Record, 10)); rerr == nil || rerr.Error() != err.Error() {
		t.Fatalf("Read after the failed seek: %v, want %v", rerr, err)
	}
}

// FuzzVMTSeek seeks in arbitrary files. Whatever the bytes: no panic, errors name the
// file, and the parallel decoder agrees with the reader after the seek. And when the
// whole file reads cleanly from the start (so that every block matches its index
// entry), a seek to access n must give exactly the records after access n-1, or say
// that n is past the end.
func FuzzVMTSeek(f *testing.F) {
	recs, _, _ := indexedTrace()
	for _, compress := range []bool{false, true} {
		good := writeVMT(f, recs[:400], VMTOptions{BlockRecords: 50, Compress: compress})
		f.Add(good, uint16(120))
		f.Add(rewriteIndex(f, good, func(e []vmtIndexEntry) { e[3].firstAccess -= 2 }), uint16(140))
		f.Add(rewriteIndex(f, good, func(e []vmtIndexEntry) { e[3].firstAccess++ }), uint16(150))
		f.Add(rewriteIndex(f, good, func(e []vmtIndexEntry) { e[len(e)-1].firstRecord-- }), uint16(390))
	}
	f.Add(writeVMT(f, nil, VMTOptions{}), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, n16 uint16) {
		n := uint64(n16)
		all, allErr := readVMT(data, true)
		v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "c.vmt")
		if err != nil {
			if !strings.Contains(err.Error(), "c.vmt") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		serr := v.SeekAccess(n)
		var got []Record
		var rerr error
		if serr == nil {
			got, rerr = ReadAll(v)
		}
		for _, e := range []error{serr, rerr} {
			if e != nil && !strings.Contains(e.Error(), "c.vmt") {
				t.Fatalf("error %q does not name the file", e)
			}
		}
		if serr == nil {
			pgot, perr := prefetchVMT(data, true, 2, n)
			if !equalRecs(pgot, got) || (perr == nil) != (rerr == nil) || (rerr != nil && perr.Error() != rerr.Error()) {
				t.Fatalf("from %d: prefetched %d records, %v; sequential %d, %v", n, len(pgot), perr, len(got), rerr)
			}
		}
		if allErr != nil {
			return
		}
		// start is the index of the first record after access n-1.
		start, seen := 0, uint64(0)
		for start < len(all) && seen < n {
			if all[start].Kind.IsAccess() {
				seen++
			}
			start++
		}
		switch {
		case seen < n:
			if serr == nil || !strings.Contains(serr.Error(), "past the end") {
				t.Fatalf("SeekAccess(%d) in a trace of %d accesses: %v", n, seen, serr)
			}
		case serr != nil || rerr != nil || !equalRecs(got, all[start:]):
			t.Fatalf("SeekAccess(%d) in a valid file: %v, %v, %d records, want %d", n, serr, rerr, len(got), len(all)-start)
		}
	})
}
