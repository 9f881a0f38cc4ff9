package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/vgrecord"
)

// TestConvertRoundTrips converts a trace of each text format to vmt and back, through
// the CLI, and expects the same bytes (the inputs are in each writer's canonical form).
func TestConvertRoundTrips(t *testing.T) {
	for _, tt := range []struct {
		format, text string
	}{
		{"rw", "0041f7a0 R\n31348900 W\n7fffffffffff R\n"},
		{"din", "2 400100\n0 1000\n1 70f60888\n"},
		{"xdin", "i 400100 3\nr 1000 8\nw 70f60888 4\n"},
		{"lackey", "I  04001100,3\n L 1ffefffd78,8\n S 1ffefffd78,8\n M 0421d3c0,4\n"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in."+tt.format)
			os.WriteFile(in, []byte(tt.text), 0o644)
			vmt, back := filepath.Join(dir, "t.vmt"), filepath.Join(dir, "back")
			for _, args := range [][]string{
				{"trace", "convert", "--format", tt.format, in, vmt},
				{"trace", "convert", "--to", tt.format, vmt, back},
			} {
				if code, _, stderr := runCLI(args...); code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
			}
			got, _ := os.ReadFile(back)
			if string(got) != tt.text {
				t.Errorf("round trip gave\n%s\nwant\n%s", got, tt.text)
			}
		})
	}
}

func TestConvertLossesAndErrors(t *testing.T) {
	dir := t.TempDir()
	lackey := writeFile(t, "l.trace", []byte("I  04001100,3\n M 0421d3c0,4\n"))
	out := filepath.Join(dir, "out.rw")
	code, _, stderr := runCLI("trace", "convert", "--to", "rw", lackey, out)
	if code != 0 || !strings.Contains(stderr, "note: rw cannot carry everything") || !strings.Contains(stderr, "2 accesses wider than a byte") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != "04001100 R\n0421d3c0 W\n" {
		t.Errorf("wrote %q", got)
	}
	// A bad input names the file and line, exits 2 and leaves no output behind.
	bad := writeFile(t, "bad.trace", []byte("10 R\n20 X\n"))
	out2 := filepath.Join(dir, "out2.vmt")
	code, _, stderr = runCLI("trace", "convert", bad, out2)
	if code != 2 || !strings.Contains(stderr, "bad.trace:2") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a failed conversion left its output")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	for _, args := range [][]string{
		{"trace", "convert", "--to", "auto", lackey, out},
		{"trace", "convert", "--compress", "bz2", lackey, out},
		{"trace", "convert", lackey},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	// Whole-stream compression is read back from the content.
	for _, c := range []string{"gzip", "zstd", "xz"} {
		p := filepath.Join(dir, "c."+c)
		if code, _, stderr := runCLI("trace", "convert", "--to", "lackey", "--compress", c, lackey, p); code != 0 {
			t.Fatalf("%s: %s", c, stderr)
		}
		f, err := traces.Open(p, traces.Options{})
		if err != nil || string(f.Compression) != c || f.Format != traces.FormatLackey {
			t.Errorf("%s: %v %v", c, f, err)
		}
	}
}

