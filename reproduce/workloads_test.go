package reproduce

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmsim/vmsim/traces/corpus"
)

// TestWorkloadsShape checks, from the declared metadata, that the set is the one issue 24
// asks for: at least eight programs, a server-like one recorded with its system calls, at
// least three of 10^9 accesses or more, footprints from about 1 MB to 256 MB or more,
// write-heavy and read-heavy, streaming and random, and each with what the README and
// setup.sh need.
func TestWorkloadsShape(t *testing.T) {
	if len(Workloads) < 8 {
		t.Errorf("%d workloads, want >= 8", len(Workloads))
	}
	names := map[string]bool{}
	var server, big int
	minFP, maxFP := 1e18, 0.0
	patterns := map[string]bool{}
	for _, w := range Workloads {
		if names[w.Name] {
			t.Errorf("workload %s twice", w.Name)
		}
		names[w.Name] = true
		if w.Syscalls && w.Drive != nil {
			server++
		}
		if w.Accesses >= 1e9 {
			big++
		}
		fp, err := parseMB(w.Footprint)
		if err != nil {
			t.Errorf("%s: footprint: %v", w.Name, err)
		}
		minFP, maxFP = min(minFP, fp), max(maxFP, fp)
		for _, p := range []string{"write-heavy", "read-heavy", "streaming", "random"} {
			if strings.Contains(w.Pattern, p) {
				patterns[p] = true
			}
		}
		if w.Input == "" || w.Why == "" || len(w.Apt) == 0 || w.Accesses == 0 {
			t.Errorf("%s: Input, Why, Apt or Accesses missing", w.Name)
		}
		if w.Source != "" {
			if _, err := corpus.Source(w.Source); err != nil {
				t.Errorf("%s: %v", w.Name, err)
			}
		} else if len(w.VersionArgs) == 0 {
			t.Errorf("%s: no VersionArgs", w.Name)
		}
	}
	if server < 1 {
		t.Error("no server-like workload (Drive, recorded with --syscalls)")
	}
	if big < 3 {
		t.Errorf("%d workloads of 10^9 accesses or more, want >= 3", big)
	}
	if minFP > 2 || maxFP < 256 {
		t.Errorf("footprints from %.1f MB to %.0f MB, want about 1 MB to >= 256 MB", minFP, maxFP)
	}
	if len(patterns) != 4 {
		t.Errorf("patterns covered: %v, want write-heavy, read-heavy, streaming and random", patterns)
	}
	for _, lp := range LongPrograms {
		if !names[lp.Name] {
			t.Errorf("long program %s is not a workload", lp.Name)
		}
	}
}

