package cost

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/sim"
)

// unit is a model of round numbers, each term's price told apart.
func unit() Model {
	return Model{AccessNs: 1, CacheMissNs: 100, PageWalkNs: 30, FaultNs: 2000, TrapNs: 500, MprotectNs: 300,
		CopyBytesPerSec: 1e9, DiskReadNs: 70_000, DiskWriteNs: 150_000, PTPageWriteNs: 160_000, CommitNs: 170_000,
		SweepPageNs: 2, LogBytesPerSec: 2e9, StorageBytesPerSec: 4e9, BackupBytesPerSec: 5e8,
		RecoveryBytesPerSec: 8e9, CacheFlushLineNs: 10, RestartNs: 7000}
}

// TestTerms prices hand-built counter sets: every term of the breakdown, one by one.
func TestTerms(t *testing.T) {
	c := sim.DefaultConfig() // 4 KiB pages, nonvolatile memory, no cache
	cached := c
	cached.CacheSize, cached.CacheLine = 32<<10, 64
	volatile := c
	volatile.Memory = "volatile"
	for _, tt := range []struct {
		name string
		s    sim.Stats
		c    sim.Config
		term string  // the Breakdown field
		want float64 // ns
	}{
		{"accesses", stats("Refs", 1000), c, "Accesses", 1000},
		{"cache misses", stats("CacheMisses", 7), c, "CacheMisses", 700},
		{"page walks", stats("TLBMisses", 3), c, "Walks", 90},
		{"page faults", stats("PageFaults", 4), c, "Faults", 8000},
		{"disk reads", stats("DiskReads", 2), c, "DiskReads", 140_000},
		{"paging writes: not the checkpoint's", stats("DiskWrites", 5, "CheckpointDiskWrites", 2), c, "DiskWrites", 3 * 150_000},
		{"traps and remaps", stats("Traps", 3, "Remaps", 1), c, "Traps", 2000},
		{"re-protection of every trapped page", stats("Traps", 3, "Remaps", 1), c, "Reprotect", 900},
		{"copies while stopped", stats("BytesCopied", 4096), c, "Copies", 4096},
		{"copies: background bytes left out", stats("BytesCopied", 4096, "BackgroundBytes", 1096), c, "Copies", 3000},
		{"log", stats("BytesLogged", 2000), c, "Log", 1000},
		{"storage, less the page writes", stats("BytesToStorage", 5*4096, "DiskWrites", 1, "CheckpointDiskWrites", 1, "PTPagesWritten", 1, "CommitWrites", 1), c, "Storage", 2 * 4096 / 4.0},
		{"backup link", stats("BytesToBackup", 1000), c, "Backup", 2000},
		{"checkpoint page writes", stats("DiskWrites", 5, "CheckpointDiskWrites", 2), c, "CheckpointWrites", 2 * 150_000},
		{"page-table pages", stats("PTPagesWritten", 2), c, "PTPages", 320_000},
		{"commit records", stats("CommitWrites", 2), c, "Commits", 340_000},
		{"wrap sweeps", stats("WrapSweeps", 3, "PagesTouched", 10), c, "Sweeps", 60},
		{"cache flushes", stats("CacheFlushLines", 5), c, "Flushes", 50},
		{"replayed accesses", stats("ReplayedRefs", 40), c, "Replays", 40},
		{"recovery bytes", stats("RecoveryBytes", 8000), c, "Recovery", 1000},
		{"restarts: rollbacks", stats("Rollbacks", 2, "Crashes", 1), c, "Restarts", 14_000},
		{"restarts: crashes of volatile memory", stats("Rollbacks", 2, "Crashes", 1), volatile, "Restarts", 21_000},
		// 1000 accesses leave 1000 ns × 1 B/ns = 1000 bytes of bandwidth free.
		{"background within the free bandwidth", stats("Refs", 1000, "BytesCopied", 900, "BackgroundBytes", 900), c, "Background", 0},
		{"background beyond it", stats("Refs", 1000, "BytesCopied", 1500, "BackgroundBytes", 1500), c, "Background", 500},
		// With a cache: 1000 + 2 misses × 100 ns = 1200 bytes, less the program's own
		// traffic, (2 misses + 3 write-backs − 1 flushed) × 64 = 256: 944 free.
		{"background less the program's traffic", stats("Refs", 1000, "CacheMisses", 2, "CacheWritebacks", 3, "CacheFlushLines", 1, "BytesCopied", 1000, "BackgroundBytes", 1000), cached, "Background", 56},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := unit().Time(tt.s, tt.c)
			v := reflect.ValueOf(b)
			var sum float64
			for i := range v.NumField() {
				f := v.Type().Field(i).Name
				if f == "Total" || f == "OutputWait" {
					continue
				}
				if v.Field(i).Float() < 0 {
					t.Errorf("%s = %v, below 0", f, v.Field(i).Float())
				}
				sum += v.Field(i).Float()
			}
			if got := v.FieldByName(tt.term).Float(); math.Abs(got-tt.want) > 1e-9*math.Max(1, tt.want) {
				t.Errorf("%s = %v, want %v", tt.term, got, tt.want)
			}
			if b.Total != sum {
				t.Errorf("total %v, want the sum of the terms %v", b.Total, sum)
			}
		})
	}
}

