package grow

import (
	"fmt"
	"testing"
)

// TestAppend: a seeded sequence of appends through Append and the built-in append give the
// same slices, and Append doubles a full slice's capacity (64 at least).
func TestAppend(t *testing.T) {
	var got, want []int64
	for i := range 10000 {
		before := cap(got)
		got = Append(got, int64(i*i))
		want = append(want, int64(i*i))
		if len(got) != len(want) || got[i] != want[i] {
			t.Fatalf("after %d appends: len %d, last %d; want len %d, last %d", i+1, len(got), got[len(got)-1], len(want), want[i])
		}
		if before == i && cap(got) != max(2*before, 64) {
			t.Fatalf("a full slice of capacity %d grew to %d", before, cap(got))
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d: %d, want %d", i, got[i], want[i])
		}
	}
}

// TestAppendShares: below its capacity Append writes in place, as append does.
func TestAppendShares(t *testing.T) {
	s := make([]int, 1, 4)
	u := Append(s, 7)
	if &u[0] != &s[0] || u[1] != 7 {
		t.Errorf("Append below capacity reallocated or lost the value: %v", u)
	}
}

func ExampleAppend() {
	var pages []uint32
	for p := range uint32(100) {
		pages = Append(pages, p)
	}
	fmt.Println(len(pages), cap(pages), pages[99])
	// Output: 100 128 99
}