func TestTraceStatsAndHead(t *testing.T) {
	path := writeFile(t, "s.trace", []byte("1000 R\n1008 W\n2000 W\n1000 W\n"))
	code, stdout, stderr := runCLI("trace", "stats", "--json", "--intervals", "2,1", path)
	if code != 0 {
		t.Fatal(stderr)
	}
	var s traces.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Accesses != 4 || s.PagesTouched != 2 || s.PagesWritten != 2 || s.WriteFraction != 0.75 ||
		len(s.Intervals) != 2 || s.Intervals[0].PageWrites != 3 || s.Intervals[1].PageWrites != 3 {
		t.Errorf("stats %+v", s)
	}
	code, stdout, _ = runCLI("trace", "stats", path)
	if code != 0 || !strings.Contains(stdout, "pages written") || !strings.Contains(stdout, "PAGE WRITES") {
		t.Errorf("table:\n%s", stdout)
	}
	code, stdout, _ = runCLI("trace", "head", "-n", "2", path)
	if code != 0 || !strings.Contains(stdout, "0x1008") || strings.Contains(stdout, "0x2000") {
		t.Errorf("head:\n%s", stdout)
	}
	bad := writeFile(t, "bad.trace", []byte("1000 R\nzz\n"))
	code, stdout, stderr = runCLI("trace", "head", "-n", "5", bad)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "bad.trace:2") {
		t.Errorf("head of a bad trace: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI("trace", "stats", bad)
	if code != 2 || stdout != "" {
		t.Errorf("stats of a bad trace: exit %d, stdout %q", code, stdout)
	}
}

func needValgrind(t *testing.T) {
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	if testing.Short() {
		t.Skip("records under valgrind; skipped with -short")
	}
}

func TestRecord(t *testing.T) {
	needValgrind(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "true.vmt")
	code, _, stderr := runCLI("record", "-o", out, "--", "true")
	if code != 0 || !strings.Contains(stderr, "recorded") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := traces.Open(out, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := traces.Summarize(f, traces.SummaryOptions{PageSize: 4096})
	if err != nil || s.Accesses < 10000 || s.Fetches == 0 || s.Writes == 0 || s.AddressSpaces != 1 {
		t.Fatalf("summary %+v, %v", s, err)
	}
	var meta map[string]any
	json.Unmarshal(f.Reader.(*traces.VMTReader).Header().Meta, &meta)
	if meta["program"] != "true" || meta["tool"] == nil {
		t.Errorf("metadata %v", meta)
	}
	// Recording a deterministic program twice gives the same bytes.
	again := filepath.Join(dir, "again.vmt")
	runCLI("record", "-o", again, "--", "true")
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Log("two recordings of true differ (valgrind's layout is not fixed here)")
	}

	// --data-only and --max-refs.
	out = filepath.Join(dir, "cut.vmt")
	if code, _, stderr := runCLI("record", "--data-only", "--max-refs", "5000", "-o", out, "--", "true"); code != 0 {
		t.Fatal(stderr)
	}
	f, _ = traces.Open(out, traces.Options{})
	s, _ = traces.Summarize(f, traces.SummaryOptions{PageSize: 4096})
	if s.Accesses != 5000 || s.Fetches != 0 {
		t.Errorf("data-only max-refs: %+v", s)
	}

	// --children: each process its own address space.
	out = filepath.Join(dir, "kids.vmt")
	code, _, stderr = runCLI("record", "--children", "--data-only", "-o", out, "--", "sh", "-c", "true; ls / >/dev/null")
	if code != 0 {
		t.Fatal(stderr)
	}
	f, _ = traces.Open(out, traces.Options{})
	s, _ = traces.Summarize(f, traces.SummaryOptions{PageSize: 4096})
	if s.AddressSpaces < 2 || !strings.Contains(stderr, "address space 1") {
		t.Errorf("children: %d address spaces; %s", s.AddressSpaces, stderr)
	}

	// Both tracers: the metadata says which recorded.
	for _, tracer := range []string{"lackey", "vmtrace"} {
		if tracer == "vmtrace" {
			if _, err := vgrecord.BuildVMTrace(""); err != nil {
				t.Logf("vmtrace cannot be built here: %v", err)
				continue
			}
		}
		out := filepath.Join(dir, tracer+".vmt")
		if code, _, stderr := runCLI("record", "--tracer", tracer, "-o", out, "--", "true"); code != 0 {
			t.Fatalf("--tracer %s: %s", tracer, stderr)
		}
		f, _ := traces.Open(out, traces.Options{})
		var meta map[string]any
		json.Unmarshal(f.Reader.(*traces.VMTReader).Header().Meta, &meta)
		if tool, _ := meta["tool"].(string); !strings.Contains(tool, tracer) {
			t.Errorf("--tracer %s: metadata tool %q", tracer, tool)
		}
	}

	// Errors: no program, a missing valgrind, a program valgrind cannot run, a tracer
	// that is not one, lackey with --children.
	for _, args := range [][]string{
		{"record", "--tracer", "cachegrind", "-o", filepath.Join(dir, "x.vmt"), "--", "true"},
		{"record", "--tracer", "lackey", "--children", "-o", filepath.Join(dir, "x.vmt"), "--", "true"},
		{"record", "-o", filepath.Join(dir, "x.vmt"), "--", "/nonexistent/program"},
		{"record", "--valgrind", "no-such-valgrind", "-o", filepath.Join(dir, "x.vmt"), "--", "true"},
		{"record", "--", "true"},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.vmt")); err == nil {
		t.Error("a failed recording left its output")
	}
}

// TestConvertZstdLevel converts at every --zstd-level: the same records back, and a bad
// level is a usage error.
func TestConvertZstdLevel(t *testing.T) {
	dir := t.TempDir()
	text := strings.Repeat("I  04001100,3\n L 1ffefffd78,8\n S 1ffefffd78,8\n M 0421d3c0,4\n", 500)
	lk := filepath.Join(dir, "t.lackey")
	os.WriteFile(lk, []byte(text), 0o644)
	for _, level := range []string{"fastest", "default", "better", "best"} {
		out := filepath.Join(dir, level+".vmt")
		if code, _, stderr := runCLI("trace", "convert", "--zstd-level", level, lk, out); code != 0 {
			t.Fatalf("%s: %s", level, stderr)
		}
		back := filepath.Join(dir, level+".lackey")
		if code, _, stderr := runCLI("trace", "convert", "--to", "lackey", out, back); code != 0 {
			t.Fatalf("%s: %s", level, stderr)
		}
		if b, _ := os.ReadFile(back); string(b) != text {
			t.Errorf("%s: records changed", level)
		}
	}
	if code, _, stderr := runCLI("trace", "convert", "--zstd-level", "worst", lk, filepath.Join(dir, "x.vmt")); code != 2 || !strings.Contains(stderr, "--zstd-level") {
		t.Errorf("bad level: exit %d, %s", code, stderr)
	}
}

// TestRecordSyscalls records cat copying a file of 1000 bytes: the trace holds an input
// of 1000 bytes (from the file's descriptor) and an output of 1000 bytes on descriptor 1,
// in that order, with and without --children.
func TestRecordSyscalls(t *testing.T) {
	needValgrind(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, bytes.Repeat([]byte("0123456789"), 100), 0o644)
	for _, tt := range []struct {
		name string
		args []string
		asid traces.ASID
	}{
		{"cat", []string{"cat", in}, 0},
		// sh forks (address space 1), and its child executes cat (2).
		{"children", []string{"--children", "sh", "-c", "cat " + in + "; true"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".vmt")
			code, stdout, stderr := runCLI(append([]string{"record", "--syscalls", "--data-only", "-o", out}, tt.args...)...)
			if code != 0 || len(stdout) != 1000 || !strings.Contains(stderr, "I/O records") {
				t.Fatalf("exit %d, %d bytes out: %s", code, len(stdout), stderr)
			}
			f, err := traces.Open(out, traces.Options{})
			if err != nil {
				t.Fatal(err)
			}
			recs, err := traces.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			input, output := -1, -1
			for i, r := range recs {
				switch {
				case r.Kind == traces.Input && r.Size == 1000 && r.ASID == tt.asid && r.Addr > 2:
					input = i
				case r.Kind == traces.Output && r.Size == 1000 && r.ASID == tt.asid && r.Addr == 1:
					output = i
				}
			}
			if input < 0 || output < input {
				t.Errorf("input of 1000 bytes at record %d, output of 1000 bytes on fd 1 at %d", input, output)
			}
		})
	}
	// Without --syscalls, no I/O record.
	out := filepath.Join(dir, "plain.vmt")
	if code, _, stderr := runCLI("record", "--data-only", "-o", out, "cat", in); code != 0 {
		t.Fatal(stderr)
	}
	f, _ := traces.Open(out, traces.Options{})
	recs, _ := traces.ReadAll(f)
	for _, r := range recs {
		if !r.Kind.IsAccess() {
			t.Fatalf("record %v without --syscalls", r)
		}
	}
}

