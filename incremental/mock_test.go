package incremental_test

import (
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/vmsim/vmsim/incremental"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/traces"
)

// TestCheckpointWritesInOrder: a checkpoint writes the pages written since the last one in
// address order, each once, then seals; the second incremental (merge every 2) is
// followed by a merge; an empty checkpoint only seals.
func TestCheckpointWritesInOrder(t *testing.T) {
	ctrl := gomock.NewController(t)
	dev := NewMockStorage(ctrl)
	dev.EXPECT().Tick(gomock.Any()).AnyTimes()
	gomock.InOrder(
		dev.EXPECT().Send(scheme.Domain(0), incremental.Page{ASID: 0, N: 1}, nil),
		dev.EXPECT().Send(scheme.Domain(0), incremental.Page{ASID: 0, N: 2}, nil),
		dev.EXPECT().Send(scheme.Domain(0), incremental.Page{ASID: 3, N: 0}, nil),
		dev.EXPECT().Commit(scheme.Domain(0)),
		dev.EXPECT().Commit(scheme.Domain(0)),
		dev.EXPECT().Merge(scheme.Domain(0)),
		dev.EXPECT().Send(scheme.Domain(0), incremental.Page{ASID: 0, N: 2}, nil),
		dev.EXPECT().Commit(scheme.Domain(0)),
	)
	s, err := incremental.New(scheme.Machine{PageSize: 4096}, incremental.Settings{MergeEvery: 2}, dev)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []traces.Record{
		{Addr: 0x2000, Size: 4, Kind: traces.Write},
		{Addr: 0x1ffc, Size: 8, Kind: traces.Modify},
		{Addr: 0x10, Size: 4, ASID: 3, Kind: traces.Write},
		{Addr: 0x9000, Size: 4, Kind: traces.Read},
	} {
		schemetest.Perform(s, int64(i+1), a)
	}
	s.Checkpoint(0)
	s.Checkpoint(0)
	schemetest.Perform(s, 5, traces.Record{Addr: 0x2100, Size: 4, Kind: traces.Write})
	s.Checkpoint(0)
}