// TestOutputWait: the output commit's wait is reported beside the total, at the modeled
// time of an access.
func TestOutputWait(t *testing.T) {
	b := unit().Time(stats("Refs", 100, "IOOutputDelay", 30, "BytesCopied", 100), sim.DefaultConfig())
	if b.Total != 200 || b.OutputWait != 30*200/100.0 {
		t.Errorf("total %v, output wait %v; want 200 and 60", b.Total, b.OutputWait)
	}
}

// TestRule: the overhead rule charges each term at least the baseline's, so the paging
// terms are the same on both sides for a scheme that does not model them, and a run like
// its baseline has overhead 0.
func TestRule(t *testing.T) {
	c := sim.DefaultConfig()
	base := stats("Refs", 1000, "PageFaults", 10, "DiskReads", 10, "CacheMisses", 50)
	for _, tt := range []struct {
		name string
		run  sim.Stats
		want float64
	}{
		{"the baseline itself", base, 0},
		{"none with checkpoints: the same counts", func() sim.Stats { s := base; s.Checkpoints = 9; return s }(), 0},
		// A memory-level scheme: no paging counted, a copy of 1000 bytes (1000 ns).
		{"a scheme that models no paging", stats("Refs", 1000, "CacheMisses", 50, "BytesCopied", 1000), 1000},
		// A scheme that pages less by accident: still the baseline's paging.
		{"fewer faults than the baseline", stats("Refs", 1000, "PageFaults", 5, "DiskReads", 5, "CacheMisses", 50, "Traps", 1), 800},
		{"more misses: charged", stats("Refs", 1000, "PageFaults", 10, "DiskReads", 10, "CacheMisses", 60), 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := unit()
			cmp := Compare(m, tt.run, base, c)
			bt := m.Time(base, c)
			if cmp.Baseline != bt {
				t.Errorf("baseline %+v, want %+v", cmp.Baseline, bt)
			}
			if cmp.Run.Faults != bt.Faults || cmp.Run.DiskReads != bt.DiskReads {
				t.Errorf("paging terms %v, %v; want the baseline's %v, %v", cmp.Run.Faults, cmp.Run.DiskReads, bt.Faults, bt.DiskReads)
			}
			if got := cmp.Run.Total - bt.Total; math.Abs(got-tt.want) > 1e-6 {
				t.Errorf("extra time %v ns, want %v", got, tt.want)
			}
			if cmp.Overhead != Overhead(m, tt.run, base, c) || cmp.Overhead != cmp.Run.Total/bt.Total-1 {
				t.Errorf("overhead %v, Overhead %v", cmp.Overhead, Overhead(m, tt.run, base, c))
			}
			if tt.want == 0 && cmp.Overhead != 0 {
				t.Errorf("overhead %v, want exactly 0", cmp.Overhead)
			}
		})
	}
	if o := Overhead(unit(), stats("Refs", 5), sim.Stats{}, c); o != 0 {
		t.Errorf("overhead over an empty baseline %v, want 0", o)
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Error(err)
	}
	for _, tt := range []struct {
		name, key string
		v         float64
	}{
		{"no bandwidth", "copy_bytes_per_sec", 0},
		{"negative time", "access_ns", -1},
		{"NaN", "trap_ns", math.NaN()},
		{"infinite bandwidth", "backup_bytes_per_sec", math.Inf(1)},
		{"bandwidth so low the sums overflow", "copy_bytes_per_sec", 1e-300},
		{"bandwidth below a byte a second", "storage_bytes_per_sec", 0.5},
		{"time so long the sums overflow", "trap_ns", 1e308},
		{"time above the bound", "fault_ns", MaxTimeNs * 2},
		{"accesses that take no time", "access_ns", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := Default()
			if err := m.Set(tt.key, tt.v); err != nil {
				t.Fatal(err)
			}
			if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %v, want one naming %s", err, tt.key)
			}
		})
	}
	// At the bounds: valid, and the time of a huge run stays finite.
	m := Default()
	m.TrapNs, m.CopyBytesPerSec = MaxTimeNs, MinBytesPerSec
	if err := m.Validate(); err != nil {
		t.Errorf("at the bounds: %v", err)
	}
	huge := sim.Stats{Refs: math.MaxInt64}
	huge.PageFaults, huge.Traps, huge.BytesCopied, huge.BytesToStorage = math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64
	if b := m.Time(huge, sim.DefaultConfig()); math.IsInf(b.Total, 0) || math.IsNaN(b.Total) {
		t.Errorf("a run of 2^63 of everything at the bounds takes %v ns", b.Total)
	}
	m = Model{}
	if err := m.Set("trap_us", 1); err == nil || !strings.Contains(err.Error(), `"trap_us"`) {
		t.Errorf("unknown key: %v", err)
	}
}

