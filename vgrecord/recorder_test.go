package vgrecord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vmsim/vmsim/traces"
)

// needRecorder skips a test that records under valgrind where valgrind is missing, with
// -short, or where vmtrace cannot be built (--children needs it).
func needRecorder(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	if testing.Short() {
		t.Skip("records under valgrind; skipped with -short")
	}
	if _, err := BuildVMTrace(""); err != nil {
		t.Skipf("vmtrace cannot be built here: %v", err)
	}
}

// collectWriter keeps the records written to it.
type collectWriter struct {
	mu   sync.Mutex
	recs []traces.Record
}

func (c *collectWriter) Write(recs []traces.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, recs...)
	return nil
}

func (c *collectWriter) Close() error { return nil }

// descendants lists the processes below pid (this test's own tree only), found through
// each process's parent in /proc/*/stat.
func descendants(pid int) []int {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 2 {
			continue
		}
		p, err1 := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		pp, err2 := strconv.Atoi(string(f[1]))
		if err1 == nil && err2 == nil {
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// mkfifos makes fifos named names in dir.
func mkfifos(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var paths []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skip(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// readFifo waits (at most a minute) for a line written to the fifo at path.
func readFifo(t *testing.T, path string) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(path) // returns when the writer closes
		got <- string(b)
	}()
	select {
	case s := <-got:
		return strings.TrimSpace(s)
	case <-time.After(time.Minute):
		t.Fatalf("nothing came through %s", path)
		return ""
	}
}

// writeFifo writes s to the fifo at path, in the background: the reader is the traced
// program, which may be gone. At the test's end a reader of the test's own lets a
// writer still waiting go.
func writeFifo(t *testing.T, path, s string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.WriteString(s)
			f.Close()
		}
	}()
	t.Cleanup(func() {
		if r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			r.Close()
		}
	})
}

// recorderEndpoint finds, among this test's own processes, valgrind's command line and
// returns the address it sends its output to: a Unix socket (--vmtrace-socket) or a TCP
// port (--log-socket, as vmsim once used).
func recorderEndpoint(t *testing.T) (network, addr string) {
	t.Helper()
	for _, pid := range descendants(os.Getpid()) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		for _, a := range strings.Split(string(b), "\x00") {
			if s, ok := strings.CutPrefix(a, "--vmtrace-socket="); ok {
				return "unix", s
			}
			if s, ok := strings.CutPrefix(a, "--log-socket="); ok {
				return "tcp", s
			}
		}
	}
	t.Fatal("no valgrind process of this test names where its output goes")
	return "", ""
}

// TestRecordRefusesStrangers plays a local attacker against a recording with Children:
// while the traced program waits, connections that are not tracees (no key, a wrong key
// with a fake process and a fake store, a silent one held open, one closed at once, as a
// port scan does, and garbage) reach the recorder. None may add a process or a record,
// abort the recording, or hold it up once the program is done; and the socket must be in
// a folder only the user can enter.
func TestRecordRefusesStrangers(t *testing.T) {
	needRecorder(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	fifos := mkfifos(t, t.TempDir(), "up", "go")
	w := &collectWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		res *RecordResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := RecordProgram(ctx, w, RecordOptions{Program: "sh", Children: true, DataOnly: true,
			Args: []string{"-c", `echo up > "$1"; read x < "$2"`, "sh", fifos[0], fifos[1]}})
		done <- result{res, err}
	}()
	if s := readFifo(t, fifos[0]); s != "up" {
		t.Fatalf("the program said %q", s)
	}
	network, addr := recorderEndpoint(t)
	if network != "unix" {
		t.Errorf("the recorder listens on %s %s, which any local user can reach", network, addr)
	} else {
		fi, err := os.Lstat(filepath.Dir(addr))
		st, _ := fi.Sys().(*syscall.Stat_t)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || int(st.Uid) != os.Getuid() {
			t.Errorf("the socket's folder %s: %v, %v: want a folder of the user's, mode 0700", filepath.Dir(addr), fi.Mode(), err)
		}
	}
	fake := " S 0000dead0000,8\n"
	attacks := []struct {
		name    string
		payload string
		hold    bool
	}{
		{"fake lackey process", "==4242== Command: evil\n" + fake, false},
		{"wrong key", "vmtrace1 " + strings.Repeat("0", 64) + "\nprocess 4242 1 0 evil\n" + fake, false},
		{"short key", "vmtrace1 12\nprocess 4242 1 0 evil\n" + fake, false},
		{"silent, held open", "", true},
		{"scan", "", false},
		{"garbage", strings.Repeat("\x00\xff garbage\n", 10000), false},
	}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for _, a := range attacks {
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Logf("%s: refused at once: %v", a.name, err)
			continue
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(a.payload))
		if a.hold {
			held = append(held, c)
		} else {
			c.Close()
		}
	}
	writeFifo(t, fifos[1], "go\n")
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		for _, c := range held {
			c.Close()
		}
		cancel()
		t.Fatal("the recording did not end after the program did: a stranger's connection holds it")
	}
	if r.err != nil {
		t.Fatalf("the recording failed: %v", r.err)
	}
	if r.res.ExitCode != 0 || len(r.res.Processes) != 1 || r.res.Processes[0].ASID != 0 || !strings.HasPrefix(r.res.Processes[0].Command, "sh ") {
		t.Errorf("exit %d, processes %+v: want the one sh", r.res.ExitCode, r.res.Processes)
	}
	for _, rec := range w.recs {
		if rec.ASID != 0 || rec.Addr == 0xdead0000 {
			t.Fatalf("an injected record: %v", rec)
		}
	}
	if r.res.Accesses < 10000 {
		t.Errorf("only %d accesses of sh recorded", r.res.Accesses)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("the recording left %v in its temporary folder", es)
	}
}

