package traces

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
	// Children traces every process the program starts (valgrind --trace-children=yes),
	// each in an address space of its own, numbered in the order they start. A process
	// that forks without exec is not traced after the fork (--child-silent-after-fork).
	Children bool
	// Syscalls records the program's I/O system calls (valgrind --trace-syscalls=yes) in
	// their place among the accesses: each successful read-family call an Input record,
	// each write-family call an Output record (channel = the file descriptor, bytes = the
	// call's result), in the process's address space. See LackeyReader.
	Syscalls bool
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
	// Records counts every record written: Accesses plus the I/O records (IO).
	Records, Accesses, IO int64
	// Truncated is true when MaxRefs stopped the program before it finished.
	Truncated bool
	// ExitCode is the program's exit status (-1 when killed, as with MaxRefs).
	ExitCode int
	// Processes lists the traced processes, in address-space order. With Children, a
	// process that executed another program appears twice with the same PID: once for
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
	ASID    ASID
	PID     int
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

// recording is the state shared by the goroutines reading lackey's output.
type recording struct {
	opt      RecordOptions
	w        Writer
	mu       sync.Mutex // guards w, res and err
	res      RecordResult
	err      error
	accesses atomic.Int64
	stop     context.CancelFunc // cancels the context valgrind runs under
	pgid     atomic.Int64       // valgrind's process group, once started
}

// kill ends valgrind and every process it started, at once (before the output sockets
// close, lest a process fall back to writing its trace on standard error), and cancels.
func (rec *recording) kill() {
	if pg := rec.pgid.Load(); pg > 0 {
		syscall.Kill(-int(pg), syscall.SIGKILL)
	}
	rec.stop()
}

// RecordProgram runs opt.Program under valgrind (vmtrace or lackey, as ResolveTracer
// decides unless opt says) and writes every access it makes to w, streaming the tool's
// output through a pipe (or, with Children, a socket per process) without a temporary
// file. It does not close w.
func RecordProgram(ctx context.Context, w Writer, opt RecordOptions) (*RecordResult, error) {
	valgrind, err := lookValgrind(opt.Valgrind)
	if err != nil {
		return nil, err
	}
	if opt.Tracer != TracerLackey && opt.ToolDir == "" {
		if opt, _, err = ResolveTracer(opt); err != nil {
			return nil, err
		}
	}
	vmtrace := opt.Tracer == TracerVMTrace
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recording{opt: opt, w: w, stop: cancel}
	args := []string{"--tool=lackey", "--trace-mem=yes"}
	if vmtrace {
		args = []string{"--tool=vmtrace"}
	}
	if opt.Syscalls {
		args = append(args, "--trace-syscalls=yes")
	}

	var pipeR *os.File
	var ln net.Listener
	var conns sync.WaitGroup
	if opt.Children {
		// One connection per process: valgrind's --log-socket. Each process is an
		// address space, in the order the connections come in.
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listening for valgrind's output: %w", err)
		}
		defer ln.Close()
		args = append(args, "--trace-children=yes", "--child-silent-after-fork=yes", "--log-socket="+ln.Addr().String())
	} else {
		r, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		growPipe(r, recordPipeSize)
		pipeR = r
		defer r.Close()
		defer pw.Close()
		args = append(args, "--trace-children=no", "--log-fd=3")
		if vmtrace {
			// The trace and valgrind's log share the pipe: vmtrace writes its lines out
			// before each system call, so that --trace-syscalls lines fall in place.
			args = append(args, "--vmtrace-fd=4")
		}
		cmd := rec.command(ctx, valgrind, append(args, append([]string{"--", opt.Program}, opt.Args...)...))
		cmd.ExtraFiles = []*os.File{pw}
		name := "lackey output"
		if vmtrace {
			cmd.ExtraFiles = append(cmd.ExtraFiles, pw)
			cmd.Env = append(os.Environ(), "VALGRIND_LIB="+opt.ToolDir)
			name = "vmtrace output"
		}
		tail := &tailReader{r: pipeR}
		res, err := rec.run(cmd, func() {
			pw.Close() // the child has its copy; ours must go for the reader to see EOF
			rec.consume(tail, 0, name)
		}, nil)
		if err == nil && !res.Truncated && res.ExitCode >= 0 && !tail.hasSummary() {
			res.UntracedExec = true
		}
		return res, err
	}
	cmd := rec.command(ctx, valgrind, append(args, append([]string{"--", opt.Program}, opt.Args...)...))
	var next ASID
	return rec.run(cmd, func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				break
			}
			asid := next
			next++
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				rec.consumeProcess(c, asid)
			}()
		}
		conns.Wait()
	}, func() {
		// The program has exited, and with it every process that connected before; stop
		// listening, and let consume finish reading what they wrote.
		ln.Close()
	})
}

