package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/vgrecord"
)

// needVMTrace skips a test that needs the vmtrace tracer (--children does) where it
// cannot be built.
func needVMTrace(t *testing.T) {
	t.Helper()
	needValgrind(t)
	if _, err := vgrecord.BuildVMTrace(""); err != nil {
		t.Skipf("vmtrace cannot be built here: %v", err)
	}
}

// forkerC forks N children one after another (argv[1], default 1). It first writes
// where its buffer is ("ADDRESS SIZE"); each child fills the buffer and writes "c"; the
// parent never writes the buffer, and writes "\n" at the end.
const forkerC = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
static char buf[1 << 16];
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1;
	char line[64];
	int k = snprintf(line, sizeof line, "%p %lu\n", (void *)buf, (unsigned long)sizeof buf);
	write(1, line, k);
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0)
			return 1;
		if (p == 0) {
			memset(buf, i + 1, sizeof buf);
			write(1, "c", 1);
			_exit(buf[100] == i + 1 ? 0 : 1);
		}
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 2;
	}
	write(1, "\n", 1);
	return 0;
}
`

// compileC compiles a C program into dir and returns its path.
func compileC(t *testing.T, dir, name, src string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler")
		}
	}
	c := filepath.Join(dir, name+".c")
	os.WriteFile(c, []byte(src), 0o644)
	bin := filepath.Join(dir, name)
	if out, err := exec.Command(cc, "-O1", "-o", bin, c).CombinedOutput(); err != nil {
		t.Fatalf("compiling %s: %v\n%s", name, err, out)
	}
	return bin
}

// readRecords reads every record of the trace at path.
func readRecords(t *testing.T, path string) []traces.Record {
	t.Helper()
	f, err := traces.Open(path, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := traces.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// forkerBuffer parses the forker's first line.
func forkerBuffer(t *testing.T, stdout string) (lo, hi uint64) {
	t.Helper()
	var size uint64
	if _, err := fmt.Sscanf(stdout, "0x%x %d\n", &lo, &size); err != nil {
		t.Fatalf("the forker wrote %q: %v", stdout, err)
	}
	return lo, lo + size
}

// TestRecordForkedChild records a program whose child, forked without exec, fills a
// buffer the parent never writes. With --children the child's stores are in an address
// space of its own, listed as forked; without, the child is not traced at all (with
// either tracer), as the help says.
func TestRecordForkedChild(t *testing.T) {
	needValgrind(t)
	dir := t.TempDir()
	forker := compileC(t, dir, "forker", forkerC)
	tests := []struct {
		name     string
		args     []string
		children bool
	}{
		{"children", []string{"--children"}, true},
		{"alone vmtrace", []string{"--tracer", "vmtrace"}, false},
		{"alone lackey", []string{"--tracer", "lackey"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "alone lackey" {
				needVMTrace(t)
			}
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".vmt")
			code, stdout, stderr := runCLI(append(append([]string{"record", "--data-only", "-o", out}, tt.args...), "--", forker)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lo, hi := forkerBuffer(t, stdout)
			stores := map[traces.ASID]int{}
			spaces := map[traces.ASID]bool{}
			for _, r := range readRecords(t, out) {
				spaces[r.ASID] = true
				if r.Kind.Writes() && r.Addr < hi && r.Addr+uint64(r.Size) > lo {
					stores[r.ASID]++
				}
			}
			if !tt.children {
				if len(stores) != 0 || len(spaces) != 1 {
					t.Errorf("stores into the child's buffer by address space %v, %d address spaces: the child is traced", stores, len(spaces))
				}
				return
			}
			if len(spaces) != 2 || len(stores) != 1 || stores[1] == 0 {
				t.Errorf("%d address spaces, stores into the child's buffer by address space %v: want 2, all by 1", len(spaces), stores)
			}
			if !regexp.MustCompile(`address space 1: pid \d+ \(forked by pid \d+\), `).MatchString(stderr) {
				t.Errorf("the child is not listed as forked:\n%s", stderr)
			}
		})
	}
}

// TestRecordForksWithSyscalls records, with --children and --syscalls, a program that
// forks 20 children one after another, each writing one byte: every child's output is
// in its own address space, the parent's in address space 0.
func TestRecordForksWithSyscalls(t *testing.T) {
	needVMTrace(t)
	dir := t.TempDir()
	forker := compileC(t, dir, "forker", forkerC)
	out := filepath.Join(dir, "f.vmt")
	const n = 20
	code, stdout, stderr := runCLI("record", "--children", "--syscalls", "--data-only", "-o", out, "--", forker, strconv.Itoa(n))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := strings.SplitAfter(stdout, "\n")[0]
	if stdout != first+strings.Repeat("c", n)+"\n" {
		t.Fatalf("the program wrote %q", stdout)
	}
	outputs := map[traces.ASID][]uint32{}
	for _, r := range readRecords(t, out) {
		if r.Kind == traces.Output && r.Addr == 1 {
			outputs[r.ASID] = append(outputs[r.ASID], r.Size)
		}
	}
	if len(outputs) != n+1 || !slices.Equal(outputs[0], []uint32{uint32(len(first)), 1}) {
		t.Fatalf("outputs by address space: %v", outputs)
	}
	for a := traces.ASID(1); a <= n; a++ {
		if !slices.Equal(outputs[a], []uint32{1}) {
			t.Errorf("address space %d wrote %v, want one byte", a, outputs[a])
		}
	}
	if !strings.Contains(stderr, fmt.Sprintf("from %d process(es)", n+1)) {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestRecordKilledBySignal: a program killed by signal N makes vmsim say which signal
// and exit 128+N, as a shell does; the trace up to then is written.
func TestRecordKilledBySignal(t *testing.T) {
	needValgrind(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"TERM", syscall.SIGTERM},
		{"KILL", syscall.SIGKILL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".vmt")
			code, _, stderr := runCLI("record", "-o", out, "--", "sh", "-c", "kill -s "+tt.name+" $$")
			want := fmt.Sprintf("killed by signal %d, %v", int(tt.sig), tt.sig)
			if code != 128+int(tt.sig) || !strings.Contains(stderr, want) || strings.Contains(stderr, "status -1") {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, 128+int(tt.sig), stderr, want)
			}
			if recs := readRecords(t, out); len(recs) < 1000 {
				t.Errorf("the trace holds %d records", len(recs))
			}
		})
	}
}

// TestRecordReproducible records a tiny program twice: the two files are the same, byte
// for byte.
func TestRecordReproducible(t *testing.T) {
	needVMTrace(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"plain", nil},
		{"syscalls", []string{"--syscalls"}},
		{"children", []string{"--children"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var files [][]byte
			for i := range 2 {
				out := filepath.Join(dir, fmt.Sprintf("%s-%d.vmt", tt.name, i))
				if code, _, stderr := runCLI(append(append([]string{"record", "-o", out}, tt.args...), "--", "true")...); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, b)
			}
			if !bytes.Equal(files[0], files[1]) {
				a, b := readRecords(t, filepath.Join(dir, tt.name+"-0.vmt")), readRecords(t, filepath.Join(dir, tt.name+"-1.vmt"))
				for i := range min(len(a), len(b)) {
					if a[i] != b[i] {
						t.Fatalf("two recordings differ: record %d is %v, then %v", i+1, a[i], b[i])
					}
				}
				t.Fatalf("two recordings differ: %d and %d records", len(a), len(b))
			}
		})
	}
}

// descendants lists the processes below pid (this test's own tree only), found through
// each process's parent in /proc/*/stat.
func descendants(pid int) []int {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		if st, ok := procStat(path); ok {
			p, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			parent[p] = st.ppid
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

type procInfo struct {
	state     byte
	ppid      int
	startTime string
}

// procStat reads /proc/PID/stat: "pid (comm) state ppid ... starttime (field 22)".
func procStat(path string) (procInfo, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return procInfo{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return procInfo{state: f[0][0], ppid: ppid, startTime: f[19]}, true
}

// waitGone waits (at most 20 s) for the process pid that started at start to be gone or
// a zombie.
func waitGone(t *testing.T, pid int, start string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, ok := procStat(fmt.Sprintf("/proc/%d/stat", pid))
		if !ok || st.startTime != start || st.state == 'Z' || st.state == 'X' {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL) // the test's own leftover, by id
			t.Fatalf("traced process %d still runs after vmsim ended", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readFifo waits (at most a minute) for what a program writes through the fifo at path.
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

// tracedChild starts `vmsim record --children` (this test binary) in dir on a shell that
// starts `sleep` in the background and writes its pid through a fifo, and returns vmsim
// and the sleep's pid, checked to be in this test's own process tree.
func tracedChild(t *testing.T, dir string, env []string) (*exec.Cmd, string, int) {
	t.Helper()
	fifo := filepath.Join(dir, "pid")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	cmd, errPath := startCLIEnv(t, dir, env, "record", "--children", "-o", "out.vmt", "--", "sh", "-c", `sleep 31.25 & echo $! > "$1"; wait`, "sh", fifo)
	pid, err := strconv.Atoi(readFifo(t, fifo))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(descendants(os.Getpid()), pid) {
		t.Fatalf("the traced sleep, pid %d, is not among this test's processes", pid)
	}
	return cmd, errPath, pid
}

// TestRecordKeepsLiveRecordings: a recording of OUT removes what killed recordings left
// (see TestRecordKilled), but never a live recording's temporary output or socket
// folder, another user's file, or a file named otherwise.
func TestRecordKeepsLiveRecordings(t *testing.T) {
	needVMTrace(t)
	dir, tmp := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	up, release := filepath.Join(dir, "up"), filepath.Join(dir, "go")
	for _, f := range []string{up, release} {
		if err := syscall.Mkfifo(f, 0o600); err != nil {
			t.Skip(err)
		}
	}
	live, _ := startCLIEnv(t, dir, nil, "record", "--children", "-o", "out.vmt", "--", "sh", "-c", `echo up > "$1"; read x < "$2"`, "sh", up, release)
	if s := readFifo(t, up); s != "up" {
		t.Fatalf("the program said %q", s)
	}
	keep := []string{".out.vmt.notdigits.tmp"}
	if os.Getuid() == 0 {
		keep = append(keep, ".out.vmt.12345.tmp") // another user's
	}
	for _, name := range keep {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	if os.Getuid() == 0 {
		os.Chown(filepath.Join(dir, ".out.vmt.12345.tmp"), 65534, 65534)
	}
	before, _ := filepath.Glob(filepath.Join(dir, ".out.vmt.*.tmp"))
	sockets, _ := os.ReadDir(tmp)
	if len(before) != len(keep)+1 || len(sockets) != 1 {
		t.Fatalf("temporary outputs %v, socket folders %v: want the live recording's one of each", before, sockets)
	}
	if code, _, stderr := runCLI("record", "-o", filepath.Join(dir, "out.vmt"), "--", "true"); code != 0 || strings.Contains(stderr, "removed") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after, _ := filepath.Glob(filepath.Join(dir, ".out.vmt.*.tmp"))
	if now, _ := os.ReadDir(tmp); !slices.Equal(before, after) || len(now) != 1 {
		t.Errorf("a recording removed another's files: temporary outputs %v, then %v; socket folders %v, then %v", before, after, sockets, now)
	}
	f, err := os.OpenFile(release, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("go\n")
	f.Close()
	done := make(chan error, 1)
	go func() { done <- live.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the live recording: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the live recording did not end")
	}
	if s := readRecords(t, filepath.Join(dir, "out.vmt")); len(s) < 10000 {
		t.Errorf("out.vmt holds %d records", len(s))
	}
	names := append(slices.Clone(keep), "go", "out.vmt", "up")
	slices.Sort(names)
	onlyFiles(t, dir, names...)
	onlyFiles(t, tmp)
}

// TestRecordKernelWritesFlag records cat of a 256 KiB file with vmtrace: by default the
// trace is version 3, with thread ids and the kernel's writes, and more pages written than
// with --kernel-writes=false (version 2: threads, no kernel writes); lackey records
// neither (version 1), and refuses --kernel-writes.
func TestRecordKernelWritesFlag(t *testing.T) {
	needVMTrace(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, bytes.Repeat([]byte("0123456789abcdef"), 1<<14), 0o644)
	type got struct {
		version uint16
		s       *traces.Summary
	}
	record := func(args ...string) (got, string) {
		t.Helper()
		out := filepath.Join(dir, "cat.vmt")
		code, _, stderr := runCLI(append(append([]string{"record", "--data-only", "-o", out}, args...), "--", "cat", in)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		f, err := traces.Open(out, traces.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		v := f.Reader.(*traces.VMTReader).Header().Version
		s, err := traces.Summarize(f, traces.SummaryOptions{PageSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		return got{v, s}, stderr
	}
	with, stderr := record("--tracer", "vmtrace")
	without, _ := record("--tracer", "vmtrace", "--kernel-writes=false")
	lackey, _ := record("--tracer", "lackey")
	t.Logf("pages written: %d with the kernel's writes (%d only theirs), %d without", with.s.PagesWritten, with.s.KernelOnlyPages, without.s.PagesWritten)
	if with.version != traces.VMTVersionKernel || with.s.KernelWrites == 0 || len(with.s.Threads) != 1 || with.s.Threads[0].Thread != 1 ||
		!strings.Contains(stderr, fmt.Sprintf("(%d of the accesses the kernel's writes)", with.s.KernelWrites)) {
		t.Errorf("default: version %d, %d kernel writes, threads %+v; %s", with.version, with.s.KernelWrites, with.s.Threads, stderr)
	}
	// cat's buffer (128 KiB) is written by the kernel only.
	if with.s.PagesWritten < without.s.PagesWritten+32 || with.s.KernelOnlyPages < 32 {
		t.Errorf("pages written: %d with the kernel's writes (%d only theirs), %d without; want at least cat's 32-page buffer more",
			with.s.PagesWritten, with.s.KernelOnlyPages, without.s.PagesWritten)
	}
	if without.version != traces.VMTVersionThreads || without.s.KernelWrites != 0 || len(without.s.Threads) != 1 {
		t.Errorf("--kernel-writes=false: version %d, %d kernel writes, threads %+v", without.version, without.s.KernelWrites, without.s.Threads)
	}
	if lackey.version != traces.VMTVersion || lackey.s.KernelWrites != 0 || lackey.s.Threads != nil {
		t.Errorf("lackey: version %d, %d kernel writes, threads %+v", lackey.version, lackey.s.KernelWrites, lackey.s.Threads)
	}
	out := filepath.Join(dir, "no.vmt")
	code, stdout, stderr := runCLI("record", "--tracer", "lackey", "--kernel-writes", "-o", out, "--", "true")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "lackey cannot record thread ids or the kernel's writes") {
		t.Errorf("lackey --kernel-writes: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused recording left its output")
	}
}