// TestRecordChildrenMatchesAlone records one process (cat copying a file, with its
// system calls) alone and with Children: the processes are the same, so the records must
// be too, the I/O records that vmtrace writes with Children (--vmtrace-syscalls) in the
// same places as those valgrind's --trace-syscalls gives alone.
func TestRecordChildrenMatchesAlone(t *testing.T) {
	needRecorder(t)
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat")
	}
	in := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(in, bytes.Repeat([]byte("0123456789"), 1000), 0o644)
	record := func(children bool) []traces.Record {
		w := &collectWriter{}
		var out bytes.Buffer
		res, err := RecordProgram(context.Background(), w, RecordOptions{Program: cat, Args: []string{in},
			Children: children, Syscalls: true, Stdout: &out})
		if err != nil || res.ExitCode != 0 || out.Len() != 10000 {
			t.Fatalf("children %v: %v, %+v, %d bytes out", children, err, res, out.Len())
		}
		return w.recs
	}
	alone, children := record(false), record(true)
	io := 0
	for _, r := range alone {
		if r.Kind.IsIO() {
			io++
		}
	}
	if io < 3 || len(alone) < 100000 {
		t.Fatalf("alone: %d records, %d of them I/O", len(alone), io)
	}
	if len(alone) != len(children) {
		t.Fatalf("alone %d records, with children %d", len(alone), len(children))
	}
	for i := range alone {
		// Alone, valgrind's log holds file descriptor 3 (--log-fd=3), so the program's
		// files are one number higher.
		if a := alone[i]; a.Kind.IsIO() && a.Addr > 3 {
			alone[i].Addr--
		}
		if alone[i] != children[i] {
			t.Fatalf("record %d: alone %v, with children %v", i+1, alone[i], children[i])
		}
	}
}

// TestProcessLine checks the parsing of vmtrace's line naming a connection's process.
func TestProcessLine(t *testing.T) {
	for _, tt := range []struct {
		name, line string
		want       TracedProcess
		bad        bool
	}{
		{"program", `process 12 7 0 sh -c echo\ hi`, TracedProcess{PID: 12, Parent: 7, Command: `sh -c echo\ hi`}, false},
		{"forked", "process 13 12 1 sh", TracedProcess{PID: 13, Parent: 12, Forked: true, Command: "sh"}, false},
		{"no command", "process 13 12 0", TracedProcess{PID: 13, Parent: 12}, false},
		{"not a process line", "==13== Command: sh", TracedProcess{}, true},
		{"bad pid", "process x 12 0 sh", TracedProcess{}, true},
		{"bad forked", "process 13 12 2 sh", TracedProcess{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseProcessLine(tt.line)
			if (err != nil) != tt.bad || (!tt.bad && p != tt.want) {
				t.Errorf("got %+v, %v", p, err)
			}
		})
	}
}

// TestRemoveStaleRecordings: a socket folder of a recording killed outright is removed;
// a live recording's (its key locked), a young folder still being set up, and folders
// named otherwise are left alone.
func TestRemoveStaleRecordings(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mk := func(name string, key bool) string {
		dir := filepath.Join(tmp, name)
		os.Mkdir(dir, 0o700)
		if key {
			os.WriteFile(filepath.Join(dir, "key"), []byte("k\n"), 0o600)
		}
		return dir
	}
	stale := mk(channelPrefix+"123", true)
	old := mk("."+channelPrefix+"new-456", false)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)
	young := mk("."+channelPrefix+"new-789", false)
	other := mk("vmsim-record-notdigits", true)
	live, err := openChannel()
	if err != nil {
		t.Fatal(err)
	}
	defer live.close()
	removed := RemoveStaleRecordings()
	slices.Sort(removed)
	if want := []string{old, stale}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, dir := range []string{young, other, live.dir} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
	for _, dir := range []string{stale, old} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there", dir)
		}
	}
}
