package mmu

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/scheme"
)

// mapState shows a mapping: F (frame) with * when its change bit is set, S (slot), or -.
func mapState(s *DualMap, m pagetable.Mapping) string {
	out := ""
	if m.Frame != frames.NoFrame {
		out += "F"
		if s.ft.Dirty(m.Frame) {
			out += "*"
		}
	}
	if m.Slot != disk.NoSlot {
		out += "S"
	}
	if out == "" {
		out = "-"
	}
	return out
}

// pteState describes page 1 of address space 0 and its domain.
func pteState(s *DualMap) string {
	p, ok := s.pt.Find(0, 1)
	if !ok {
		return "untouched"
	}
	e := s.pt.PTE(p)
	return fmt.Sprintf("V=%d l=%d v=%d m0=%s m1=%s slots=%d",
		s.pt.Domain(e.Domain).V, e.L, e.V, mapState(s, e.M[0]), mapState(s, e.M[1]), s.dk.Used())
}

// runOps performs ops: Rn reads page n, Wn writes it, C checkpoints, B rolls back, K crashes.
func runOps(t *testing.T, s *DualMap, ops []string) {
	t.Helper()
	for _, op := range ops {
		switch op[0] {
		case 'R', 'W':
			n, err := strconv.Atoi(op[1:])
			if err != nil {
				t.Fatal(err)
			}
			s.Access(0, pagetable.VPN(n), op[0] == 'W', -1)
		case 'C':
			s.Checkpoint(0)
		case 'B':
			s.Rollback(0)
		case 'K':
			s.Crash()
		default:
			t.Fatalf("bad op %q", op)
		}
		if err := s.Check(); err != nil {
			t.Fatalf("after %s: %v", op, err)
		}
	}
}

