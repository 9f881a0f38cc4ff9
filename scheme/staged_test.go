package scheme

import (
	"slices"
	"strings"
	"testing"
)

func TestStagedImage(t *testing.T) {
	img := NewStagedImage[int](2)
	got := make([]uint64, 2)
	fetch := func(k int) []uint64 { img.Fetch(k, got); return slices.Clone(got) }

	img.Stage(0, 1, []uint64{10, 11})
	img.Stage(1, 2, []uint64{20, 21})
	if v := fetch(1); !slices.Equal(v, []uint64{0, 0}) {
		t.Errorf("staged and not committed: unit 1 reads %v", v)
	}
	if err := img.Check(); err == nil || !strings.Contains(err.Error(), "uncommitted") {
		t.Errorf("Check with an epoch pending: %v", err)
	}
	img.Commit(0)
	if v := fetch(1); !slices.Equal(v, []uint64{10, 11}) {
		t.Errorf("committed: unit 1 reads %v", v)
	}
	if v := fetch(2); !slices.Equal(v, []uint64{0, 0}) {
		t.Errorf("domain 1 not committed: unit 2 reads %v", v)
	}
	// The staging buffer domain 0 used is reused; what was committed stays.
	src := []uint64{12, 13}
	img.Stage(0, 3, src)
	src[0] = 99                       // Stage copied
	img.Stage(0, 1, []uint64{14, 15}) // staged twice in an epoch: the last one wins
	img.Stage(0, 1, []uint64{16, 17})
	img.Commit(0)
	img.Commit(1)
	for k, want := range map[int][]uint64{1: {16, 17}, 2: {20, 21}, 3: {12, 13}, 4: {0, 0}} {
		if v := fetch(k); !slices.Equal(v, want) {
			t.Errorf("unit %d reads %v, want %v", k, v, want)
		}
	}
	if err := img.Check(); err != nil {
		t.Error(err)
	}
	if units := img.Units(); img.Len() != 3 || len(units) != 3 {
		t.Errorf("%d units (%v), want 3", img.Len(), units)
	}

	none := NewStagedImage[int](0)
	none.Stage(0, 1, nil)
	none.Commit(0)
	if none.Len() != 0 {
		t.Error("an image of 0 blocks a unit holds units")
	}
}
