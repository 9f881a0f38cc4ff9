package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

func TestParseCount(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"1000000", 1000000, ""},
		{"1e6", 1000000, ""},
		{"2.5e3", 2500, ""},
		{" 42 ", 42, ""},
		{"1.5", 0, "not a whole number"},
		{"-3", 0, "negative"},
		{"-1e3", 0, "negative"},
		{"abc", 0, "not a number"},
		{"NaN", 0, "not a number"},
		{"1e30", 0, "too large"},
		{"", 0, "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCount(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCount(%q) = %d, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseCount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestCountsSameInRunAndSweep: 1e6 is accepted by run and by sweep's --set alike.
func TestCountsSameInRunAndSweep(t *testing.T) {
	path := writeFile(t, "t.trace", []byte("1000 R\n1004 W\n2000 W\n"))
	for _, v := range []string{"2", "2e0"} {
		code, out, stderr := runCLI("run", "--json", "--interval", v, "--fail-at", "3e0", path)
		if code != 0 || !strings.Contains(out, `"interval":2`) || !strings.Contains(out, `"fail_at":[3]`) {
			t.Errorf("run --interval %s: %d %s %s", v, code, out, stderr)
		}
	}
	csv := filepath.Join(t.TempDir(), "s.csv")
	if code, _, stderr := runCLI("sweep", "--trace", path, "--set", "interval=2e0", "--csv", csv, "--jobs", "1"); code != 0 {
		t.Errorf("sweep --set interval=2e0: %d %s", code, stderr)
	}
	for _, args := range [][]string{{"run", "--interval", "1.5", path}, {"run", "--frames", "-1", path}, {"trace", "head", "-n", "x", path}} {
		if code, _, stderr := runCLI(args...); code != 2 || !strings.Contains(stderr, "invalid argument") {
			t.Errorf("%v: %d %s", args, code, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI("version")
	if code != 0 || !strings.HasPrefix(out, "vmsim "+version+" (") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := runCLI("--version"); code != 0 || !strings.Contains(out, version) {
		t.Errorf("--version: %d %q", code, out)
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"scheme", []string{"__complete", "run", "--scheme", ""}, []string{"none", "dualmap", "global", "rebound"}},
		{"replace", []string{"__complete", "run", "--replace", ""}, []string{"clock", "opt"}},
		{"memory", []string{"__complete", "run", "--memory", ""}, []string{"nonvolatile", "volatile"}},
		{"run format", []string{"__complete", "run", "--format", ""}, []string{"champsim", "pin", "vmt"}},
		{"trace format", []string{"__complete", "trace", "stats", "--format", ""}, []string{"champsim-cloudsuite", "lackey"}},
		{"convert to", []string{"__complete", "trace", "convert", "--to", ""}, []string{"vmt", "xdin"}},
		{"sweep set keys", []string{"__complete", "sweep", "--set", ""}, []string{"interval=", "scheme=", "memory="}},
		{"sweep set values", []string{"__complete", "sweep", "--set", "scheme="}, []string{"scheme=none", "scheme=dualmap"}},
		{"sweep cost keys", []string{"__complete", "sweep", "--cost", ""}, []string{"disk_write_ns="}},
		{"script", []string{"completion", "bash"}, []string{"bash completion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(tt.args...)
			for _, w := range tt.want {
				if code != 0 || !strings.Contains(out, w) {
					t.Fatalf("%v: exit %d, want %q in\n%s%s", tt.args, code, w, out, stderr)
				}
			}
		})
	}
}

func TestRunJSONIdentifiesTrace(t *testing.T) {
	data := []byte("1000 R\n1004 W\n2000 W\n")
	path := writeFile(t, "t.trace", gz(string(data)))
	sum := sha256.Sum256(gz(string(data)))
	var res struct {
		Stats struct {
			Refs int64 `json:"refs"`
		} `json:"stats"`
		Format  string `json:"trace_format"`
		SHA256  string `json:"trace_sha256"`
		Version string `json:"vmsim_version"`
	}
	code, out, stderr := runCLI("run", "--json", path)
	if code != 0 {
		t.Fatal(stderr)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Stats.Refs != 3 || res.Format != "rw" || res.SHA256 != hex.EncodeToString(sum[:]) || res.Version != version {
		t.Errorf("run --json: %s", out)
	}
	// The same from standard input.
	stdin = bytes.NewReader(gz(string(data)))
	defer func() { stdin = os.Stdin }()
	code, out2, stderr := runCLI("run", "--json", "-")
	if code != 0 {
		t.Fatal(stderr)
	}
	if err := json.Unmarshal([]byte(out2), &res); err != nil {
		t.Fatal(err)
	}
	if res.Stats.Refs != 3 || res.Format != "rw" || res.SHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(out2, `"trace":"-"`) {
		t.Errorf("run --json -: %s", out2)
	}
	// The embedded sample.
	code, out3, _ := runCLI("run", "--json")
	if code != 0 || !strings.Contains(out3, `"trace_format":"lackey"`) || !strings.Contains(out3, traces.SampleSHA256()) {
		t.Errorf("run --json (embedded): %s", out3)
	}
}

func TestStdin(t *testing.T) {
	defer func() { stdin = os.Stdin }()
	text := "0x40001ee0: R 0xbfffe798\n0x40001efd: W 0xbfffe7d4 8\n#eof\n"
	stdin = strings.NewReader(text)
	code, out, stderr := runCLI("trace", "head", "-")
	if code != 0 || !strings.Contains(out, "format pin") || !strings.Contains(out, "0xbfffe7d4") {
		t.Errorf("head -: %d %s %s", code, out, stderr)
	}
	stdin = strings.NewReader(text)
	vmt := filepath.Join(t.TempDir(), "p.vmt")
	if code, _, stderr := runCLI("trace", "convert", "-", vmt); code != 0 {
		t.Fatalf("convert -: %s", stderr)
	}
	if code, out, _ := runCLI("trace", "stats", "--json", vmt); code != 0 || !strings.Contains(out, `"accesses":2`) {
		t.Errorf("stats of the converted trace: %s", out)
	}
	stdin = strings.NewReader(text)
	if code, _, stderr := runCLI("run", "--frames", "4", "--replace", "opt", "-"); code != 2 || !strings.Contains(stderr, "standard input cannot do") {
		t.Errorf("opt on standard input: %d %s", code, stderr)
	}
}

// TestConvertChampSim converts both ChampSim layouts, compressed, with --format auto, and
// checks the accesses with trace stats.
func TestConvertChampSim(t *testing.T) {
	rec := func(size int, ip, load, store uint64, asidOff int) []byte {
		b := make([]byte, size)
		binary.LittleEndian.PutUint64(b, ip)
		if size == 64 {
			binary.LittleEndian.PutUint64(b[16:], store)
			binary.LittleEndian.PutUint64(b[32:], load)
		} else {
			binary.LittleEndian.PutUint64(b[24:], store)
			binary.LittleEndian.PutUint64(b[56:], load)
			b[asidOff], b[asidOff+1] = 1, 2
		}
		return b
	}
	for _, tt := range []struct {
		format string
		size   int
	}{{"champsim", 64}, {"champsim-cloudsuite", 96}} {
		var data []byte
		for i := range uint64(300) {
			store := uint64(0)
			if i%3 == 0 {
				store = 0x7ffd0000 + 64*i
			}
			data = append(data, rec(tt.size, 0x401000+4*i, 0x5555000+8*i, store, 88)...)
		}
		in := writeFile(t, "t.champsimtrace.gz", gz(string(data)))
		out := filepath.Join(t.TempDir(), "t.vmt")
		if code, _, stderr := runCLI("trace", "convert", in, out); code != 0 {
			t.Fatalf("%s: %s", tt.format, stderr)
		}
		code, js, _ := runCLI("trace", "stats", "--json", out)
		var s traces.Summary
		json.Unmarshal([]byte(js), &s)
		if code != 0 || s.Accesses != 700 || s.Fetches != 300 || s.Reads != 300 || s.Writes != 100 {
			t.Errorf("%s: %+v", tt.format, s)
		}
		if code, js, _ := runCLI("trace", "stats", "--json", in); code != 0 || !strings.Contains(js, `"format":"`+tt.format+`"`) {
			t.Errorf("%s detected as: %s", tt.format, js)
		}
		// Truncated: the error names the byte offset.
		cut := writeFile(t, "cut.champsimtrace", data[:len(data)-5])
		if code, _, stderr := runCLI("trace", "stats", "--format", tt.format, cut); code != 2 || !strings.Contains(stderr, "truncated "+tt.format+" record") {
			t.Errorf("%s truncated: %d %s", tt.format, code, stderr)
		}
	}
}

func TestProgressLine(t *testing.T) {
	p := &runProgress{stop: make(chan struct{}), done: make(chan struct{})}
	close(p.done)
	p.pass.Store(1)
	p.n.Store(2_500_000)
	if l := p.line(); !strings.Contains(l, "2.50M accesses read") || strings.Contains(l, "left") {
		t.Errorf("no total: %q", l)
	}
	p.total.Store(10_000_000)
	if l := p.line(); !strings.Contains(l, "of 10.00M (25%)") || !strings.Contains(l, "left") {
		t.Errorf("with a total: %q", l)
	}
	p.close()
	p.close() // idempotent
}

// TestRecordExec records a shell wrapper that executes the real program, and a program
// that fails: vmsim says so, and exits with the program's status.
func TestRecordExec(t *testing.T) {
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	if testing.Short() {
		t.Skip("records under valgrind; skipped with -short")
	}
	dir := t.TempDir()
	wrap := filepath.Join(dir, "wrap.sh")
	os.WriteFile(wrap, []byte("#!/bin/sh\nexec /bin/true\n"), 0o755)
	code, _, stderr := runCLI("record", "-o", filepath.Join(dir, "w.vmt"), "--", wrap)
	if code != 0 || !strings.Contains(stderr, "executed another program") || !strings.Contains(stderr, "--children") {
		t.Errorf("wrapper: %d %s", code, stderr)
	}
	code, _, stderr = runCLI("record", "--children", "-o", filepath.Join(dir, "c.vmt"), "--", wrap)
	if code != 0 || !strings.Contains(stderr, "became /bin/true (address space 1)") {
		t.Errorf("wrapper with --children: %d %s", code, stderr)
	}
	code, _, stderr = runCLI("record", "-o", filepath.Join(dir, "f.vmt"), "--", "/bin/sh", "-c", "exit 7")
	if code != 7 || strings.Contains(stderr, "executed another") {
		t.Errorf("failing program: exit %d, want 7; %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "f.vmt")); err != nil {
		t.Errorf("the trace of a failing program is not written: %v", err)
	}
}

// TestProgressFileSeeks: the progress wrapper keeps the vmt file's jumps (which opt's
// pre-pass uses) and its count follows them.
func TestProgressFileSeeks(t *testing.T) {
	lk := writeFile(t, "t.lackey", []byte("I  04001100,3\n L 1ffefffd78,8\n S 1ffefffd78,8\nI  04001103,2\n"))
	vmt := filepath.Join(t.TempDir(), "t.vmt")
	if code, _, stderr := runCLI("trace", "convert", "--block", "1", lk, vmt); code != 0 {
		t.Fatal(stderr)
	}
	f, err := traces.Open(vmt, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &runProgress{stop: make(chan struct{}), done: make(chan struct{})}
	close(p.done)
	pf := &progressFile{Reader: p.wrap(f), f: f, p: p}
	defer pf.Close()
	if err := pf.SeekAccess(2); err != nil {
		t.Fatal(err)
	}
	recs, err := traces.ReadAll(pf)
	if err != nil || len(recs) != 2 || p.n.Load() != 4 || p.total.Load() != 4 {
		t.Errorf("after SeekAccess(2): %v, %v, count %d of %d", recs, err, p.n.Load(), p.total.Load())
	}
}