func TestDualMapOperations(t *testing.T) {
	type opts struct {
		frames                         int
		volatile, remap, zero, obsFirs bool
		vbits                          int
	}
	tests := []struct {
		name string
		cfg  opts
		ops  []string
		want string
		cnt  Counts // only the non-zero fields listed are compared
	}{
		{"write with v==V", opts{}, []string{"W1", "W1"},
			"V=1 l=1 v=1 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 1}}},
		{"first write, checkpoint version resident", opts{}, []string{"R1", "W1"},
			"V=1 l=1 v=1 m0=F m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageCopies: 1, PageFaults: 1, DiskReads: 1, CheckpointFramesPeak: 1, FramesPeak: 2}}},
		{"first write, checkpoint version on disk", opts{frames: 2}, []string{"W1", "C", "R2", "R3", "W1"},
			"V=2 l=0 v=2 m0=F* m1=S slots=1", Counts{Paging: scheme.Paging{FirstWrites: 2, PageFaults: 4, DiskReads: 4, DiskWrites: 1, FramesPeak: 2}, Steals: 2}},
		{"first write, page never existed, zero-fill", opts{zero: true}, []string{"W1"},
			"V=1 l=1 v=1 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 1, FramesPeak: 1}}},
		{"remap of a clean frame", opts{remap: true}, []string{"R1", "W1"},
			"V=1 l=1 v=1 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, Remaps: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 1}}},
		{"remap of a dirty frame copies", opts{remap: true}, []string{"W1", "C", "W1"},
			"V=2 l=0 v=2 m0=F* m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 2, PageCopies: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 2, CheckpointFramesPeak: 1}}},
		{"checkpoint, non-volatile: V+1 and nothing else", opts{}, []string{"W1", "C"},
			"V=2 l=1 v=1 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 1}}},
		{"checkpoint, volatile: dirty page, page-table page, commit", opts{volatile: true}, []string{"W1", "C"},
			"V=2 l=1 v=1 m0=- m1=FS slots=1", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 1, DiskReads: 1, DiskWrites: 1, PTPagesWritten: 1, CommitWrites: 1, FramesPeak: 1}}},
		{"checkpoint, volatile: distinct page-table pages", opts{volatile: true}, []string{"W1", "W2", "W9", "C"},
			"V=2 l=1 v=1 m0=- m1=FS slots=3", Counts{Paging: scheme.Paging{FirstWrites: 3, PageFaults: 3, DiskReads: 3, DiskWrites: 3, PTPagesWritten: 2, CommitWrites: 1, FramesPeak: 3}}},
		{"rollback", opts{}, []string{"R1", "W1", "B"},
			"V=1 l=0 v=0 m0=F m1=- slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageCopies: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 2, CheckpointFramesPeak: 1}}},
		{"rollback frees the discarded version's slot", opts{frames: 2}, []string{"R1", "W1", "R2", "R3", "B"},
			"V=1 l=0 v=0 m0=- m1=- slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageCopies: 1, PageFaults: 3, DiskReads: 3, DiskWrites: 1, FramesPeak: 2, CheckpointFramesPeak: 1}, Steals: 2}},
		{"crash, volatile: back to the committed slot", opts{volatile: true}, []string{"W1", "C", "W1", "K"},
			"V=2 l=1 v=0 m0=- m1=S slots=1", Counts{Paging: scheme.Paging{FirstWrites: 2, PageCopies: 1, PageFaults: 1, DiskReads: 1, DiskWrites: 1, PTPagesWritten: 1, CommitWrites: 1, FramesPeak: 2, CheckpointFramesPeak: 1}}},
		{"wrap, k=1: every checkpoint sweeps", opts{vbits: 1}, []string{"W1", "C"},
			"V=1 l=1 v=0 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 1, WrapSweeps: 1}}},
		{"wrap, k=2: no sweep before V passes 3", opts{vbits: 2}, []string{"W1", "C", "C"},
			"V=3 l=1 v=1 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 1}}},
		{"wrap, k=2: the sweep clears v", opts{vbits: 2}, []string{"W1", "C", "C", "C", "W1"},
			"V=1 l=0 v=1 m0=F* m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 2, PageCopies: 1, PageFaults: 1, DiskReads: 1, FramesPeak: 2, WrapSweeps: 1, CheckpointFramesPeak: 1}}},
		{"steal of an obsolete frame: no I/O", opts{frames: 2, obsFirs: true}, []string{"R1", "W1", "C", "R2"},
			"V=2 l=1 v=1 m0=- m1=F* slots=0", Counts{Paging: scheme.Paging{FirstWrites: 1, PageCopies: 1, PageFaults: 2, DiskReads: 2, FramesPeak: 2, CheckpointFramesPeak: 1}, Steals: 1}},
		{"steal of a dirty checkpoint frame: written first", opts{frames: 2}, []string{"W1", "C", "R1", "W1", "R2"},
			"V=2 l=0 v=2 m0=F* m1=S slots=1", Counts{Paging: scheme.Paging{FirstWrites: 2, PageCopies: 1, PageFaults: 2, DiskReads: 2, DiskWrites: 1, FramesPeak: 2, CheckpointFramesPeak: 1}, Steals: 1}},
		{"steal of a dirty current frame: written first", opts{frames: 2}, []string{"W1", "R2", "R3"},
			"V=1 l=1 v=1 m0=- m1=S slots=1", Counts{Paging: scheme.Paging{FirstWrites: 1, PageFaults: 3, DiskReads: 3, DiskWrites: 1, FramesPeak: 2}, Steals: 1}},
		{"steal of a clean current frame: no I/O", opts{frames: 2}, []string{"R1", "R2", "R3"},
			"V=1 l=0 v=0 m0=- m1=- slots=0", Counts{Paging: scheme.Paging{PageFaults: 3, DiskReads: 3, FramesPeak: 2}, Steals: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vbits := tt.cfg.vbits
			if vbits == 0 {
				vbits = 8
			}
			sc, err := New(Config{Scheme: "dualmap", Frames: tt.cfg.frames, Replace: "lru", VBits: vbits,
				Volatile: tt.cfg.volatile, Remap: tt.cfg.remap, ZeroFill: tt.cfg.zero, ObsoleteFirst: tt.cfg.obsFirs,
				PTEsPerPTPage: 4})
			if err != nil {
				t.Fatal(err)
			}
			s := sc.(*DualMap)
			runOps(t, s, tt.ops)
			if got := pteState(s); got != tt.want {
				t.Errorf("state %s\n          want %s", got, tt.want)
			}
			got := s.Counters()
			got.PagesTouched, got.PagesWritten = 0, 0
			if got != tt.cnt {
				t.Errorf("counters %+v\n     want %+v", got, tt.cnt)
			}
		})
	}
}
