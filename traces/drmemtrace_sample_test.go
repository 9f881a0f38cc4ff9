package traces

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// drSample is DynamoRIO's public threadsig sample trace, in the shared data beside the
// repository (see its README.md there); tests that need it skip when it is absent.
const drSample = "../../shared/traces/drmemtrace/threadsig/drmemtrace.threadsig.2765542.9400.dir"

func needDrSample(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(drSample, "trace")); err != nil {
		t.Skipf("the drmemtrace sample is absent (%v)", err)
	}
	return drSample
}

// TestDrmemtraceSample reads the sample and checks DynamoRIO's basic_counts totals (its
// threadsig/README.txt): 21 threads, 15,219,806 loads, 17,411,738 stores, 15,885,247
// fetched instructions; the interleaving is checked against serial_schedule.bin.gz as
// it is read.
func TestDrmemtraceSample(t *testing.T) {
	dir := needDrSample(t)
	d, err := OpenDrmemtrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := Summarize(d, SummaryOptions{PageSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Counts()
	info := d.Info()
	for _, tt := range []struct {
		name      string
		got, want int64
	}{
		{"threads", c.Threads, 21},
		{"thread files", int64(info.Threads), 21},
		{"threads with accesses", int64(len(s.Threads)), 21},
		{"loads", c.Loads, 15_219_806},
		{"stores", c.Stores, 17_411_738},
		{"fetched instructions", c.Fetches, 15_885_247},
		{"non-fetched instructions", c.NonFetched, 12_600_066},
		{"prefetches", c.Prefetches, 0},
		{"scheduling markers", c.SchedMarks, 22_144},
		{"transfer markers", c.XferMarks, 144},
		{"system call and other markers", c.Syscalls + c.OtherMarks, 333},
		{"reads", s.Reads, 15_219_806},
		{"writes", s.Writes, 17_411_738},
		{"fetches", s.Fetches, 15_885_247},
		{"accesses", s.Accesses, 15_219_806 + 17_411_738 + 15_885_247},
		{"address spaces", int64(s.AddressSpaces), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
			}
		})
	}
	t.Logf("info %+v counts %+v", info, c)
	for _, th := range s.Threads {
		if th.ASID != 2765542 {
			t.Errorf("thread %d in address space %d, want the process id 2765542", th.Thread, th.ASID)
		}
		if th.Thread == 2765543 && th.Fetches != 790_361 {
			t.Errorf("thread 2765543 fetched %d instructions, basic_counts says 790,361", th.Fetches)
		}
	}
	if info.Schedule == "" || info.PageSize != 4096 || info.Version != 5 {
		t.Errorf("info %+v", info)
	}
	// The interleaving followed every entry of the serial schedule, one a segment.
	if d.sched == nil || d.sched.entry != 11_072 || d.sched.aheadOK {
		t.Errorf("schedule: %d entries followed, want all 11,072", d.sched.entry)
	}
}

// TestDrmemtraceSampleCPUs reads the sample's cpus: every record ran on a known cpu,
// one of those its thread's markers name; 17 of the 21 threads ran on one cpu, and the
// cpus are numbered 0 to 11.
func TestDrmemtraceSampleCPUs(t *testing.T) {
	dir := needDrSample(t)
	d, err := OpenDrmemtrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	seen := map[TID]map[int]bool{}
	buf := make([]Record, 4096)
	for {
		n, err := d.Read(buf)
		if n > 0 {
			c := d.CPU()
			if c < 0 {
				t.Fatalf("records %v on cpu %d", buf[0], c)
			}
			for _, r := range buf[:n] {
				if seen[r.Thread] == nil {
					seen[r.Thread] = map[int]bool{}
				}
				seen[r.Thread][c] = true
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	one, all := 0, map[int]bool{}
	for tid, cpus := range d.ThreadCPUs() {
		if len(cpus) == 1 {
			one++
		}
		for _, c := range cpus {
			all[c] = true
		}
		for c := range seen[tid] {
			if !slices.Contains(cpus, c) {
				t.Errorf("thread %d: a record on cpu %d, not among its markers' %v", tid, c, cpus)
			}
		}
	}
	if one != 17 || len(all) != 12 || !all[0] || !all[11] {
		t.Errorf("%d threads on one cpu, cpus %v", one, all)
	}
}
