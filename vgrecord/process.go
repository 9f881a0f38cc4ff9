package vgrecord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
)

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

// start starts cmd, with a guard for its process group, and with every signal's default
// action (defaultSignals).
func (rec *recording) start(cmd *exec.Cmd) error {
	g := startGuard()
	restore := defaultSignals()
	err := cmd.Start()
	restore()
	if err != nil {
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
