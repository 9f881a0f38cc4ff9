package cost

import (
	"reflect"

	"github.com/vmsim/vmsim/sim"
)

// Breakdown is a run's modeled time, split by what it was spent on (nanoseconds). Total
// is the sum of every term but OutputWait, which is reported beside it.
type Breakdown struct {
	// The program's own time.
	Accesses    float64 `json:"accesses_ns"`     // refs × access_ns
	CacheMisses float64 `json:"cache_misses_ns"` // cache_misses × cache_miss_ns
	Walks       float64 `json:"page_walks_ns"`   // tlb_misses × page_walk_ns
	Faults      float64 `json:"faults_ns"`       // page_faults × fault_ns
	DiskReads   float64 `json:"disk_reads_ns"`   // disk_reads × disk_read_ns
	// DiskWrites is the paging disk's writes: (disk_writes − checkpoint_disk_writes) ×
	// disk_write_ns.
	DiskWrites float64 `json:"disk_writes_ns"`

	// Checkpoints: traps, and bytes moved at their channel's bandwidth.
	Traps     float64 `json:"traps_ns"`     // (traps + remaps) × trap_ns
	Reprotect float64 `json:"reprotect_ns"` // traps × mprotect_ns
	// Copies is (bytes_copied − background_bytes) / copy_bytes_per_sec: the copies made
	// while the program waits (at a checkpoint, or in a trap's handler).
	Copies float64 `json:"copies_ns"`
	// Background is the background copies beyond the memory bandwidth the program leaves
	// free: max(0, background_bytes − free) / copy_bytes_per_sec, where free is
	// copy_bytes_per_sec × (accesses_ns + cache_misses_ns + page_walks_ns) less the
	// program's own memory traffic, (cache_misses + cache_writebacks −
	// cache_flush_lines) × cache line (0 without a cache model).
	Background float64 `json:"background_ns"`
	Log        float64 `json:"log_ns"` // bytes_logged / log_bytes_per_sec
	// Storage is (bytes_to_storage − (checkpoint_disk_writes + pt_pages_written +
	// commit_writes) × page_size) / storage_bytes_per_sec: checkpoint data streamed to
	// storage, less the page writes charged per write below.
	Storage          float64 `json:"storage_ns"`
	Backup           float64 `json:"backup_ns"`            // bytes_to_backup / backup_bytes_per_sec
	CheckpointWrites float64 `json:"checkpoint_writes_ns"` // checkpoint_disk_writes × disk_write_ns
	PTPages          float64 `json:"pt_pages_ns"`          // pt_pages_written × pt_page_write_ns
	Commits          float64 `json:"commits_ns"`           // commit_writes × commit_ns
	Sweeps           float64 `json:"sweeps_ns"`            // wrap_sweeps × pages_touched × sweep_page_ns
	Flushes          float64 `json:"cache_flush_ns"`       // cache_flush_lines × cache_flush_line_ns

	// Recovery.
	Replays  float64 `json:"replays_ns"`  // replayed_refs × access_ns
	Recovery float64 `json:"recovery_ns"` // recovery_bytes / recovery_bytes_per_sec
	// Restarts is failures × restart_ns: rollbacks, and crashes with volatile memory.
	Restarts float64 `json:"restarts_ns"`

	Total float64 `json:"total_ns"` // the sum of the terms above

	// OutputWait is the output commit's latency, beside the total: io_output_delay (the
	// accesses outputs waited for their checkpoint) × total_ns / (refs + replayed_refs),
	// the modeled time of an access.
	OutputWait float64 `json:"output_wait_ns"`
}

