package cli

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// drRec encodes a drmemtrace record: type, size, address (traces/DRMEMTRACE.md).
func drRec(typ, size uint16, addr uint64) []byte {
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, size)
	return binary.LittleEndian.AppendUint64(b, addr)
}

// drThreadFile is a thread of process 40: header (version 5), thread and process ids,
// page size, a timestamp and cpu, the body, the thread's exit and footer.
func drThreadFile(tid, ts uint64, body ...[]byte) []byte {
	b := bytes.Join([][]byte{drRec(25, 0, 5), drRec(22, 4, tid), drRec(24, 4, 40), drRec(28, 18, 4096), drRec(28, 2, ts), drRec(28, 3, 1)}, nil)
	b = append(b, bytes.Join(body, nil)...)
	return append(b, bytes.Join([][]byte{drRec(23, 4, tid), drRec(26, 0, 0)}, nil)...)
}

// drDir writes a drmemtrace directory of two threads, 41 (a fetch and a write at
// 0x1000) and 42 (a read at 0x1000 and at 0x2000), 42 first in time, as zip files.
func drDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "drmemtrace.app.40.1234.dir", "trace")
	os.MkdirAll(dir, 0o755)
	for name, data := range map[string][]byte{
		"drmemtrace.app.41.0001.trace.zip": drThreadFile(41, 200, drRec(10, 4, 0x400000), drRec(1, 8, 0x1000)),
		"drmemtrace.app.42.0002.trace.zip": drThreadFile(42, 100, drRec(0, 8, 0x1000), drRec(0, 4, 0x2000)),
	} {
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, _ := z.Create("chunk.0000")
		w.Write(data)
		z.Close()
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Dir(dir)
}