// TestWorkloadMissingProgram: a workload whose program is not installed is an error
// naming the Debian package to install, before anything is generated or recorded.
func TestWorkloadMissingProgram(t *testing.T) {
	for _, c := range []struct {
		name string
		w    Workload
	}{
		{"on PATH", Workload{Name: "x", Program: "vmsim-no-such-program", Apt: []string{"vmsim-pkg"}}},
		{"located", Workload{Name: "x", Program: "cc9", Locate: []string{"vmsim-no-such-gcc", "-print-prog-name=cc9"}, Apt: []string{"vmsim-pkg"}}},
		{"located, not there", Workload{Name: "x", Program: "cc9", Locate: []string{"echo", "/vmsim/no/such/cc9"}, Apt: []string{"vmsim-pkg"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			_, err := ensureAll(context.Background(), cache, "test", io.Discard, []Workload{c.w})
			if err == nil || !strings.Contains(err.Error(), "install the Debian package vmsim-pkg") || !strings.Contains(err.Error(), "workload x") {
				t.Fatalf("error %v, want one naming the workload and its package", err)
			}
			if ents, _ := os.ReadDir(cache); len(ents) != 0 {
				t.Errorf("the cache holds %d files after the error", len(ents))
			}
		})
	}
}

// parseMB reads a footprint such as "1.2 MB".
func parseMB(s string) (float64, error) {
	n, ok := strings.CutSuffix(s, " MB")
	if !ok {
		return 0, errors.New("not in MB: " + s)
	}
	return strconv.ParseFloat(n, 64)
}

// TestSetupInstallsWorkloads: reproduce/setup.sh installs every Debian package a workload
// declares.
func TestSetupInstallsWorkloads(t *testing.T) {
	b, err := os.ReadFile("setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range Workloads {
		for _, p := range w.Apt {
			if !bytes.Contains(b, []byte(" "+p+" ")) && !bytes.Contains(b, []byte(" "+p+"\n")) {
				t.Errorf("setup.sh does not install %s (workload %s)", p, w.Name)
			}
		}
	}
}

// TestWorkloadInputs pins the hash of every workload's inputs: a change of a generator
// changes the README's input hashes and makes every recording be made again, so it must
// be deliberate (update the hashes here with it).
func TestWorkloadInputs(t *testing.T) {
	want := map[string]string{
		"gzip":      "0b1e2c178206692b032799fde6013bc6c7126e17b8dceb12d0661f1021605698",
		"sort":      "1dace0ef3c8adf36389dd77ef22f101371a8a7a2ec530ca94f4bcfed7c142494",
		"memupdate": "59035110cb5d995444b6577baa1f4f03e567c3bd443cdc5da12cee60f44ed63f",
		"memstream": "59035110cb5d995444b6577baa1f4f03e567c3bd443cdc5da12cee60f44ed63f",
		"sqlite":    "9e6e01dc1c7cffafead3a873f90f1cf16ff846c23f8685aef6ef9e79ee18d000",
		"redis":     "8048473b7e01ccf7fdb3975839a2aaa88a92e7c95fb88fef257825f191f20a49",
		"python":    "d8e937b26e9877fc3c54ba5c8b14cd5e4c16ee729b00e45fb36e55c2a06e8b86",
		"perl":      "4715e915a08016b5a9dba704ad118d83fd15793de29beeab8c481ad35edd701a",
		"cc1":       "e5389c96f8f8b201300069fa90f9e6b0beb1d7e96ab4d0fa93a26dc3ac897e08",
		"xz":        "97e5084c65b1be0f79c6085bc1326a081e35b2255720840a4d2b3f4282e49ce7",
	}
	for _, w := range Workloads {
		t.Run(w.Name, func(t *testing.T) {
			// The pinned hash is that of an earlier generation: the inputs are the same
			// from run to run.
			dir := t.TempDir()
			h, err := w.prepareInputs(dir)
			if err != nil {
				t.Fatal(err)
			}
			if want[w.Name] != h {
				t.Errorf("input hash %s, pinned %s", h, want[w.Name])
			}
			if w.Name != "xz" {
				return
			}
			// A stale file of an earlier generation is removed.
			os.WriteFile(filepath.Join(dir, "stale"), []byte("x"), 0o644)
			if h2, _ := w.prepareInputs(dir); h2 != h {
				t.Error("a stale file in the input folder changes the hash")
			}
		})
	}
}

func TestInputHash(t *testing.T) {
	hash := func(files map[string]string) string {
		dir := t.TempDir()
		for n, c := range files {
			os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
		}
		h, err := inputHash(dir)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(map[string]string{"a": "xy", "b": "z"})
	for _, c := range []struct {
		name  string
		files map[string]string
	}{
		{"content", map[string]string{"a": "xy", "b": "w"}},
		{"renamed", map[string]string{"a": "xy", "c": "z"}},
		{"boundary", map[string]string{"a": "x", "b": "yz"}},
		{"extra", map[string]string{"a": "xy", "b": "z", "c": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if hash(c.files) == base {
				t.Error("same hash as the base inputs")
			}
		})
	}
	if hash(map[string]string{"b": "z", "a": "xy"}) != base {
		t.Error("the hash depends on the order the files were written")
	}
}

// TestManifestReuse: a recording is reused only when its manifest matches and its trace
// is there.
func TestManifestReuse(t *testing.T) {
	m := RecordingManifest{Name: "redis", Program: "/usr/bin/redis-server", ProgramVersion: "Redis server v=7.0.15", Args: []string{"--port", "0"},
		Env: cleanEnv, InputSHA256: "ab", Syscalls: true, Valgrind: "valgrind-3.19.0", Tracer: "vmtrace", VmsimVersion: "0.3.0"}
	done := m
	done.Accesses, done.PagesTouched, done.PagesWritten, done.WriteFraction, done.TraceBytes, done.RecordSeconds, done.SHA256 = 3e8, 25_000, 20_000, 0.3, 1e8, 60, "cd"
	for _, c := range []struct {
		name     string
		manifest string // "" : none
		trace    []byte // nil: none
		want     bool
	}{
		{"none", "", []byte("vmt"), false},
		{"matches", mustJSON(done), []byte("vmt"), true},
		{"no trace", mustJSON(done), nil, false},
		{"empty trace", mustJSON(done), []byte{}, false},
		{"corrupt", "{", []byte("vmt"), false},
		{"other input", mustJSON(func() RecordingManifest { x := done; x.InputSHA256 = "ff"; return x }()), []byte("vmt"), false},
		{"without syscalls", mustJSON(func() RecordingManifest { x := done; x.Syscalls = false; return x }()), []byte("vmt"), false},
		{"other tracer", mustJSON(func() RecordingManifest { x := done; x.Tracer = "lackey"; return x }()), []byte("vmt"), false},
		{"other environment", mustJSON(func() RecordingManifest { x := done; x.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}; return x }()), []byte("vmt"), false},
		{"no environment (before it was kept)", mustJSON(func() RecordingManifest { x := done; x.Env = nil; return x }()), []byte("vmt"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			mpath, trace := filepath.Join(dir, "redis.json"), filepath.Join(dir, "redis.vmt")
			if c.manifest != "" {
				os.WriteFile(mpath, []byte(c.manifest), 0o644)
			}
			if c.trace != nil {
				os.WriteFile(trace, c.trace, 0o644)
			}
			old, ok, err := reusable(mpath, trace, m)
			if err != nil || ok != c.want {
				t.Fatalf("reusable: %v, %v; want %v", ok, err, c.want)
			}
			if ok && (old.Accesses != done.Accesses || old.PagesWritten != done.PagesWritten || old.RecordSeconds != 60) {
				t.Errorf("the reused manifest lost its counts: %+v", old)
			}
		})
	}
}

// TestCleanEnv: a program run as the workloads are, in a folder of a machine's own, sees
// exactly cleanEnv: no variable names the folder (os/exec sets PWD to it unless the
// environment has one), and the hash seeds are fixed.
func TestCleanEnv(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/env")
	cmd.Dir, cmd.Env = dir, cleanEnv
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("/usr/bin/env: %v", err)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !slices.Equal(got, cleanEnv) || strings.Contains(string(out), dir) {
		t.Errorf("the environment is\n%s\nwant %q", out, cleanEnv)
	}
	for _, v := range []string{"PWD=", "PYTHONHASHSEED=0", "PERL_HASH_SEED=0", "PERL_PERTURB_KEYS=0"} {
		if !slices.Contains(cleanEnv, v) {
			t.Errorf("cleanEnv lacks %s", v)
		}
	}
}

func mustJSON(m RecordingManifest) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestManifestRoundTrip: measure fills in the counts from the trace, and the manifest
// written and read back is the same.
func TestManifestRoundTrip(t *testing.T) {
	trace := tinyTrace(t, 20_000, 32)
	m := RecordingManifest{Name: "tiny", Program: "/usr/bin/true", Args: []string{"x"}, InputSHA256: "ab", Valgrind: "v", Tracer: "vmtrace", VmsimVersion: "t"}
	if err := measure(trace, &m); err != nil {
		t.Fatal(err)
	}
	if m.Accesses != 20_000 || m.PagesTouched == 0 || m.PagesWritten == 0 || m.PagesWritten > m.PagesTouched || m.WriteFraction == 0 || m.TraceBytes == 0 || len(m.SHA256) != 64 {
		t.Errorf("measured %+v", m)
	}
	path := filepath.Join(t.TempDir(), "tiny.json")
	if err := writeManifest(path, m); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var back RecordingManifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if mustJSON(back) != mustJSON(m) {
		t.Errorf("read back %+v, wrote %+v", back, m)
	}
}

// TestManifestCompleted: a manifest of before the footprints were kept has them filled in
// from its trace, and written back; a complete one is left as it is.
func TestManifestCompleted(t *testing.T) {
	trace := tinyTrace(t, 20_000, 32)
	dir := t.TempDir()
	old := RecordingManifest{Name: "tiny", Program: "/usr/bin/true", InputSHA256: "ab", Accesses: 20_000, SHA256: "cd"}
	mpath := filepath.Join(dir, "tiny.json")
	m, err := completed(mpath, trace, old)
	if err != nil {
		t.Fatal(err)
	}
	if m.PagesTouched == 0 || m.WriteFraction == 0 || m.key() != old.key() {
		t.Errorf("completed: %+v", m)
	}
	b, _ := os.ReadFile(mpath)
	if string(b) != mustJSONIndent(m) {
		t.Errorf("written back:\n%s\nwant\n%s", b, mustJSONIndent(m))
	}
	done := m
	done.PagesTouched = 12345 // not what the trace gives: a complete manifest is not measured again
	if m2, err := completed(filepath.Join(dir, "other.json"), trace, done); err != nil || m2.PagesTouched != 12345 {
		t.Errorf("a complete manifest measured again: %d, %v", m2.PagesTouched, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.json")); err == nil {
		t.Error("a complete manifest written again")
	}
}

func mustJSONIndent(m RecordingManifest) string {
	b, _ := json.MarshalIndent(m, "", "  ")
	return string(b) + "\n"
}

func TestPipeFile(t *testing.T) {
	dir := t.TempDir()
	if err := sqlRequests("requests.sql", 1200, 5)(dir); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := pipeFile("requests.sql")(context.Background(), dir, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "requests.sql"))
	if !bytes.Equal(got.Bytes(), want) || !bytes.HasSuffix(want, []byte("SELECT count(*), sum(n) FROM kv;\n")) {
		t.Errorf("piped %d bytes of %d", got.Len(), len(want))
	}
	if bytes.Count(want, []byte("BEGIN;")) != 3 || bytes.Count(want, []byte("COMMIT;")) != 3 {
		t.Error("1200 inserts are not in three transactions")
	}
}

func TestRESP(t *testing.T) {
	if got := string(encodeRESP([]string{"SET", "k", "vv"})); got != "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n" {
		t.Errorf("encoded %q", got)
	}
	for _, c := range []struct{ name, in, want, err string }{
		{"ok", "+OK\r\n", "+OK", ""},
		{"error", "-ERR wrong\r\n", "-ERR wrong", ""},
		{"integer", ":42\r\n", ":42", ""},
		{"bulk", "$5\r\nhello\r\n", "$5", ""},
		{"nil", "$-1\r\n", "$-1", ""},
		{"array", "*2\r\n$1\r\na\r\n:1\r\n", "*2", ""},
		{"eof", "", "", "EOF"},
		{"short bulk", "$5\r\nhel", "", "EOF"},
		{"bad type", "?x\r\n", "", "unknown type"},
		{"bad length", "$x\r\n", "", "bad length"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readReply(bufio.NewReader(strings.NewReader(c.in)))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want one with %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("%q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// fakeRedis serves one connection on a Unix socket: +OK to SET, an integer to INCR and
// DEL, a bulk string to GET (an error to a request named in fail), and on SHUTDOWN it
// closes the connection. It returns the requests it got.
func fakeRedis(t *testing.T, l net.Listener, fail string) <-chan []string {
	got := make(chan []string, 1)
	go func() {
		var reqs []string
		defer func() { got <- reqs }()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			h, err := r.ReadString('\n')
			if err != nil {
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(h[1:]))
			var words []string
			for range n {
				lh, _ := r.ReadString('\n')
				k, _ := strconv.Atoi(strings.TrimSpace(lh[1:]))
				b := make([]byte, k+2)
				io.ReadFull(r, b)
				words = append(words, string(b[:k]))
			}
			reqs = append(reqs, strings.Join(words, " "))
			switch {
			case words[0] == fail:
				io.WriteString(c, "-ERR refused\r\n")
			case words[0] == "SHUTDOWN":
				return
			case words[0] == "SET":
				io.WriteString(c, "+OK\r\n")
			case words[0] == "GET":
				io.WriteString(c, "$3\r\nabc\r\n")
			default:
				io.WriteString(c, ":1\r\n")
			}
		}
	}()
	return got
}

func TestRedisDriver(t *testing.T) {
	for _, c := range []struct{ name, fail, err string }{
		{"all answered", "", ""},
		{"error reply", "INCR", "the server answered ERR refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := redisRequests("requests.txt", 30, 6)(dir); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// The driver starts before the server listens: it waits for the socket.
			done := make(chan error, 1)
			go func() { done <- redisDriver("s.sock", "requests.txt", 7)(ctx, dir, io.Discard) }()
			l, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			got := fakeRedis(t, l, c.fail)
			err = <-done
			reqs := <-got
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "request line") {
					t.Fatalf("error %v, want one naming the request line and %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(filepath.Join(dir, "requests.txt"))
			if strings.Join(reqs, "\n")+"\n" != string(want) {
				t.Errorf("the server got %d requests, the file has %d", len(reqs), bytes.Count(want, []byte("\n")))
			}
		})
	}
}

// TestRedisDriverServerGone: a server that ends before answering is an error, and a
// driver whose server never comes stops when its context ends.
func TestRedisDriverServerGone(t *testing.T) {
	dir := t.TempDir()
	if err := redisRequests("requests.txt", 5, 6)(dir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	if err := redisDriver("s.sock", "requests.txt", 3)(context.Background(), dir, io.Discard); err == nil || !strings.Contains(err.Error(), "line") {
		t.Errorf("error %v, want one naming a request line", err)
	}
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := redisDriver("none.sock", "requests.txt", 3)(ctx, dir, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the context's", err)
	}
}

// TestRecordDrive runs Workload.record with a stand-in for vmsim record (a shell script
// in the place of the binary): the driver's requests reach the program's standard input;
// a program that ends before its server listens ends the driver's wait; a driver that
// fails stops the program.
func TestRecordDrive(t *testing.T) {
	failing := func(context.Context, string, io.Writer) error { return errors.New("no more requests") }
	for _, c := range []struct {
		name, script string
		drive        func(context.Context, string, io.Writer) error
		err          string
	}{
		{"pipe", "cat > got.txt", pipeFile("requests.sql"), ""},
		{"program gone", "exit 0", redisDriver("never.sock", "requests.sql", 10), "driving it"},
		{"driver fails", "exec sleep 600", failing, "no more requests"},
	} {
		t.Run(c.name, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), "fake-vmsim")
			if err := os.WriteFile(exe, []byte("#!/bin/sh\n"+c.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			old := vmsimExe
			vmsimExe = func() (string, error) { return exe, nil }
			t.Cleanup(func() { vmsimExe = old })
			dir := t.TempDir()
			if err := sqlRequests("requests.sql", 600, 5)(dir); err != nil {
				t.Fatal(err)
			}
			w := Workload{Name: "fake", Drive: c.drive, Syscalls: true}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := w.record(ctx, dir, "/usr/bin/true", "lackey", "../fake.vmt", []string{"PATH=/usr/bin:/bin"}, io.Discard)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "workload fake") {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("the driver waited for the test's deadline: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "got.txt"))
			want, _ := os.ReadFile(filepath.Join(dir, "requests.sql"))
			if !bytes.Equal(got, want) {
				t.Errorf("the program read %d bytes of the %d requests", len(got), len(want))
			}
		})
	}
}

// TestWorkloadVersions: every installed workload's program prints a version (the
// manifest's program_version); one not installed is skipped.
func TestWorkloadVersions(t *testing.T) {
	for _, w := range Workloads {
		t.Run(w.Name, func(t *testing.T) {
			path, err := w.program(context.Background())
			if err != nil {
				t.Skip(err)
			}
			args := w.VersionArgs
			if w.Source != "" {
				args = []string{"--version"}
			}
			v, err := versionLine(context.Background(), t.TempDir(), path, args...)
			if err != nil || v == "" {
				t.Errorf("%q, %v", v, err)
			}
		})
	}
}