func TestRead(t *testing.T) {
	m, err := Read(strings.NewReader(`{"trap_ns": 69000, "mprotect_ns": 72000}`), "c.json", Default())
	if err != nil || m.TrapNs != 69000 || m.MprotectNs != 72000 || m.AccessNs != Default().AccessNs {
		t.Errorf("%+v, %v", m, err)
	}
	for _, tt := range []struct{ name, in, want string }{
		{"unknown key", `{"trap_ns": 1, "trap_us": 2}`, `c.json: unknown cost key "trap_us"`},
		{"not a number", `{"trap_ns": "fast"}`, `c.json: key "trap_ns": want a number`},
		{"not an object", `[1]`, "c.json: want a JSON object"},
		{"invalid value", `{"copy_bytes_per_sec": 0}`, "c.json: cost copy_bytes_per_sec"},
		{"a string for a number", `{"trap_ns": "abc"}`, `c.json: key "trap_ns": want a number, not "abc"`},
		{"null for a number", `{"trap_ns": null}`, `c.json: key "trap_ns": want a number, not null`},
		{"null", `null`, "c.json: want a JSON object of cost keys and numbers (null)"},
		{"an array", `[1, 2]`, "c.json: want a JSON object of cost keys and numbers (not an object)"},
		{"broken, line and column", "{\"trap_ns\": 5,\n x}", "c.json:2:2: not JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in), "c.json", Default())
			if err != nil && strings.Contains(err.Error(), "Go value") {
				t.Errorf("error %v: a Go decoder's words", err)
			}
			if _, err := Read(strings.NewReader(tt.in), "c.json", Default()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// stats returns the Stats with the named counters (fields of Stats or of the structs it
// embeds) set: name, value, name, value, ...
func stats(kv ...any) sim.Stats {
	var s sim.Stats
	v := reflect.ValueOf(&s).Elem()
	for i := 0; i < len(kv); i += 2 {
		f := v.FieldByName(kv[i].(string))
		if !f.IsValid() {
			panic("no counter " + kv[i].(string))
		}
		f.SetInt(int64(toInt(kv[i+1])))
	}
	return s
}

func toInt(x any) int64 {
	switch x := x.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	panic("not an integer")
}
