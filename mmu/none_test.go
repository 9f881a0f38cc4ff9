package mmu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/internal/refsim"
	"github.com/vmsim/vmsim/pagetable"
)

type ref struct {
	page  uint64
	write bool
}

// nextUses returns, for each reference, the index of the next reference to its page.
func nextUses(refs []ref) []int64 {
	nu := make([]int64, len(refs))
	last := map[uint64]int64{}
	for i := len(refs) - 1; i >= 0; i-- {
		nu[i] = frames.NeverUsed
		if j, ok := last[refs[i].page]; ok {
			nu[i] = j
		}
		last[refs[i].page] = int64(i)
	}
	return nu
}

func runNone(t *testing.T, policy string, nframes int, refs []ref) Counts {
	t.Helper()
	s, err := New(Config{Scheme: "none", Frames: nframes, Replace: frames.PolicyName(policy), VBits: 8, PTEsPerPTPage: 256, ObsoleteFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	nu := nextUses(refs)
	for i, r := range refs {
		s.Access(0, pagetable.VPN(r.page), r.write, nu[i])
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	return s.Counters()
}

// The reference string of Silberschatz, Galvin and Gagne, Operating System Concepts,
// section 10.4, with 3 frames: FIFO 15 faults, LRU 12, OPT 9. CLOCK (reference bit set on
// load and on every hit, hand from frame 0) is worked by hand in the comment below.
func TestNoneTextbook(t *testing.T) {
	var refs []ref
	for _, p := range []uint64{7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1} {
		refs = append(refs, ref{page: p})
	}
	// CLOCK by hand (frames f0 f1 f2, * = reference bit set, ^ = hand after the fault):
	//  7 0 1 -> [7* 0* 1*] 3 faults      2 -> [2* 0 1]^f1        0 hit -> [2* 0* 1]
	//  3 -> [2* 0 3*]^f0                 0 hit -> [2* 0* 3*]     4 -> [4* 0 3]^f1
	//  2 -> [4* 2* 3]^f2                 3 hit -> [4* 2* 3*]     0 -> [4 2 0*]^f0
	//  3 -> [3* 2 0*]^f1                 2 hit -> [3* 2* 0*]     1 -> [3 1* 0]^f2
	//  2 -> [3 1* 2*]^f0                 0 -> [0* 1* 2*]^f1      1 hit
	//  7 -> [0 7* 2]^f2                  0 hit -> [0* 7* 2]      1 -> [0* 7* 1*]^f0
	// = 14 faults.
	want := map[string]int64{"fifo": 15, "lru": 12, "opt": 9, "clock": 14}
	for policy, faults := range want {
		t.Run(policy, func(t *testing.T) {
			c := runNone(t, policy, 3, refs)
			if c.PageFaults != faults || c.DiskReads != faults || c.DiskWrites != 0 {
				t.Errorf("faults=%d reads=%d writes=%d, want %d faults and reads, 0 writes", c.PageFaults, c.DiskReads, c.DiskWrites, faults)
			}
		})
	}
}

// Dirty evictions by hand, LRU with 2 frames: W1 R2 R3 (evicts dirty 1: write) W2 R1
// (evicts 3, clean) R3 (evicts dirty 2: write) = 5 faults, 2 writes.
func TestNoneDirtyEvictions(t *testing.T) {
	refs := []ref{{1, true}, {2, false}, {3, false}, {2, true}, {1, false}, {3, false}}
	c := runNone(t, "lru", 2, refs)
	if c.PageFaults != 5 || c.DiskWrites != 2 || c.DiskReads != 5 {
		t.Errorf("faults=%d writes=%d reads=%d, want 5, 2, 5", c.PageFaults, c.DiskWrites, c.DiskReads)
	}
}

func TestNoneAgainstReference(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	for trial := range 200 {
		nframes := 1 + rng.IntN(8)
		npages := 1 + rng.IntN(16)
		refs := make([]ref, 50+rng.IntN(300))
		for i := range refs {
			refs[i] = ref{uint64(rng.IntN(npages)), rng.IntN(4) == 0}
		}
		for _, policy := range []string{"lru", "fifo", "clock", "opt"} {
			c := runNone(t, policy, nframes, refs)
			rr := make([]refsim.Ref, len(refs))
			for i, r := range refs {
				rr[i] = refsim.Ref{Page: r.page, Write: r.write}
			}
			f, w := refsim.Simulate(policy, nframes, rr)
			if c.PageFaults != f || c.DiskWrites != w {
				t.Fatalf("seed %d trial %d %s frames=%d: faults=%d writes=%d, reference %d %d",
					seed, trial, policy, nframes, c.PageFaults, c.DiskWrites, f, w)
			}
		}
	}
}

func ExampleNew() {
	s, err := New(Config{Scheme: "dualmap", Frames: 0, VBits: 8, PTEsPerPTPage: 256})
	if err != nil {
		panic(err)
	}
	d := s.DomainOf(0)
	s.Access(0, 0x10, true, -1) // first write: a protection event
	s.Access(0, 0x10, true, -1) // written since the checkpoint: nothing to do
	s.Checkpoint(d)             // V = V+1
	s.Access(0, 0x10, false, -1)
	s.Access(0, 0x10, true, -1) // first write of the new interval: a page copy
	s.Rollback(d)               // back to the checkpoint
	c := s.Counters()
	fmt.Println(c.FirstWrites, c.PageCopies, c.PageFaults)
	// Output: 2 1 1
}
