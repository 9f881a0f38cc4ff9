package frames

import (
	"fmt"
	"testing"
)

func TestAllocLowestFirst(t *testing.T) {
	p, _ := NewPolicy("fifo", 4, 0)
	ft := New(4, p, 0)
	for i := range 4 {
		if f, ok := ft.Alloc(Owner(i)); !ok || f != FrameID(i) {
			t.Fatalf("Alloc %d = %d, %v", i, f, ok)
		}
	}
	if _, ok := ft.Alloc(9); ok {
		t.Fatal("Alloc succeeded with every frame in use")
	}
	ft.Free(2)
	ft.Free(0)
	if f, _ := ft.Alloc(5); f != 0 {
		t.Errorf("Alloc after freeing 2 and 0 gave %d, want 0", f)
	}
	if err := ft.Check(); err != nil {
		t.Fatal(err)
	}
	if ft.Peak() != 4 || ft.Used() != 3 {
		t.Errorf("peak %d used %d", ft.Peak(), ft.Used())
	}
}

func TestUnlimitedGrows(t *testing.T) {
	ft := New(0, nil, 3)
	for i := range 100 {
		f, ok := ft.Alloc(Owner(i))
		if !ok || f != FrameID(i) || len(ft.Stamps(f)) != 3 {
			t.Fatalf("Alloc %d = %d, %v", i, f, ok)
		}
	}
	if err := ft.Check(); err != nil {
		t.Fatal(err)
	}
}

// fill loads n frames and returns the table.
func fill(t *testing.T, policy string, n int) *Table {
	t.Helper()
	p, err := NewPolicy(PolicyName(policy), n, 1)
	if err != nil {
		t.Fatal(err)
	}
	ft := New(n, p, 0)
	for i := range n {
		f, _ := ft.Alloc(Owner(i))
		ft.Touch(f, int64(10*(i+1)))
	}
	return ft
}

func TestVictims(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		hits   []FrameID
		pinned FrameID
		want   FrameID
	}{
		{"lru: least recent", "lru", []FrameID{0, 2}, NoFrame, 1},
		{"lru: pinned skipped", "lru", []FrameID{0, 2}, 1, 3},
		{"fifo: hits do not count", "fifo", []FrameID{0, 2}, NoFrame, 0},
		{"fifo: pinned skipped", "fifo", nil, 0, 1},
		{"clock: all referenced, first is taken after a sweep", "clock", nil, NoFrame, 0},
		{"clock: pinned skipped", "clock", nil, 0, 1},
		{"opt: furthest next use", "opt", nil, NoFrame, 3},
		{"opt: pinned on top", "opt", nil, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := fill(t, tt.policy, 4)
			for _, f := range tt.hits {
				ft.Touch(f, 5)
			}
			if got := ft.Victim(tt.pinned); got != tt.want {
				t.Errorf("victim %d, want %d", got, tt.want)
			}
		})
	}
}

func TestOPTTiesAndRekey(t *testing.T) {
	ft := fill(t, "opt", 4)
	ft.Rekey(1, NeverUsed)
	ft.Rekey(2, NeverUsed)
	if v := ft.Victim(NoFrame); v != 1 {
		t.Errorf("victim %d, want 1 (lowest of the never-used)", v)
	}
	ft.Free(1)
	f, _ := ft.Alloc(20) // frame 1 again, used soon
	ft.Touch(f, 5)
	if v := ft.Victim(NoFrame); v != 2 {
		t.Errorf("victim after reloading 1 = %d, want 2", v)
	}
}

func TestRandomIsSeeded(t *testing.T) {
	seq := func(seed uint64) []FrameID {
		p, _ := NewPolicy("random", 8, seed)
		var out []FrameID
		for range 20 {
			out = append(out, p.Victim(NoFrame))
		}
		return out
	}
	a, b := seq(3), seq(3)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different victims: %v %v", a, b)
		}
	}
}

func TestUnknownPolicy(t *testing.T) {
	if _, err := NewPolicy("lfu", 3, 0); err == nil {
		t.Error("no error for lfu")
	}
}

func ExampleTable() {
	p, _ := NewPolicy("clock", 2, 0)
	ft := New(2, p, 0)
	a, _ := ft.Alloc(10)
	b, _ := ft.Alloc(11)
	ft.SetDirty(a, true)
	fmt.Println(a, b, ft.Victim(NoFrame), ft.Dirty(a))
	// Output: 0 1 0 true
}
