package traces

import (
	"bufio"
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
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
	ASID ASID
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
	w        Writer
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
	if opt.Children && opt.Tracer != TracerVMTrace {
		return nil, errChildrenLackey
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recording{opt: opt, w: w, stop: cancel}
	if opt.Children {
		return rec.recordChildren(ctx, valgrind)
	}
	return rec.recordPipe(ctx, valgrind)
}

// recordPipe records the program's own process through a pipe.
func (rec *recording) recordPipe(ctx context.Context, valgrind string) (*RecordResult, error) {
	opt := rec.opt
	vmtrace := opt.Tracer == TracerVMTrace
	args := []string{"--tool=lackey", "--trace-mem=yes"}
	if vmtrace {
		args = []string{"--tool=vmtrace", "--vmtrace-fixed-random=yes"}
	}
	// No gdbserver: its fifos in the temporary folder would outlive a killed recording.
	args = append(args, "--vgdb=no")
	if opt.Syscalls {
		args = append(args, "--trace-syscalls=yes")
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	growPipe(r, recordPipeSize)
	defer r.Close()
	defer pw.Close()
	// A child forked without exec falls silent: it is not the program's process.
	args = append(args, "--trace-children=no", "--child-silent-after-fork=yes", "--log-fd=3")
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
	tail := &tailReader{r: r}
	if err := rec.start(cmd); err != nil {
		return nil, err
	}
	pw.Close() // the child has its copy; ours must go for the reader to see EOF
	done := make(chan struct{})
	go func() { defer close(done); rec.consume(tail, 0, name) }()
	res, err := rec.finish(cmd, done, nil)
	if err == nil && !res.Truncated && res.ExitCode >= 0 && !tail.hasSummary() {
		res.UntracedExec = true
	}
	return res, err
}

// recordChildren records every process of the program, each on a connection of its own.
func (rec *recording) recordChildren(ctx context.Context, valgrind string) (*RecordResult, error) {
	opt := rec.opt
	ch, err := openChannel()
	if err != nil {
		return nil, err
	}
	defer ch.close()
	args := []string{"--tool=vmtrace", "-q", "--vgdb=no", "--trace-children=yes",
		"--vmtrace-socket=" + ch.sock, "--vmtrace-key=" + ch.keyPath, "--vmtrace-fixed-random=yes"}
	if opt.Syscalls {
		args = append(args, "--vmtrace-syscalls=yes")
	}
	cmd := rec.command(ctx, valgrind, append(args, append([]string{"--", opt.Program}, opt.Args...)...))
	cmd.Env = append(os.Environ(), "VALGRIND_LIB="+opt.ToolDir)
	t := &tracees{rec: rec, ch: ch, pending: map[*net.UnixConn]struct{}{}}
	t.cond = sync.NewCond(&t.mu)
	if err := rec.start(cmd); err != nil {
		return nil, err
	}
	accepting := make(chan struct{})
	go func() { defer close(accepting); t.accept() }()
	done := make(chan struct{})
	return rec.finish(cmd, done, func() {
		// The program has exited. The recording ends when no process of it is left:
		// none connected, and none alive in the process group (one that is executing
		// another program has closed its connection and not yet opened the next).
		t.mu.Lock()
		for {
			for t.open > 0 {
				t.cond.Wait()
			}
			if !groupAlive(cmd.Process.Pid) {
				break
			}
			t.mu.Unlock()
			time.Sleep(groupPoll)
			t.mu.Lock()
		}
		t.mu.Unlock()
		ch.ln.Close()
		<-accepting
		// Whatever connected and has not yet shown the key is no tracee (every tracee
		// shows it at once): it gets a moment, not the power to hold the recording.
		t.mu.Lock()
		for c := range t.pending {
			c.SetReadDeadline(time.Now().Add(lastKeyWait))
		}
		t.mu.Unlock()
		t.wg.Wait()
		close(done)
	})
}

// errChildrenLackey says why --children needs vmtrace.
var errChildrenLackey = errors.New("--children needs the vmtrace tracer: lackey can send each process's output only to a TCP port, which any local user could connect to")

// Timing of the connections of Children.
const (
	// keyWait bounds the wait for a connection's key. A tracee sends it as soon as it
	// connects: the bound only stops a stranger from holding up the numbering.
	keyWait = 10 * time.Second
	// lastKeyWait is the wait for the key of a connection still silent when every
	// process of the recording is gone.
	lastKeyWait = 200 * time.Millisecond
	// groupPoll is how often the end of a recording looks for processes still alive
	// but not connected (in the middle of an exec).
	groupPoll = 20 * time.Millisecond
)

// tracees receives the connections of a recording with Children.
type tracees struct {
	rec *recording
	ch  *channel
	mu  sync.Mutex
	// cond is signalled when open changes.
	cond *sync.Cond
	// open counts the authenticated connections not yet read to their end.
	open int
	// pending holds the connections accepted whose key is not yet read.
	pending map[*net.UnixConn]struct{}
	// next is the next address space. Invariant: address spaces are given in the order
	// the connections were accepted, to tracees only, with no gap.
	next ASID
	// wg counts the goroutines serving connections.
	wg sync.WaitGroup
}

// accept serves every connection until the listener closes. Each waits for the one
// accepted before it to be numbered (or refused) before it is numbered itself.
func (t *tracees) accept() {
	prev := make(chan struct{})
	close(prev)
	for {
		c, err := t.ch.ln.AcceptUnix()
		if err != nil {
			return
		}
		mine := make(chan struct{})
		t.mu.Lock()
		t.pending[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go t.serve(c, prev, mine)
		prev = mine
	}
}

// serve checks a connection's key, numbers it after prev, closes numbered, and reads
// the process's trace.
func (t *tracees) serve(c *net.UnixConn, prev <-chan struct{}, numbered chan<- struct{}) {
	defer t.wg.Done()
	defer c.Close()
	once := sync.OnceFunc(func() { close(numbered) })
	defer once()
	c.SetReadDeadline(time.Now().Add(keyWait))
	got := make([]byte, len(t.ch.hello))
	_, err := io.ReadFull(c, got)
	ok := err == nil && subtle.ConstantTimeCompare(got, t.ch.hello) == 1
	t.mu.Lock()
	delete(t.pending, c)
	if ok {
		t.open++
	}
	t.mu.Unlock()
	if !ok {
		<-prev
		return // not a tracee: refused, nothing read from it kept
	}
	defer func() {
		t.mu.Lock()
		t.open--
		t.cond.Broadcast()
		t.mu.Unlock()
	}()
	c.SetReadDeadline(time.Time{})
	br := bufio.NewReaderSize(c, 64<<10)
	line, err := br.ReadString('\n')
	<-prev
	if err != nil {
		if line != "" {
			t.rec.fail(fmt.Errorf("vmtrace: a process's connection ended in its first line %q", line))
		}
		return // a connection made for a fork that failed
	}
	p, err := parseProcessLine(strings.TrimSuffix(line, "\n"))
	if err != nil {
		t.rec.fail(err)
		return
	}
	t.mu.Lock()
	p.ASID = t.next
	t.next++
	t.mu.Unlock()
	t.rec.mu.Lock()
	t.rec.res.Processes = append(t.rec.res.Processes, p)
	t.rec.mu.Unlock()
	once()
	t.rec.consume(br, p.ASID, fmt.Sprintf("vmtrace output of process %d", p.PID))
}

// parseProcessLine parses vmtrace's "process PID PPID FORKED COMMAND".
func parseProcessLine(line string) (TracedProcess, error) {
	var p TracedProcess
	f := strings.SplitN(line, " ", 5)
	if len(f) < 4 || f[0] != "process" {
		return p, fmt.Errorf("vmtrace: want \"process PID PPID FORKED COMMAND\" after the key, got %q", line)
	}
	var err error
	if p.PID, err = strconv.Atoi(f[1]); err == nil {
		p.Parent, err = strconv.Atoi(f[2])
	}
	if err != nil || (f[3] != "0" && f[3] != "1") {
		return p, fmt.Errorf("vmtrace: malformed process line %q", line)
	}
	p.Forked = f[3] == "1"
	if len(f) == 5 {
		p.Command = f[4]
	}
	return p, nil
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

// guard is a process that kills the recording's process group when vmsim dies (its
// pipe closes without vmsim's word that the recording is over).
type guard struct {
	cmd *exec.Cmd
	w   *os.File
}

// startGuard starts the guard in a process group of its own (out of reach of the
// terminal's signals and of the group it kills), or returns nil where there is no sh.
func startGuard() *guard {
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	defer r.Close()
	cmd := exec.Command(sh, "-c", `read pg || exit 0; read x; [ "$x" = done ] || kill -s KILL "-$pg" 2>/dev/null`)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil
	}
	return &guard{cmd: cmd, w: w}
}

// release tells the guard that the recording is over (what it had to stop is stopped,
// and the group's number may soon be another's), and waits for it.
func (g *guard) release() {
	if g != nil {
		g.w.WriteString("done\n")
		g.w.Close()
		g.cmd.Wait()
	}
}

// start starts cmd, with a guard for its process group.
func (rec *recording) start(cmd *exec.Cmd) error {
	g := startGuard()
	if err := cmd.Start(); err != nil {
		if g != nil {
			g.w.Close() // no group to guard: the guard ends without a word
			g.cmd.Wait()
		}
		return fmt.Errorf("starting valgrind: %w", err)
	}
	rec.pgid.Store(int64(cmd.Process.Pid))
	if g != nil {
		fmt.Fprintf(g.w, "%d\n", cmd.Process.Pid)
		rec.guard = g
	}
	return nil
}

// finish waits for cmd, runs after (if any) once it has exited, and waits for done,
// closed when the tool's output is read to its end.
func (rec *recording) finish(cmd *exec.Cmd, done <-chan struct{}, after func()) (*RecordResult, error) {
	defer rec.guard.release()
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
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = ws.Signal()
	}
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
