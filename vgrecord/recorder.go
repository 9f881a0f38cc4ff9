package vgrecord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmsim/vmsim/traces"
)

// progressEvery is how often a recording reports progress.
const progressEvery = 500 * time.Millisecond

// RecordOptions says what to record and how.
type RecordOptions struct {
	Program string   // the program to run under valgrind
	Args    []string // its arguments
	// DataOnly drops instruction fetches: the trace holds loads, stores and modifies.
	DataOnly bool
	// MaxRefs stops the program once this many accesses are recorded (0: no limit).
	MaxRefs int64
	// Children traces every process of the recording (valgrind --trace-children=yes),
	// each in an address space of its own, numbered in the order they start: a child
	// forked without exec gets one from the fork on, and a process that executes another
	// program a new one from the exec on. Each process writes on a connection of its own
	// to a Unix socket in a folder only the user can enter, and presents the recording's
	// secret key first; any other connection is refused. It needs the vmtrace tracer.
	// Without Children only the program's own process is traced: a child it forks falls
	// silent (valgrind --child-silent-after-fork=yes), and an exec is not followed.
	Children bool
	// Syscalls records the program's I/O system calls in their place among the accesses:
	// each successful read-family call an Input record, each write-family call an Output
	// record (channel = the file descriptor, bytes = the call's result), in the process's
	// address space. Without Children valgrind writes them (--trace-syscalls=yes); with
	// Children vmtrace does, in the same form. See LackeyReader.
	Syscalls bool
	// Threads records which thread of its process makes each record (Record.Thread),
	// numbered in the order the process creates them: 1 for its first thread (a forked
	// child's only thread too), 2 for the first it creates, and so on, never twice in a
	// process (valgrind's own ThreadId of an exited thread goes to the next one created).
	// Valgrind runs one thread of a process at a
	// time, switching at system calls and every so many blocks, so the interleaving is its
	// scheduler's, coarse. Without Threads every record is of thread 0.
	//
	// KernelWrites records the kernel's writes into the program's memory (a system call's
	// memory output, such as the buffer a read fills, and the signal frames valgrind pushes
	// where the kernel would) as writes marked as the kernel's (Record.Kernel), in the
	// calling thread, in 4 KiB-aligned pieces, just before the call's I/O record (with
	// Syscalls). They are accesses like the program's (MaxRefs counts them, DataOnly keeps
	// them).
	//
	// Both need vmtrace: lackey is told of neither. A trace with them needs a writer
	// that carries them (traces.VMTOptions Threads and Kernel).
	Threads, KernelWrites bool
	// Valgrind is the valgrind command ("valgrind" looked up on PATH when empty).
	Valgrind string
	// Tracer is the valgrind tool that records: TracerAuto (or ""), TracerVMTrace or
	// TracerLackey; ToolDir is vmtrace's folder once ResolveTracer has built it.
	Tracer, ToolDir string
	// The program's standard streams (nil: none).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Progress, when set, is called every so often (from another goroutine) with the
	// accesses recorded so far, and once more at the end.
	Progress func(accesses int64)
}

// RecordResult says what a recording did.
type RecordResult struct {
	// Records counts every record written: Accesses, the I/O records (IO) and the
	// checkpoint records (Checkpoints).
	Records, Accesses, IO int64
	// KernelWrites counts the accesses that are the kernel's writes (with
	// RecordOptions.KernelWrites), among Accesses.
	KernelWrites int64
	// Checkpoints counts the checkpoint records: the program's calls of the checkpoint
	// library of package validate (ckpt_checkpoint), which vmtrace writes in place among
	// the accesses (lackey does not see them: 0).
	Checkpoints int64
	// Truncated is true when MaxRefs stopped the program before it finished.
	Truncated bool
	// ExitCode is the program's exit status (-1 when killed by a signal, as with MaxRefs).
	ExitCode int
	// Signal is the signal that killed the program, or 0 when it exited.
	Signal syscall.Signal
	// Processes lists the traced processes, in address-space order (with Children only).
	// A process that executed another program appears twice with the same PID: once for
	// the program before the exec, once for the program after.
	Processes []TracedProcess
	// UntracedExec is true when, without Children, the program replaced itself with
	// another program (exec, as a shell wrapper does) that valgrind did not follow: the
	// trace holds only the accesses before the exec. It is seen from lackey's closing
	// summary ("Exit code:"), which only a program that exits under valgrind prints.
	UntracedExec bool
}

// TracedProcess is one process of a recording.
type TracedProcess struct {
	ASID traces.ASID
	PID  int
	// Parent is the process's parent's PID when it started.
	Parent int
	// Forked is true for a child forked without exec: Command is then its parent's.
	Forked  bool
	Command string
}

// ErrNoValgrind is returned when valgrind cannot be found.
var ErrNoValgrind = errors.New("valgrind not found: vmsim record runs the program under valgrind's lackey tool; install valgrind (for example `apt-get install valgrind`) or name it with --valgrind")

