package repl_test

import (
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/traces"
)

// TestRemusSendsEpochInOrder: at a checkpoint remus sends the domain's dirty pages in
// address order, each once however often it was written, then commits; an empty epoch
// only commits; the other domain's pages wait for its own checkpoint.
func TestRemusSendsEpochInOrder(t *testing.T) {
	ctrl := gomock.NewController(t)
	b := NewMockBackup(ctrl)
	gomock.InOrder(
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 1, N: 1}, nil),
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 1, N: 2}, nil),
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 1, N: 5}, nil),
		b.EXPECT().Commit(scheme.Domain(0)),
		b.EXPECT().Commit(scheme.Domain(0)),
		b.EXPECT().Send(scheme.Domain(1), repl.Unit{ASID: 2, N: 9}, nil),
		b.EXPECT().Commit(scheme.Domain(1)),
	)
	r := repl.NewRemus(scheme.Machine{PageSize: 4096, PerASID: true}, b)
	for _, a := range []traces.Record{
		{Addr: 5 << 12, Size: 8, ASID: 1, Kind: traces.Write},
		{Addr: 2<<12 - 4, Size: 8, ASID: 1, Kind: traces.Modify}, // pages 1 and 2
		{Addr: 9 << 12, Size: 8, ASID: 2, Kind: traces.Write},
		{Addr: 5 << 12, Size: 8, ASID: 1, Kind: traces.Write},
		{Addr: 7 << 12, Size: 8, ASID: 1, Kind: traces.Read},
	} {
		schemetest.Perform(r, 0, a)
	}
	r.Checkpoint(r.DomainOf(1))
	r.Checkpoint(r.DomainOf(1))
	r.Checkpoint(r.DomainOf(2))
}

// TestCachelineSendsLogInOrder: cacheline sends one line per log entry, in log order,
// duplicates included, then commits; a full log asks for a checkpoint once.
func TestCachelineSendsLogInOrder(t *testing.T) {
	ctrl := gomock.NewController(t)
	b := NewMockBackup(ctrl)
	var asked []scheme.Domain
	gomock.InOrder(
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 0, N: 5}, nil),
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 0, N: 2}, nil),
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 0, N: 3}, nil),
		b.EXPECT().Send(scheme.Domain(0), repl.Unit{ASID: 0, N: 5}, nil),
		b.EXPECT().Commit(scheme.Domain(0)),
	)
	m := scheme.Machine{PageSize: 4096, CacheLine: 64, RequestCheckpoint: func(d scheme.Domain) { asked = append(asked, d) }}
	c, err := repl.NewCacheline(m, 3, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []traces.Record{
		{Addr: 5 * 64, Size: 64, Kind: traces.Write},
		{Addr: 9 * 64, Size: 64, Kind: traces.Read}, // a fill: not logged
		{Addr: 2 * 64, Size: 128, Kind: traces.Write},
		{Addr: 5 * 64, Size: 64, Kind: traces.Write},
	} {
		schemetest.Perform(c, 0, a)
	}
	if len(asked) != 1 || asked[0] != 0 {
		t.Fatalf("checkpoints asked: %v, want one of domain 0", asked)
	}
	c.Checkpoint(0)
}