func TestTraceThreads(t *testing.T) {
	dir := drDir(t)
	code, out, stderr := runCLI("trace", "head", dir)
	if code != 0 || !strings.Contains(out, "format drmemtrace, compression zip") || !strings.Contains(out, "2 threads of processes [40], page size 4096") ||
		!strings.Contains(out, "size   thread") || !strings.Contains(out, "         1     40 read                   0x1000      8       42") {
		t.Errorf("head: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI("trace", "stats", "--json", dir)
	var s struct {
		traces.Summary
		Drmemtrace *traces.DrmemtraceCounts `json:"drmemtrace"`
	}
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil {
		t.Fatalf("stats: exit %d, %v\n%s", code, err, out)
	}
	want := []traces.ThreadSummary{
		{ASID: 40, Thread: 41, Accesses: 2, Writes: 1, Fetches: 1, PagesTouched: 2, PagesWritten: 1},
		{ASID: 40, Thread: 42, Accesses: 2, Reads: 2, PagesTouched: 2},
	}
	if len(s.Threads) != 2 || s.Threads[0] != want[0] || s.Threads[1] != want[1] || s.Drmemtrace == nil || s.Drmemtrace.Threads != 2 || s.PagesTouched != 3 {
		t.Errorf("stats: %+v %+v", s.Summary, s.Drmemtrace)
	}
	code, out, _ = runCLI("trace", "stats", dir)
	if code != 0 || !strings.Contains(out, "per thread") || !strings.Contains(out, "PAGES TOUCHED") || !strings.Contains(out, "fetched instructions") {
		t.Errorf("stats table:\n%s", out)
	}

	// To vmt, the thread ids stay: version 2, the same records, read back by vmt.
	work := t.TempDir()
	vmt := filepath.Join(work, "t.vmt")
	if code, _, stderr := runCLI("trace", "convert", dir, vmt); code != 0 {
		t.Fatal(stderr)
	}
	f, err := traces.Open(vmt, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := traces.ReadAll(f)
	f.Close()
	src, _ := traces.Open(dir, traces.Options{})
	orig, _ := traces.ReadAll(src)
	src.Close()
	if err != nil || len(got) != 4 || !slicesEqual(got, orig) || got[0].Thread != 42 {
		t.Errorf("vmt: %v, %v; want %v", got, err, orig)
	}
	if code, out, _ := runCLI("trace", "head", vmt); code != 0 || !strings.Contains(out, "# vmt version 2") || !strings.Contains(out, "      41\n") {
		t.Errorf("head of the vmt:\n%s", out)
	}
	// vmt to vmt stays version 2.
	again := filepath.Join(work, "again.vmt")
	if code, _, stderr := runCLI("trace", "convert", vmt, again); code != 0 {
		t.Fatal(stderr)
	}
	if code, out, _ := runCLI("trace", "head", again); code != 0 || !strings.Contains(out, "# vmt version 2") {
		t.Errorf("vmt to vmt:\n%s", out)
	}
	// Text formats cannot carry them: refused, or dropped and said with --lossy.
	rw := filepath.Join(work, "t.rw")
	if code, _, stderr := runCLI("trace", "convert", "--to", "rw", dir, rw); code != 2 || !strings.Contains(stderr, "rw cannot carry address space ids (access 1 is in address space 40)") || !strings.Contains(stderr, "give --lossy") {
		t.Errorf("to rw: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI("trace", "convert", "--to", "xdin", "--lossy", dir, rw); code != 0 || !strings.Contains(stderr, "4 accesses' thread ids dropped") {
		t.Errorf("to xdin, lossy: exit %d, %s", code, stderr)
	}
	// A trace without threads is written as version 1, as before.
	plain := writeFile(t, "p.rw", []byte("1000 R\n"))
	v1 := filepath.Join(work, "p.vmt")
	if code, _, stderr := runCLI("trace", "convert", plain, v1); code != 0 {
		t.Fatal(stderr)
	}
	if b, _ := os.ReadFile(v1); len(b) < 10 || binary.LittleEndian.Uint16(b[8:]) != 1 {
		t.Errorf("a trace without threads written as version %v", b[8:10])
	}
}

func slicesEqual(a, b []traces.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTraceDrmemtraceBadInput checks that bad drmemtrace input exits 2 with nothing on
// standard output and an error naming the file and the offset.
func TestTraceDrmemtraceBadInput(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(t *testing.T, dir string)
		stderr []string
	}{
		{"a missing thread file", func(t *testing.T, dir string) {
			var s []byte
			for _, v := range []uint64{43, 50, 1, 0} {
				s = binary.LittleEndian.AppendUint64(s, v)
			}
			os.WriteFile(filepath.Join(dir, "trace", "serial_schedule.bin"), s, 0o644)
		}, []string{"serial_schedule.bin: offset 0: entry 0 names thread 43, which has no thread file", "a thread file is missing"}},
		{"a truncated chunk", func(t *testing.T, dir string) {
			writeZip(t, filepath.Join(dir, "trace", "drmemtrace.app.41.0001.trace.zip"), drThreadFile(41, 200, drRec(0, 8, 0x10))[:100])
		}, []string{"drmemtrace.app.41.0001.trace.zip: offset 96: record 8 (chunk.0000, byte 96): truncated: chunk.0000 ends 4 bytes into a 12-byte record"}},
		{"an unknown record type", func(t *testing.T, dir string) {
			writeZip(t, filepath.Join(dir, "trace", "drmemtrace.app.41.0001.trace.zip"), drThreadFile(41, 200, drRec(99, 8, 0x10)))
		}, []string{"drmemtrace.app.41.0001.trace.zip: offset 72: record 6 (chunk.0000, byte 72): unknown record type 99"}},
		{"an unknown version", func(t *testing.T, dir string) {
			b := drThreadFile(41, 200)
			copy(b, drRec(25, 0, 8))
			writeZip(t, filepath.Join(dir, "trace", "drmemtrace.app.41.0001.trace.zip"), b)
		}, []string{"drmemtrace.app.41.0001.trace.zip: offset 0: record 0 (chunk.0000, byte 0): drmemtrace version 8; vmsim reads versions 2 to 7"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := drDir(t)
			tt.edit(t, dir)
			for _, args := range [][]string{
				{"trace", "stats", "--format", "drmemtrace", dir},
				{"trace", "head", dir},
				{"run", "--scheme", "none", dir},
				{"run", "--format", "drmemtrace", "--scheme", "undo", "--interval", "1", "--json", dir},
				{"trace", "convert", dir, filepath.Join(t.TempDir(), "out.vmt")},
			} {
				code, out, stderr := runCLI(args...)
				if code != 2 || out != "" {
					t.Errorf("%v: exit %d, stdout %q", args, code, out)
				}
				for _, w := range tt.stderr {
					if !strings.Contains(stderr, w) {
						t.Errorf("%v: stderr %q, want %q", args, stderr, w)
					}
				}
			}
		})
	}
}

func writeZip(t *testing.T, path string, chunk []byte) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create("chunk.0000")
	w.Write(chunk)
	z.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// drSampleDir is DynamoRIO's public threadsig sample in the shared data (its README.md).
const drSampleDir = "../../shared/traces/drmemtrace/threadsig/drmemtrace.threadsig.2765542.9400.dir"

// TestTraceStatsDrmemtraceSample checks that vmsim trace stats prints the totals of
// DynamoRIO's basic_counts on the sample: 21 threads, 15,219,806 loads, 17,411,738
// stores, 15,885,247 fetched instructions.
func TestTraceStatsDrmemtraceSample(t *testing.T) {
	if _, err := os.Stat(drSampleDir); err != nil {
		t.Skipf("the drmemtrace sample is absent (%v)", err)
	}
	code, out, stderr := runCLI("trace", "stats", "--format", "drmemtrace", "--intervals", "1000000", drSampleDir)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"│ reads              │           15219806 │", "│ writes             │           17411738 │",
		"│ fetches            │           15885247 │", "│ threads            │                 21 │"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lack %q:\n%s", want, out)
		}
	}
}

// runJSON runs vmsim run --json with args and returns its stats and trace fields.
func runJSON(t *testing.T, args ...string) (stats map[string]int64, format, sha string) {
	t.Helper()
	code, out, stderr := runCLI(append([]string{"run", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var r struct {
		Stats  map[string]any `json:"stats"`
		Format string         `json:"trace_format"`
		SHA    string         `json:"trace_sha256"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	stats = map[string]int64{}
	for k, v := range r.Stats {
		if f, ok := v.(float64); ok {
			stats[k] = int64(f)
		}
	}
	return stats, r.Format, r.SHA
}

// TestRunDrmemtrace runs a drmemtrace directory (detected, or --format drmemtrace; the
// directory or its trace/) through two schemes: every fetch, load and store is a ref
// (refs = fetches + loads + stores; reads = fetches + loads), the threads interleaved
// as the trace orders them, and the trace's hash is HashDrmemtrace's.
func TestRunDrmemtrace(t *testing.T) {
	dir := drDir(t)
	sha, err := traces.HashDrmemtrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want map[string]int64
	}{
		{"none", []string{"--scheme", "none", dir}, map[string]int64{"refs": 4, "reads": 3, "writes": 1, "pages_touched": 3, "pages_written": 1}},
		{"none, trace/, asked for", []string{"--scheme", "none", "--format", "drmemtrace", filepath.Join(dir, "trace")}, map[string]int64{"refs": 4, "reads": 3, "writes": 1}},
		// Accesses 1 and 2 are thread 42's reads, 3 and 4 thread 41's fetch and write:
		// a failure after access 4 replays the fetch and the write since the checkpoint
		// after access 2; the checkpoint due at access 4 follows the replay.
		{"undo, a failure", []string{"--scheme", "undo", "--interval", "2", "--fail-at", "4", "--verify", dir},
			map[string]int64{"refs": 4, "reads": 3, "writes": 1, "checkpoints": 2, "rollbacks": 1, "replayed_refs": 2, "verify_mismatches": 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stats, format, gotSHA := runJSON(t, tt.args...)
			for k, v := range tt.want {
				if stats[k] != v {
					t.Errorf("%s = %d, want %d", k, stats[k], v)
				}
			}
			if format != "drmemtrace" {
				t.Errorf("trace_format %q", format)
			}
			if tt.args[len(tt.args)-1] == dir && gotSHA != sha {
				t.Errorf("trace_sha256 %s, want %s", gotSHA, sha)
			}
		})
	}
}

// TestRunDrmemtraceSample runs the drmemtrace sample directory through none and undo:
// refs are basic_counts' loads + stores + fetched instructions, reads its loads and
// fetched instructions, writes its stores.
func TestRunDrmemtraceSample(t *testing.T) {
	if _, err := os.Stat(drSampleDir); err != nil {
		t.Skipf("the drmemtrace sample is absent (%v)", err)
	}
	const loads, stores, fetches = 15_219_806, 17_411_738, 15_885_247
	for _, args := range [][]string{
		{"--scheme", "none", drSampleDir},
		{"--scheme", "undo", "--interval", "1000000", "--format", "drmemtrace", drSampleDir},
	} {
		t.Run(args[1], func(t *testing.T) {
			stats, _, _ := runJSON(t, args...)
			for k, v := range map[string]int64{"refs": loads + stores + fetches, "reads": loads + fetches, "writes": stores} {
				if stats[k] != v {
					t.Errorf("%s = %d, want %d", k, stats[k], v)
				}
			}
			if args[1] == "undo" && stats["checkpoints"] != 48 {
				t.Errorf("checkpoints = %d, want 48 (one every 10^6 of 48,516,791 accesses)", stats["checkpoints"])
			}
		})
	}
}

// TestTraceStatsCPUs checks that trace stats lists the cpus each thread of a drmemtrace
// trace ran on, by its cpu markers (a segment's, and one inside a segment).
func TestTraceStatsCPUs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trace")
	os.MkdirAll(dir, 0o755)
	writeZip(t, filepath.Join(dir, "a.41.trace.zip"), drThreadFile(41, 200, drRec(10, 4, 0x400000), drRec(28, 3, 6), drRec(28, 3, 3), drRec(1, 8, 0x1000)))
	writeZip(t, filepath.Join(dir, "a.42.trace.zip"), drThreadFile(42, 100, drRec(0, 8, 0x1000)))
	code, out, stderr := runCLI("trace", "stats", "--json", dir)
	var s struct {
		CPUs map[string][]int `json:"thread_cpus"`
	}
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil {
		t.Fatalf("stats: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	if len(s.CPUs) != 2 || !slices.Equal(s.CPUs["41"], []int{1, 3, 6}) || !slices.Equal(s.CPUs["42"], []int{1}) {
		t.Errorf("thread_cpus %v, want 41: [1 3 6], 42: [1]", s.CPUs)
	}
	code, out, _ = runCLI("trace", "stats", dir)
	for _, want := range []string{"cpus per thread (drmemtrace's cpu markers)", "│     41 │    3 │ 1,3,6 │", "│     42 │    1 │ 1     │"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("stats table lacks %q:\n%s", want, out)
		}
	}
	for _, tt := range []struct {
		cpus []int
		want string
	}{{nil, "none"}, {[]int{-1}, "-1"}, {[]int{0, 1, 2, 3, 7}, "0-3,7"}, {[]int{1, 3, 4}, "1,3-4"}, {[]int{-1, 0, 1}, "-1,0-1"}} {
		if got := cpuRanges(tt.cpus); got != tt.want {
			t.Errorf("cpuRanges(%v) = %q, want %q", tt.cpus, got, tt.want)
		}
	}
}

// TestTraceKernelWrites: a version 3 vmt file's kernel writes are shown by trace head,
// counted by trace stats (with the pages only they wrote), kept by convert to vmt and
// refused by a text format unless --lossy.
func TestTraceKernelWrites(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "k.vmt")
	var buf bytes.Buffer
	w, err := traces.NewVMTWriter(&buf, traces.VMTOptions{Kernel: true})
	if err != nil {
		t.Fatal(err)
	}
	recs := []traces.Record{
		{Addr: 0x1000, Size: 4096, Kind: traces.Write, Kernel: true, Thread: 1}, // page 1: only the kernel's
		{Addr: 0x2000, Size: 8, Kind: traces.Write, Kernel: true, Thread: 1},    // page 2: the kernel's and the program's
		{Addr: 0x2008, Size: 8, Kind: traces.Write, Thread: 1},
		{Addr: 0x3000, Size: 8, Kind: traces.Read, Thread: 2},
	}
	if err := w.Write(recs); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, buf.Bytes(), 0o644)
	code, out, stderr := runCLI("trace", "head", in)
	if code != 0 || !strings.Contains(out, "         1      0 k-write                0x1000   4096        1") ||
		!strings.Contains(out, "         3      0 write                  0x2008      8        1") {
		t.Errorf("head: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI("trace", "stats", "--json", in)
	var s traces.Summary
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil {
		t.Fatalf("stats: exit %d, %v\n%s", code, err, out)
	}
	if s.Writes != 3 || s.KernelWrites != 2 || s.KernelPagesWritten != 2 || s.KernelOnlyPages != 1 || s.PagesWritten != 2 || len(s.Threads) != 2 {
		t.Errorf("stats: %+v", s)
	}
	code, out, _ = runCLI("trace", "stats", in)
	for _, row := range []string{"kernel writes", "pages the kernel wrote", "pages only the kernel wrote"} {
		if code != 0 || !strings.Contains(out, row) {
			t.Errorf("stats table has no %q row:\n%s", row, out)
		}
	}
	// A trace without the mark has no such rows.
	code, out, _ = runCLI("trace", "stats", drDir(t))
	if code != 0 || strings.Contains(out, "kernel") {
		t.Errorf("stats of a trace without kernel marks:\n%s", out)
	}

	back := filepath.Join(dir, "back.vmt")
	if code, _, stderr := runCLI("trace", "convert", in, back); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	f, err := traces.Open(back, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := traces.ReadAll(f)
	f.Close()
	if err != nil || !slices.Equal(got, recs) || !f.Kernel() {
		t.Errorf("vmt -> vmt: %v, %v, kernel %v", got, err, f.Kernel())
	}
	// (in thread 0, so that the thread ids are no loss)
	one := filepath.Join(dir, "one.vmt")
	buf.Reset()
	w, _ = traces.NewVMTWriter(&buf, traces.VMTOptions{Kernel: true})
	k0 := recs[0]
	k0.Thread = 0
	if err := w.Write([]traces.Record{k0}); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	os.WriteFile(one, buf.Bytes(), 0o644)
	code, _, stderr = runCLI("trace", "convert", "--to", "lackey", one, filepath.Join(dir, "k.txt"))
	if code != 2 || !strings.Contains(stderr, "cannot mark the kernel's writes") {
		t.Errorf("convert to lackey: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI("trace", "convert", "--lossy", "--to", "lackey", in, filepath.Join(dir, "k.txt"))
	if code != 0 || !strings.Contains(stderr, "2 kernel writes written as the program's") || !strings.Contains(stderr, "4 accesses' thread ids dropped") {
		t.Errorf("convert --lossy to lackey: exit %d: %s", code, stderr)
	}
}