// ValgrindVersion returns the version valgrind reports, such as "valgrind-3.19.0".
func ValgrindVersion(valgrind string) (string, error) {
	path, err := lookValgrind(valgrind)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func lookValgrind(valgrind string) (string, error) {
	if valgrind == "" {
		valgrind = "valgrind"
	}
	path, err := exec.LookPath(valgrind)
	if err != nil {
		return "", ErrNoValgrind
	}
	return path, nil
}

// recording is the state shared by the goroutines reading the tool's output.
type recording struct {
	opt      RecordOptions
	w        traces.Writer
	mu       sync.Mutex // guards w, res and err
	res      RecordResult
	err      error
	accesses atomic.Int64
	stop     context.CancelFunc // cancels the context valgrind runs under
	pgid     atomic.Int64       // valgrind's process group, once started
	guard    *guard             // kills the group when vmsim dies; nil without sh
}

// kill ends valgrind and every process it started, at once (before the output
// connections close), and cancels.
func (rec *recording) kill() {
	if pg := rec.pgid.Load(); pg > 0 {
		syscall.Kill(-int(pg), syscall.SIGKILL)
	}
	rec.stop()
}

// RecordProgram runs opt.Program under valgrind (vmtrace or lackey, as ResolveTracer
// decides unless opt says) and writes every access it makes to w, streaming the tool's
// output through a pipe (or, with Children, a connection per process) without a
// temporary file. It does not close w.
//
// valgrind and every process it starts run in a process group of their own, which a
// small guard process (sh) kills when vmsim dies, however it dies; valgrind itself also
// dies with vmsim (Pdeathsig on Linux). A process that leaves the group (setsid) is not
// reached that way, but with Children it dies at its next write, having nobody to write
// to.
func RecordProgram(ctx context.Context, w traces.Writer, opt RecordOptions) (*RecordResult, error) {
	valgrind, err := lookValgrind(opt.Valgrind)
	if err != nil {
		return nil, err
	}
	if opt.Tracer != TracerLackey && opt.ToolDir == "" {
		if opt, _, err = ResolveTracer(opt); err != nil {
			return nil, err
		}
	}
	if opt.Children && opt.Tracer != TracerVMTrace {
		return nil, errChildrenLackey
	}
	if (opt.Threads || opt.KernelWrites) && opt.Tracer != TracerVMTrace {
		return nil, errThreadsLackey
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recording{opt: opt, w: w, stop: cancel}
	if opt.Children {
		return rec.recordChildren(ctx, valgrind)
	}
	return rec.recordPipe(ctx, valgrind)
}

func (rec *recording) progress(done <-chan struct{}, out chan<- struct{}) {
	defer close(out)
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			rec.opt.Progress(rec.accesses.Load())
			return
		case <-t.C:
			rec.opt.Progress(rec.accesses.Load())
		}
	}
}

// consume parses lackey's (or vmtrace's) output from r and writes its accesses, its
// checkpoint records and, with Syscalls, its I/O records in address space asid.
func (rec *recording) consume(r io.Reader, asid traces.ASID, name string) {
	lr := traces.NewLackeyReader(r, name, false)
	buf := make([]traces.Record, 4096)
	for {
		n, err := lr.Read(buf)
		out := buf[:0]
		for _, x := range buf[:n] {
			if (rec.opt.DataOnly && x.Kind == traces.Fetch) || (!rec.opt.Syscalls && x.Kind.IsIO()) {
				continue
			}
			x.ASID = asid
			out = append(out, x)
		}
		if !rec.write(out) {
			return // valgrind is being stopped; closing our end ends its other processes
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			rec.fail(err)
			return
		}
	}
}

// write appends records to the trace; it returns false once the recording is over (an
// error, or MaxRefs reached).
func (rec *recording) write(recs []traces.Record) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.err != nil || rec.res.Truncated {
		return false
	}
	accesses, checkpoints, kernel := int64(0), int64(0), int64(0)
	for i := range recs {
		if recs[i].Kernel {
			kernel++
		}
		if recs[i].Kind == traces.Checkpoint {
			checkpoints++
		}
		if recs[i].Kind.IsAccess() {
			accesses++
			if m := rec.opt.MaxRefs; m > 0 && rec.res.Accesses+accesses == m {
				// The trace ends with access m: what comes after it is not kept.
				recs = recs[:i+1]
				rec.res.Truncated = true
				break
			}
		}
	}
	if err := rec.w.Write(recs); err != nil {
		rec.err = err
		rec.kill()
		return false
	}
	rec.res.Records += int64(len(recs))
	rec.res.Accesses += accesses
	rec.res.Checkpoints += checkpoints
	rec.res.KernelWrites += kernel
	rec.res.IO += int64(len(recs)) - accesses - checkpoints
	rec.accesses.Store(rec.res.Accesses)
	if rec.res.Truncated {
		rec.kill() // the trace is as long as asked
		return false
	}
	return true
}

func (rec *recording) fail(err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.err == nil && !rec.res.Truncated {
		rec.err = err
		rec.kill()
	}
}
