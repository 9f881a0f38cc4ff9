package scheme

import (
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/record"
)

func TestDirtySet(t *testing.T) {
	set := &DirtySet{}
	for _, tt := range []struct {
		asid        record.ASID
		first, last uint64
		want        int64
	}{
		{0, 5, 5, 1},
		{0, 4, 6, 2}, // 5 already marked
		{1, 5, 5, 1}, // another address space
		{0, 4, 6, 0},
	} {
		if got := set.MarkPages(tt.asid, tt.first, tt.last); got != tt.want {
			t.Errorf("MarkPages(%d, %d..%d) = %d, want %d", tt.asid, tt.first, tt.last, got, tt.want)
		}
	}
	if set.Len() != 4 {
		t.Errorf("%d pages marked, want 4", set.Len())
	}
	want := []Page{{0, 4}, {0, 5}, {0, 6}, {1, 5}}
	if got := set.Sorted(nil); !slices.Equal(got, want) {
		t.Errorf("Sorted = %v, want %v", got, want)
	}
	var each []Page
	set.Each(func(p Page) { each = append(each, p) })
	if w := []Page{{0, 5}, {0, 4}, {0, 6}, {1, 5}}; !slices.Equal(each, w) {
		t.Errorf("Each gives %v, want %v (the order first marked)", each, w)
	}
	if set.Mark(Page{1, 5}) || !set.Mark(Page{1, 6}) || !set.Has(Page{1, 6}) || set.Has(Page{2, 6}) {
		t.Error("Mark of a marked page reported a first mark, or of a new one did not, or Has disagrees")
	}
	set.Reset()
	if got := set.MarkPages(0, 5, 5); got != 1 || set.Len() != 1 {
		t.Errorf("after Reset, MarkPages(0, 5..5) = %d with %d pages, want 1 and 1", got, set.Len())
	}
}

// TestDirtySetCheck: Check finds a page marked in the set of another domain.
func TestDirtySetCheck(t *testing.T) {
	perASID := func(a record.ASID) Domain { return Domain(a) }
	var set DirtySet
	set.MarkPages(3, 1, 2)
	if err := set.Check(3, perASID); err != nil {
		t.Fatal(err)
	}
	set.Mark(Page{4, 1})
	if err := set.Check(3, perASID); err == nil || !strings.Contains(err.Error(), "of domain 4 is dirty in domain 3") {
		t.Errorf("Check = %v, want a page of domain 4 dirty in domain 3", err)
	}
}
