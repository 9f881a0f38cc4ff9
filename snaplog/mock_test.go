package snaplog_test

import (
	"fmt"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/snaplog"
	"github.com/vmsim/vmsim/traces"
)

func counters(s *snaplog.Snaplog) (*scheme.Tally, map[string]int64) {
	c := snaplog.Info().NewTally()
	s.Counters(c)
	m := map[string]int64{}
	own := c.OwnValues()
	for i, d := range snaplog.Info().OwnDefs() {
		m[d.Key] = own[i]
	}
	return c, m
}

// TestLinkOrder: each input is shipped when made (outputs are not); a snapshot sends the
// pages written since the last one in address order, each once, then commits; a rollback
// asks the backup for the log a replay needs (no pages fetched without verification), and
// the replayed write traps and is sent again.
func TestLinkOrder(t *testing.T) {
	ctrl := gomock.NewController(t)
	link := NewMockLink(ctrl)
	gomock.InOrder(
		link.EXPECT().Ship(scheme.Domain(0), snaplog.Entry{ASID: 0, Channel: 2, Size: 100, N: 0, Bytes: 116}),
		link.EXPECT().Send(scheme.Domain(0), snaplog.Page{ASID: 0, N: 1}, nil),
		link.EXPECT().Send(scheme.Domain(0), snaplog.Page{ASID: 0, N: 2}, nil),
		link.EXPECT().Send(scheme.Domain(0), snaplog.Page{ASID: 3, N: 0}, nil),
		link.EXPECT().Commit(scheme.Domain(0)),
		link.EXPECT().Ship(scheme.Domain(0), snaplog.Entry{ASID: 3, Channel: 1, Size: 10, N: 3, Bytes: 26}),
		link.EXPECT().Replay(scheme.Domain(0), int64(5)).Return(int64(1), int64(26)),
		link.EXPECT().Send(scheme.Domain(0), snaplog.Page{ASID: 0, N: 5}, nil),
		link.EXPECT().Commit(scheme.Domain(0)),
	)
	s, err := snaplog.New(scheme.Machine{PageSize: 4096}, snaplog.Settings{Header: 16}, link)
	if err != nil {
		t.Fatal(err)
	}
	s.IO(traces.Record{Kind: traces.Input, Addr: 2, Size: 100}, 0)
	schemetest.Perform(s, 1, traces.Record{Addr: 0x2000, Size: 4, Kind: traces.Write})
	schemetest.Perform(s, 2, traces.Record{Addr: 0x1ffc, Size: 8, Kind: traces.Modify})
	s.IO(traces.Record{Kind: traces.Output, Addr: 1, Size: 50}, 2)
	schemetest.Perform(s, 3, traces.Record{Addr: 0x10, Size: 4, ASID: 3, Kind: traces.Write})
	s.Checkpoint(0)
	s.IO(traces.Record{Kind: traces.Input, ASID: 3, Addr: 1, Size: 10}, 3)
	schemetest.Perform(s, 4, traces.Record{Addr: 0x5000, Size: 4, Kind: traces.Write})
	s.Rollback(0)
	schemetest.Perform(s, 4, traces.Record{Addr: 0x5000, Size: 4, Kind: traces.Write}) // the replay
	s.Checkpoint(0)
	c, own := counters(s)
	got := fmt.Sprint(c.Traps, c.BytesToBackup, c.BytesLogged, c.RecoveryBytes, own["snapshots"], own["recoveries"],
		own["recovery_replay_accesses"], own["recovery_log_bytes"], own["recovery_snapshot_bytes"], own["replay_window_peak"])
	if want := fmt.Sprint(5, 4*4096+142, 142, 4096+26, 2, 1, 1, 26, 4096, 3); got != want {
		t.Fatalf("counters %s, want %s", got, want)
	}
}

// TestLinkCrash: a crash of volatile memory fetches every page the backup holds, in
// address order, then reads back every domain's log in domain order.
func TestLinkCrash(t *testing.T) {
	ctrl := gomock.NewController(t)
	link := NewMockLink(ctrl)
	data := gomock.Any()
	gomock.InOrder(
		link.EXPECT().Send(scheme.Domain(0), snaplog.Page{ASID: 1, N: 0}, data),
		link.EXPECT().Commit(scheme.Domain(0)),
		link.EXPECT().Send(scheme.Domain(1), snaplog.Page{ASID: 0, N: 3}, data),
		link.EXPECT().Commit(scheme.Domain(1)),
		link.EXPECT().Ship(scheme.Domain(1), snaplog.Entry{ASID: 0, Channel: 7, Size: 8, N: 2, Bytes: 8}),
		link.EXPECT().Fetch(scheme.Domain(1), snaplog.Page{ASID: 0, N: 3}, data),
		link.EXPECT().Fetch(scheme.Domain(0), snaplog.Page{ASID: 1, N: 0}, data),
		link.EXPECT().Replay(scheme.Domain(0), int64(3)).Return(int64(0), int64(0)),
		link.EXPECT().Replay(scheme.Domain(1), int64(3)).Return(int64(0), int64(0)),
	)
	s, err := snaplog.New(scheme.Machine{PageSize: 4096, VerifyBlock: 1024, PerASID: true}, snaplog.Settings{}, link)
	if err != nil {
		t.Fatal(err)
	}
	schemetest.Perform(s, 1, traces.Record{Addr: 0x10, Size: 4, ASID: 1, Kind: traces.Write})
	schemetest.Perform(s, 2, traces.Record{Addr: 0x3000, Size: 4, ASID: 0, Kind: traces.Write})
	s.Checkpoint(0)
	s.Checkpoint(1)
	s.IO(traces.Record{Kind: traces.Input, ASID: 0, Addr: 7, Size: 8}, 2)
	s.Crash()
	if _, own := counters(s); own["recovery_snapshot_bytes"] != 2*4096 || own["recoveries"] != 1 {
		t.Fatalf("crash restored %d bytes in %d recoveries", own["recovery_snapshot_bytes"], own["recoveries"])
	}
}

// TestBackupReplay: MemBackup replays the entries of a domain's log made before the
// failing access, and a commit truncates the log.
func TestBackupReplay(t *testing.T) {
	b := snaplog.NewMemBackup(4096, 0)
	for _, e := range []snaplog.Entry{{N: 3, Bytes: 10}, {N: 5, Bytes: 20}, {N: 5, Bytes: 40}} {
		b.Ship(0, e)
	}
	b.Ship(1, snaplog.Entry{N: 4, Bytes: 1})
	for _, tt := range []struct {
		name          string
		d             scheme.Domain
		before        int64
		entries, byts int64
	}{
		{"after the last entries", 0, 6, 3, 70},
		{"at the last entries", 0, 5, 1, 10},
		{"other domain", 1, 6, 1, 1},
		{"unknown domain", 2, 6, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if e, by := b.Replay(tt.d, tt.before); e != tt.entries || by != tt.byts {
				t.Fatalf("Replay(%d, %d) = %d, %d; want %d, %d", tt.d, tt.before, e, by, tt.entries, tt.byts)
			}
		})
	}
	b.Commit(0)
	if e, by := b.Replay(0, 9); e != 0 || by != 0 {
		t.Fatalf("after a commit, Replay = %d, %d", e, by)
	}
}
