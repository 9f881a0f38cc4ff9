package traces

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPrefetcherSameRecordsAndError(t *testing.T) {
	text := randomRW(50000) + "zz Q\n" + randomRW(10)
	direct, derr := ReadAll(NewRWReader(strings.NewReader(text), "p"))
	p := NewPrefetcher(NewRWReader(strings.NewReader(text), "p"))
	defer p.Close()
	got, gerr := ReadAll(p)
	if !equalRecs(got, direct) || derr == nil || gerr == nil || derr.Error() != gerr.Error() {
		t.Fatalf("prefetched %d records, %v; direct %d, %v", len(got), gerr, len(direct), derr)
	}
}

func TestPrefetcherEarlyClose(t *testing.T) {
	p := NewPrefetcher(NewRWReader(strings.NewReader(randomRW(100000)), "p"))
	buf := make([]Record, 10)
	if n, err := p.Read(buf); n != 10 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	p.Close() // must not hang or leak the goroutine
}

func TestPrefetcherNext(t *testing.T) {
	text := randomRW(70000) + "zz Q\n"
	direct, derr := ReadAll(NewRWReader(strings.NewReader(text), "p"))
	p := NewPrefetcher(NewRWReader(strings.NewReader(text), "p"))
	defer p.Close()
	var got []Record
	var err error
	for {
		var b []Record
		if b, err = p.Next(); err != nil {
			break
		}
		got = append(got, b...)
	}
	if !equalRecs(got, direct) || err == nil || err.Error() != derr.Error() {
		t.Fatalf("Next gave %d records, %v; direct %d, %v", len(got), err, len(direct), derr)
	}
}

// prefetchVMT reads a vmt file through a Prefetcher with the given number of workers,
// from access from on (0: the start).
func prefetchVMT(data []byte, seekable bool, workers int, from uint64) ([]Record, error) {
	var v *VMTReader
	var err error
	if seekable {
		v, err = OpenVMT(bytes.NewReader(data), int64(len(data)), "c.vmt")
	} else {
		v, err = NewVMTReader(bytes.NewReader(data), "c.vmt")
	}
	if err != nil {
		return nil, err
	}
	if from > 0 {
		if err := v.SeekAccess(from); err != nil {
			return nil, err
		}
	}
	old := PrefetchWorkers
	PrefetchWorkers = workers
	defer func() { PrefetchWorkers = old }()
	p := NewPrefetcher(v)
	defer p.Close()
	var all []Record
	for {
		b, _, err := p.NextAccesses()
		all = append(all, b...)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

// TestPrefetcherVMTSameAsSequential checks the parallel vmt decoder against the reader
// alone: the same records, and at a corrupt byte the same records before the same error.
func TestPrefetcherVMTSameAsSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	recs := randomRecords(rng, 3000)
	for _, tt := range []struct {
		name     string
		opt      VMTOptions
		seekable bool
		workers  int
	}{
		{"stream raw 1 worker", VMTOptions{BlockRecords: 100}, false, 1},
		{"stream zstd 2 workers", VMTOptions{BlockRecords: 100, Compress: true}, false, 2},
		{"seekable zstd 3 workers", VMTOptions{BlockRecords: 333, Compress: true}, true, 3},
		{"seekable raw 2 workers", VMTOptions{BlockRecords: 7}, true, 2},
		{"one block", VMTOptions{Compress: true}, true, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := writeVMT(t, recs, tt.opt)
			check := func(what string, data []byte, from uint64) {
				t.Helper()
				want, werr := readVMTFrom(data, tt.seekable, from)
				got, gerr := prefetchVMT(data, tt.seekable, tt.workers, from)
				if !equalRecs(got, want) || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
					t.Fatalf("%s: prefetched %d records, %v; sequential %d, %v", what, len(got), gerr, len(want), werr)
				}
			}
			check("whole", data, 0)
			if tt.seekable {
				for _, from := range []uint64{1, 50, 101, 2000} {
					check(fmt.Sprintf("from %d", from), data, from)
				}
			}
			for range 200 {
				bad := bytes.Clone(data)
				i := rng.IntN(len(bad))
				bad[i] ^= byte(1 << rng.IntN(8))
				check(fmt.Sprintf("flip at %d", i), bad, 0)
			}
			for range 50 {
				check("truncated", data[:rng.IntN(len(data))], 0)
			}
		})
	}
}

// readVMTFrom reads a vmt file with the reader alone from access from on.
func readVMTFrom(data []byte, seekable bool, from uint64) ([]Record, error) {
	if from == 0 {
		return readVMT(data, seekable)
	}
	v, err := OpenVMT(bytes.NewReader(data), int64(len(data)), "c.vmt")
	if err != nil {
		return nil, err
	}
	if err := v.SeekAccess(from); err != nil {
		return nil, err
	}
	return ReadAll(v)
}

func TestPrefetcherVMTEarlyClose(t *testing.T) {
	data := writeVMT(t, randomRecords(rand.New(rand.NewPCG(1, 2)), 5000), VMTOptions{BlockRecords: 50, Compress: true})
	v, err := NewVMTReader(bytes.NewReader(data), "c.vmt")
	if err != nil {
		t.Fatal(err)
	}
	p := NewPrefetcher(v)
	if _, err := p.Next(); err != nil {
		t.Fatal(err)
	}
	p.Close() // must not hang, nor leave a goroutine using v
}
