package scheme

import (
	"testing"

	"github.com/vmsim/vmsim/traces"
)

func TestMarkPages(t *testing.T) {
	set := map[Page]struct{}{}
	for _, tt := range []struct {
		asid        traces.ASID
		first, last uint64
		want        int64
	}{
		{0, 5, 5, 1},
		{0, 4, 6, 2}, // 5 already marked
		{1, 5, 5, 1}, // another address space
		{0, 4, 6, 0},
	} {
		if got := MarkPages(set, tt.asid, tt.first, tt.last); got != tt.want {
			t.Errorf("MarkPages(%d, %d..%d) = %d, want %d", tt.asid, tt.first, tt.last, got, tt.want)
		}
	}
	if len(set) != 4 {
		t.Errorf("%d pages marked, want 4", len(set))
	}
}
