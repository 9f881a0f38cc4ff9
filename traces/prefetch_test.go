package traces

import (
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
