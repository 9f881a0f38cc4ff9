package vgrecord

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// compileC builds the C program src with gcc and flags into the test's folder, or skips
// the test without gcc.
func compileC(t *testing.T, name, src string, flags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, name)
	if out, err := exec.Command(gcc, append([]string{"-O1", "-o", exe, c}, flags...)...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return exe
}

// twoThreads runs two threads one after the other, each storing into an array of its own
// (a, then b), and prints the arrays' addresses and sizes. The first is joined before the
// second starts, so valgrind gives the second the first's ThreadId again.
const twoThreads = `#include <pthread.h>
#include <stdio.h>

static volatile long a[512], b[512];

static void *work(void *p) {
	volatile long *x = p;
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < 512; i++)
			x[i] = x[i] + i * r;
	return NULL;
}

int main(void) {
	pthread_t ta, tb;
	pthread_create(&ta, NULL, work, (void *)a);
	pthread_join(ta, NULL);
	pthread_create(&tb, NULL, work, (void *)b);
	pthread_join(tb, NULL);
	printf("a=%p b=%p bytes=%zu\n", (void *)a, (void *)b, sizeof a);
	return 0;
}
`

// TestRecordThreads records a program whose two threads each write an array of their
// own, one after the other, through a pipe and through a connection (Children), and
// checks that every access to an array is one thread's: a's thread 2, b's thread 3
// (numbered in the order of creation, although valgrind's ThreadId of the two is the
// same), the main thread 1; and that without Threads every record is of thread 0, as
// before.
func TestRecordThreads(t *testing.T) {
	needRecorder(t)
	prog := compileC(t, "two", twoThreads, "-pthread")
	for _, tt := range []struct {
		name              string
		children, threads bool
	}{
		{"pipe", false, true},
		{"children", true, true},
		{"pipe, no threads", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			w := &collectWriter{}
			if _, err := RecordProgram(context.Background(), w, RecordOptions{
				Program: prog, DataOnly: true, Children: tt.children, Threads: tt.threads, Tracer: TracerVMTrace, Stdout: &stdout, Stderr: os.Stderr}); err != nil {
				t.Fatal(err)
			}
			var a, b, size uint64
			if _, err := fmt.Sscanf(stdout.String(), "a=%v b=%v bytes=%d", &a, &b, &size); err != nil {
				t.Fatalf("program's output %q: %v", stdout.String(), err)
			}
			seen := map[traces.TID]int{}     // accesses by thread
			owner := map[uint64]traces.TID{} // the thread of the accesses to each array
			count := map[uint64]int{}        // and how many
			for _, r := range w.recs {
				seen[r.Thread]++
				for _, base := range []uint64{a, b} {
					if r.Addr >= base && r.Addr < base+size {
						if th, ok := owner[base]; ok && th != r.Thread {
							t.Fatalf("array at %#x accessed by threads %d and %d", base, th, r.Thread)
						}
						owner[base] = r.Thread
						count[base]++
					}
				}
			}
			if count[a] < 512*20 || count[b] < 512*20 {
				t.Fatalf("%d and %d accesses to the arrays, want at least %d each", count[a], count[b], 512*20)
			}
			if !tt.threads {
				if len(seen) != 1 || seen[0] == 0 {
					t.Errorf("without Threads: accesses by thread %v, want all of thread 0", seen)
				}
				return
			}
			if seen[0] != 0 || seen[1] == 0 || len(seen) != 3 {
				t.Errorf("accesses by thread %v, want threads 1 (main), and two others, none of thread 0", seen)
			}
			if owner[a] != 2 || owner[b] != 3 {
				t.Errorf("array a written by thread %d, b by %d: want 2 and 3", owner[a], owner[b])
			}
		})
	}
}

// TestThreadsNeedVMTrace: lackey is told of neither threads nor the kernel's writes, so
// asking for them with lackey is an error, not a trace silently without them.
func TestThreadsNeedVMTrace(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  RecordOptions
	}{
		{"threads", RecordOptions{Program: "true", Tracer: TracerLackey, Threads: true}},
		{"kernel writes", RecordOptions{Program: "true", Tracer: TracerLackey, KernelWrites: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ResolveTracer(tt.opt); err == nil || !strings.Contains(err.Error(), "lackey cannot record thread ids or the kernel's writes") {
				t.Errorf("ResolveTracer: %v", err)
			}
			if _, err := RecordProgram(context.Background(), &collectWriter{}, tt.opt); err == nil || (!strings.Contains(err.Error(), "lackey cannot") && err != ErrNoValgrind) {
				t.Errorf("RecordProgram: %v", err)
			}
		})
	}
}

// forkFromThread runs a second thread, which forks a child that writes and exits.
const forkFromThread = `#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long a[64];

static void *work(void *p) {
	for (int i = 0; i < 64; i++)
		a[i] += i;
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < 64; i++)
			a[i] += 2;
		_exit(0);
	}
	waitpid(c, NULL, 0);
	return NULL;
}

int main(void) {
	pthread_t t;
	pthread_create(&t, NULL, work, NULL);
	pthread_join(t, NULL);
	return 0;
}
`

// TestRecordThreadsForkedChild: with Children, a forked child numbers its threads
// afresh: its only thread is 1, although the parent's thread 2 forked it.
func TestRecordThreadsForkedChild(t *testing.T) {
	needRecorder(t)
	prog := compileC(t, "fork", forkFromThread, "-pthread")
	w := &collectWriter{}
	if _, err := RecordProgram(context.Background(), w, RecordOptions{
		Program: prog, DataOnly: true, Children: true, Threads: true, Tracer: TracerVMTrace, Stderr: os.Stderr}); err != nil {
		t.Fatal(err)
	}
	type key struct {
		asid   traces.ASID
		thread traces.TID
	}
	seen := map[key]int{}
	for _, r := range w.recs {
		seen[key{r.ASID, r.Thread}]++
	}
	if len(seen) != 3 || seen[key{0, 1}] == 0 || seen[key{0, 2}] == 0 || seen[key{1, 1}] == 0 {
		t.Errorf("accesses by (address space, thread): %v, want (0, 1), (0, 2) and (1, 1)", seen)
	}
}
