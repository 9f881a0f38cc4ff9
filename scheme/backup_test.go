package scheme

import (
	"slices"
	"strings"
	"testing"
)

// TestBackupImage: staged units reach the image only at their domain's commit, in order.
func TestBackupImage(t *testing.T) {
	img := NewBackupImage(2)
	got := make([]uint64, 2)
	unit := func(k int) Page { return Page{ASID: 1, N: uint64(k)} }
	fetch := func(k int) []uint64 { img.Fetch(unit(k), got); return slices.Clone(got) }

	img.Stage(0, unit(1), []uint64{10, 11})
	img.Stage(1, unit(2), []uint64{20, 21})
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
	img.Stage(0, unit(3), src)
	src[0] = 99                             // Stage copied
	img.Stage(0, unit(1), []uint64{14, 15}) // staged twice in an epoch: the last one wins
	img.Stage(0, unit(1), []uint64{16, 17})
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

	none := NewBackupImage(0)
	none.Stage(0, unit(1), nil)
	none.Commit(0)
	if none.Len() != 0 {
		t.Error("an image of 0 blocks a unit holds units")
	}
}

// TestBackupImageCheck: Check finds a unit of the wrong size in the image.
func TestBackupImageCheck(t *testing.T) {
	img := NewBackupImage(2)
	img.Stage(0, Page{0, 1}, []uint64{1, 2})
	img.Commit(0)
	if err := img.Check(); err != nil {
		t.Fatal(err)
	}
	img.image.stamps[0] = img.image.stamps[0][:1]
	if err := img.Check(); err == nil {
		t.Error("Check passed a unit of 1 stamp in an image of 2")
	}
}