// Time returns the modeled time of a run with counters s and configuration c (its page
// size, cache line and memory are used).
func (m Model) Time(s sim.Stats, c sim.Config) Breakdown {
	failures := s.Rollbacks
	if c.Memory == sim.MemoryVolatile {
		failures += s.Crashes
	}
	t := Breakdown{
		Accesses:    float64(s.Refs) * m.AccessNs,
		CacheMisses: float64(s.CacheMisses) * m.CacheMissNs,
		Walks:       float64(s.TLBMisses) * m.PageWalkNs,
		Faults:      float64(s.PageFaults) * m.FaultNs,
		DiskReads:   float64(s.DiskReads) * m.DiskReadNs,
		DiskWrites:  float64(s.DiskWrites-s.CheckpointDiskWrites) * m.DiskWriteNs,

		Traps:            float64(s.Traps+s.Remaps) * m.TrapNs,
		Reprotect:        float64(s.Traps) * m.MprotectNs,
		Copies:           perSec(s.BytesCopied-s.BackgroundBytes, m.CopyBytesPerSec),
		Log:              perSec(s.BytesLogged, m.LogBytesPerSec),
		Backup:           perSec(s.BytesToBackup, m.BackupBytesPerSec),
		CheckpointWrites: float64(s.CheckpointDiskWrites) * m.DiskWriteNs,
		PTPages:          float64(s.PTPagesWritten) * m.PTPageWriteNs,
		Commits:          float64(s.CommitWrites) * m.CommitNs,
		Sweeps:           float64(s.WrapSweeps) * float64(s.PagesTouched) * m.SweepPageNs,
		Flushes:          float64(s.CacheFlushLines) * m.CacheFlushLineNs,

		Replays:  float64(s.ReplayedRefs) * m.AccessNs,
		Recovery: perSec(s.RecoveryBytes, m.RecoveryBytesPerSec),
		Restarts: float64(failures) * m.RestartNs,
	}
	paged := (s.CheckpointDiskWrites + s.PTPagesWritten + s.CommitWrites) * int64(c.PageSize)
	t.Storage = perSec(max(0, s.BytesToStorage-paged), m.StorageBytesPerSec)
	if s.BackgroundBytes > 0 {
		var traffic float64
		if c.CacheSize > 0 {
			traffic = float64(s.CacheMisses+s.CacheWritebacks-s.CacheFlushLines) * float64(c.CacheLine)
		}
		free := max(0, m.CopyBytesPerSec*(t.Accesses+t.CacheMisses+t.Walks)/1e9-traffic)
		t.Background = max(0, float64(s.BackgroundBytes)-free) / m.CopyBytesPerSec * 1e9
	}
	t.total()
	if n := s.Refs + s.ReplayedRefs; n > 0 {
		t.OutputWait = float64(s.IOOutputDelay) * t.Total / float64(n)
	}
	return t
}

// total sets Total to the sum of the terms.
func (t *Breakdown) total() {
	v := reflect.ValueOf(t).Elem()
	var sum float64
	for i := range v.NumField() {
		switch v.Type().Field(i).Name {
		case "Total", "OutputWait":
			continue
		}
		sum += v.Field(i).Float()
	}
	t.Total = sum
}

// perSec returns the nanoseconds that bytes take at bw bytes per second; no bytes take no
// time whatever the bandwidth.
func perSec(bytes int64, bw float64) float64 {
	if bytes <= 0 {
		return 0
	}
	return float64(bytes) / bw * 1e9
}

// Charge returns run's time as the overhead rule charges it against base, the baseline's:
// every term at least the baseline's. The baseline (none, without checkpoints or
// failures) has only the program's own terms, so a scheme is charged the first-touch
// faults, paging I/O, cache misses and page walks the baseline takes when it counts fewer
// (it does not model them, or pages differently by accident); the checkpoints' and
// recovery's terms are the run's. OutputWait is scaled with the total.
func Charge(run, base Breakdown) Breakdown {
	out := run
	v, b := reflect.ValueOf(&out).Elem(), reflect.ValueOf(base)
	for i := range v.NumField() {
		switch v.Type().Field(i).Name {
		case "Total", "OutputWait":
			continue
		}
		v.Field(i).SetFloat(max(v.Field(i).Float(), b.Field(i).Float()))
	}
	out.total()
	if run.Total > 0 {
		out.OutputWait = run.OutputWait * out.Total / run.Total
	}
	return out
}

// Comparison is a run's modeled time against its baseline's, by the overhead rule.
type Comparison struct {
	Run      Breakdown // the run's time as charged (Charge)
	Baseline Breakdown // the baseline's time
	// Overhead is Run.Total / Baseline.Total − 1: 0.05 means 5% slower; 0 when the
	// baseline's total is 0. Never negative.
	Overhead float64
}

// Compare prices a run (counters s) and its baseline (counters base, a run of none under
// sweep.BaselineConfig of the run's configuration c) under m, by the overhead rule
// (package documentation).
func Compare(m Model, s, base sim.Stats, c sim.Config) Comparison {
	b := m.Time(base, c)
	r := Charge(m.Time(s, c), b)
	cmp := Comparison{Run: r, Baseline: b}
	if b.Total > 0 {
		cmp.Overhead = r.Total/b.Total - 1 // r.Total >= b.Total: each term is, and rounding is monotone
	}
	return cmp
}

// Overhead is the overhead of a run (counters s, configuration c) over its baseline
// (counters base: scheme none on the same trace, machine, paging and cache, without
// checkpoints or failures) under m: THE overhead rule (package documentation). It is
// never negative; a run whose counters are the baseline's has 0.
func Overhead(m Model, s, base sim.Stats, c sim.Config) float64 {
	return Compare(m, s, base, c).Overhead
}
