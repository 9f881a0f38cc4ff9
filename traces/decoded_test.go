package traces

import (
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDecoded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	recs := make([]Record, 200000)
	for i := range recs {
		recs[i] = Record{Addr: uint64(rng.IntN(1 << 20)), Size: 1, Kind: Kind(rng.IntN(4))}
		if rng.IntN(5000) == 0 {
			recs[i] = Record{Kind: Checkpoint}
		}
	}
	d := NewDecoded(recs)
	// NextAccesses hands out every record, in order, in place, with a right flag.
	r := d.Open()
	var got []Record
	for {
		b, all, err := r.NextAccesses()
		if err == io.EOF {
			break
		}
		for _, x := range b {
			if all && !x.Kind.IsAccess() {
				t.Fatal("a batch with a control record said all accesses")
			}
		}
		if len(b) > 0 && &b[0] != &recs[len(got)] {
			t.Fatal("records were copied")
		}
		got = append(got, b...)
	}
	if !slices.Equal(got, recs) {
		t.Fatal("NextAccesses changed the records")
	}
	// SeekAccess agrees with a linear count, and Read reads the rest.
	for _, n := range []uint64{0, 1, 2, 4999, 5000, 5001, 123456, 199000} {
		r := d.Open()
		if err := r.SeekAccess(n); err != nil {
			t.Fatal(err)
		}
		want, acc := 0, uint64(0)
		for ; want < len(recs) && acc < n; want++ {
			if recs[want].Kind.IsAccess() {
				acc++
			}
		}
		buf := make([]Record, 1)
		k, err := r.Read(buf)
		if want == len(recs) {
			if err != io.EOF {
				t.Fatalf("seek %d: %v at the end", n, err)
			}
			continue
		}
		if k != 1 || err != nil || buf[0] != recs[want] {
			t.Fatalf("seek %d: read %v, want record %d %v", n, buf[0], want, recs[want])
		}
	}
}