// TestHeadFrom checks that --from gives the same records whether the trace jumps (vmt)
// or is decoded from the start (lackey).
func TestHeadFrom(t *testing.T) {
	dir := t.TempDir()
	text := "I  04001100,3\n L 1ffefffd78,8\n S 1ffefffd78,8\n M 0421d3c0,4\nI  04001103,2\n"
	lk := filepath.Join(dir, "t.lackey")
	os.WriteFile(lk, []byte(text), 0o644)
	vmt := filepath.Join(dir, "t.vmt")
	if code, _, stderr := runCLI("trace", "convert", "--block", "2", lk, vmt); code != 0 {
		t.Fatal(stderr)
	}
	records := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") && !strings.Contains(l, "#access") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	_, a, _ := runCLI("trace", "head", "--from", "4", "-n", "5", vmt)
	_, b, _ := runCLI("trace", "head", "--from", "4", "-n", "5", lk)
	if records(a) != records(b) || !strings.Contains(a, "jumped") || !strings.Contains(b, "decoded") {
		t.Errorf("vmt:\n%s\nlackey:\n%s", a, b)
	}
	if got := records(a); !strings.HasPrefix(strings.TrimSpace(got), "4") || strings.Count(got, "\n") != 1 {
		t.Errorf("from access 4 of 5: %q", got)
	}
	for _, path := range []string{lk, vmt} {
		if code, _, stderr := runCLI("trace", "head", "--from", "6", path); code != 2 || !strings.Contains(stderr, "access 6 is past the end (5 accesses)") {
			t.Errorf("past the end: %d %s", code, stderr)
		}
		if code, out, _ := runCLI("trace", "head", "--from", "5", path); code != 0 || !strings.Contains(out, "         5      0 fetch") {
			t.Errorf("--from 5 (the last access): %d %s", code, out)
		}
		if code, _, stderr := runCLI("trace", "head", "--from", "0", path); code != 2 || !strings.Contains(stderr, "access numbers start at 1") {
			t.Errorf("--from 0: %d %s", code, stderr)
		}
	}
}