func (rec *recording) command(ctx context.Context, valgrind string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, valgrind, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = rec.opt.Stdin, rec.opt.Stdout, rec.opt.Stderr
	// valgrind and every process it starts share a process group of their own, so that
	// stopping the recording (MaxRefs, an error, a cancelled ctx) ends them all.
	cmd.SysProcAttr = recordProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// run starts cmd, runs consume (which reads lackey's output until it ends) alongside,
// waits for both, and then runs after.
func (rec *recording) run(cmd *exec.Cmd, consume func(), after func()) (*RecordResult, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting valgrind: %w", err)
	}
	rec.pgid.Store(int64(cmd.Process.Pid))
	done := make(chan struct{})
	go func() { defer close(done); consume() }()
	var doneProgress chan struct{}
	if rec.opt.Progress != nil {
		doneProgress = make(chan struct{})
		go rec.progress(done, doneProgress)
	}
	werr := cmd.Wait()
	if after != nil {
		after()
	}
	<-done
	if doneProgress != nil {
		<-doneProgress
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res := rec.res
	res.Processes = slices.Clone(res.Processes)
	slices.SortFunc(res.Processes, func(a, b TracedProcess) int { return cmp.Compare(a.ASID, b.ASID) })
	res.ExitCode = cmd.ProcessState.ExitCode()
	if rec.err != nil {
		return nil, rec.err
	}
	if werr != nil && !res.Truncated {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			return nil, fmt.Errorf("valgrind: %w", werr)
		}
		if res.Accesses == 0 {
			return nil, fmt.Errorf("valgrind could not run %s (exit status %d, no accesses recorded; see its messages above)", rec.opt.Program, res.ExitCode)
		}
	}
	return &res, nil
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

var pidLine = regexp.MustCompile(`^==(\d+)== (?:Command: (.*))?`)

// consumeProcess reads one process's log from a socket: valgrind's preamble names the
// process, then lackey's lines follow.
func (rec *recording) consumeProcess(c io.Reader, asid ASID) {
	br := bufio.NewReaderSize(c, 64<<10)
	p := TracedProcess{ASID: asid}
	// The preamble's lines all start with ==PID==; "Command:" names the program.
	for {
		line, err := br.Peek(1)
		if err != nil || len(line) == 0 || line[0] != '=' {
			break
		}
		l, err := br.ReadString('\n')
		if m := pidLine.FindStringSubmatch(strings.TrimRight(l, "\n")); m != nil {
			p.PID, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				p.Command = m[2]
			}
		}
		if err != nil {
			break
		}
	}
	rec.mu.Lock()
	rec.res.Processes = append(rec.res.Processes, p)
	rec.mu.Unlock()
	rec.consume(br, asid, fmt.Sprintf("lackey output of process %d", p.PID))
}

// consume parses lackey's output from r and writes its accesses in address space asid.
func (rec *recording) consume(r io.Reader, asid ASID, name string) {
	lr := NewLackeyReader(r, name, false)
	buf := make([]Record, 4096)
	for {
		n, err := lr.Read(buf)
		out := buf[:0]
		for _, x := range buf[:n] {
			if (rec.opt.DataOnly && x.Kind == Fetch) || (!rec.opt.Syscalls && !x.Kind.IsAccess()) {
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
func (rec *recording) write(recs []Record) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.err != nil || rec.res.Truncated {
		return false
	}
	accesses := int64(0)
	for i := range recs {
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
	rec.res.IO += int64(len(recs)) - accesses
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

// recordPipeSize is the pipe buffer asked for lackey's output. Valgrind writes each line
// with a write(2) of its own; with the default 64 KiB pipe, vmsim's reader drains it a few
// lines at a time and valgrind wakes it at almost every write. With 1 MiB valgrind writes
// on while vmsim parses, and each read takes hundreds of KiB into the scanner's 1 MiB
// buffer (measured on the stencil corpus program: 4.2 s instead of 5.0 s, median of 5).
const recordPipeSize = 1 << 20

// tailReader keeps the last bytes read through it, where lackey's closing summary is.
type tailReader struct {
	r    io.Reader
	tail []byte
}

const tailKeep = 4 << 10

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= tailKeep {
		t.tail = append(t.tail[:0], p[n-tailKeep:n]...)
	} else if n > 0 {
		t.tail = append(t.tail, p[:n]...)
		if len(t.tail) > 2*tailKeep {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailKeep:]...)
		}
	}
	return n, err
}

// hasSummary reports whether the stream ended with lackey's summary, which ends with
// "==PID== Exit code: N".
func (t *tailReader) hasSummary() bool { return strings.Contains(string(t.tail), "== Exit code:") }
