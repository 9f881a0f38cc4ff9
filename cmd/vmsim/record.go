package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/traces"
)

func newRecordCmd(stdout, stderr io.Writer) *cobra.Command {
	var out, valgrind, compress, tracer string
	var opt traces.RecordOptions
	cmd := &cobra.Command{
		Use:   "record [flags] -o OUT.vmt -- PROGRAM [ARGS...]",
		Short: "Record a program's memory accesses under valgrind into a vmt trace",
		Long: `Run PROGRAM under valgrind and write every access it makes to OUT in the vmt format. The
tool's text goes through a pipe (a socket per process with --children) straight into the
vmt writer: no temporary text file. OUT is written under a temporary name and renamed
when the recording is complete.

The tool (--tracer) is vmsim's own vmtrace where it can be built, else valgrind's lackey
--trace-mem=yes. vmtrace (traces/vgtool/vmtrace.c in vmsim's source, embedded in the
binary) finds the same events as lackey and prints the same lines, but into a 1 MiB
buffer written out in large pieces, where lackey makes one write(2) a line: several
times faster. vmsim builds it on first use into the user's cache folder
(~/.cache/vmsim/vgtool), with the C compiler (cc) and the tool headers and static
libraries of the installed valgrind (Debian's valgrind package ships them); it names
that folder to valgrind in VALGRIND_LIB, which the program then sees in its environment,
so its stack addresses differ from a lackey recording's by that variable. If vmtrace
cannot be built, for a 32-bit program, or with --children, auto records with lackey and
says why; --tracer vmtrace fails instead. vmtrace is built for linux/amd64.

vmsim installs no package: valgrind must be on PATH (or named with --valgrind).

With --children every process PROGRAM starts is traced too, each in an address space of
its own (0 for PROGRAM, then 1, 2, ... in the order they start); a process that forks
without exec is not traced after the fork. --max-refs N stops the program after N
accesses and keeps those N. With --syscalls the program's I/O system calls are recorded
too, in their place among the accesses (valgrind --trace-syscalls=yes): each successful
read, pread64, readv, preadv, recvfrom or recvmsg an input record, each write, pwrite64,
writev, pwritev, sendto or sendmsg an output record, with the file descriptor as the
channel and the call's result as the bytes; other calls and failures are left out. The
vmt metadata records the program, its arguments, the options and the tool, but no time
or process ids, so that recording a deterministic program twice gives the same file.

On a terminal, progress (accesses so far and the rate) is shown on standard error;
otherwise nothing is. PROGRAM's own output goes to vmsim's standard output and error.

When PROGRAM executes another program (a shell script ending in "exec real-program", a
wrapper), valgrind does not follow without --children: the trace then holds only the
wrapper's accesses, and vmsim says so on standard error. With --children the program
after the exec is traced in an address space of its own, and vmsim names it.

Exit status: PROGRAM's own when it exits with a nonzero status (the trace is still
written: it is a complete record of a failing run); 2 when PROGRAM was killed by a
signal, for a usage error or when recording failed; 0 otherwise, and with --max-refs.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o OUT.vmt is required")
			}
			if opt.MaxRefs < 0 {
				return fmt.Errorf("--max-refs %d: want 0 (no limit) or more", opt.MaxRefs)
			}
			if compress != "zstd" && compress != "none" {
				return fmt.Errorf("--compress %q: want zstd or none", compress)
			}
			opt.Program, opt.Args, opt.Valgrind = args[0], args[1:], valgrind
			version, err := traces.ValgrindVersion(valgrind)
			if err != nil {
				return err
			}
			opt.Stdin, opt.Stdout, opt.Stderr = os.Stdin, stdout, stderr
			if isTerminal(stderr) {
				start := time.Now()
				opt.Progress = func(n int64) {
					secs := time.Since(start).Seconds()
					fmt.Fprintf(stderr, "\rrecording %s: %d accesses, %.1f M/s   ", filepath.Base(opt.Program), n, float64(n)/secs/1e6)
				}
			}
			opt.Tracer = tracer
			var tracerNote string
			if opt, tracerNote, err = traces.ResolveTracer(opt); err != nil {
				return err
			}
			if tracerNote != "" {
				fmt.Fprintf(stderr, "vmsim: %s\n", tracerNote)
			}
			tool := "valgrind lackey --trace-mem=yes"
			if opt.Tracer == traces.TracerVMTrace {
				tool = "valgrind vmtrace (lackey's lines)"
			}
			if opt.Syscalls {
				tool += " --trace-syscalls=yes"
			}
			meta := map[string]any{
				"program": opt.Program, "args": opt.Args, "tool": tool, "syscalls": opt.Syscalls,
				"valgrind": version, "data_only": opt.DataOnly, "max_refs": opt.MaxRefs, "children": opt.Children,
			}
			// At SIGINT or SIGTERM, atomicfile's handler first stops the recording (which
			// kills valgrind's whole process group) and waits for it, then removes the
			// temporary output and dies of the signal.
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			recorded := make(chan struct{})
			markRecorded := sync.OnceFunc(func() { close(recorded) })
			defer markRecorded()
			defer atomicfile.OnSignal(func() {
				stop()
				<-recorded
			})()
			var res *traces.RecordResult
			err = writeAtomically(out, func(w io.Writer) error {
				vw, err := traces.NewVMTWriter(w, traces.VMTOptions{Compress: compress == "zstd", Meta: meta})
				if err != nil {
					return err
				}
				res, err = traces.RecordProgram(ctx, vw, opt)
				markRecorded()
				if err != nil {
					return err
				}
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; %s not written", out)
				}
				return vw.Close()
			})
			if opt.Progress != nil {
				fmt.Fprintln(stderr)
			}
			if err != nil {
				return err
			}
			note := ""
			if res.Truncated {
				note = fmt.Sprintf(" (stopped at --max-refs %d)", opt.MaxRefs)
			} else if res.ExitCode != 0 {
				note = fmt.Sprintf(" (%s exited with status %d)", opt.Program, res.ExitCode)
			}
			io := ""
			if opt.Syscalls {
				io = fmt.Sprintf(" and %d I/O records", res.IO)
			}
			fmt.Fprintf(stderr, "vmsim: recorded %d accesses%s from %d process(es) into %s%s\n", res.Accesses, io, len(res.Processes)+boolInt(!opt.Children), out, note)
			if opt.Children {
				for _, p := range res.Processes {
					fmt.Fprintf(stderr, "vmsim:   address space %d: pid %d, %s\n", p.ASID, p.PID, p.Command)
				}
			}
			reportExecs(stderr, opt.Program, res)
			return programStatus(opt.Program, res)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	// Everything after PROGRAM is PROGRAM's, flags included, with or without "--".
	f.SetInterspersed(false)
	f.StringVarP(&out, "output", "o", "", "the vmt trace to write")
	f.BoolVar(&opt.DataOnly, "data-only", false, "leave out instruction fetches")
	f.Int64Var(&opt.MaxRefs, "max-refs", 0, "stop the program after this many accesses (0: no limit)")
	f.BoolVar(&opt.Children, "children", false, "trace the processes PROGRAM starts too, each in its own address space")
	f.BoolVar(&opt.Syscalls, "syscalls", false, "record PROGRAM's read and write system calls as input and output records")
	f.StringVar(&compress, "compress", "zstd", "zstd|none: compress the vmt blocks")
	f.StringVar(&valgrind, "valgrind", "valgrind", "the valgrind command")
	f.StringVar(&tracer, "tracer", traces.TracerAuto, "auto|vmtrace|lackey: the valgrind tool that records (auto: vmtrace where it can be built, for a 64-bit program, without --children)")
	return cmd
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isTerminal reports whether w is a terminal (a character device), where progress goes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// reportExecs says on w when the traced program executed another one.
func reportExecs(w io.Writer, program string, res *traces.RecordResult) {
	if res.UntracedExec {
		fmt.Fprintf(w, "vmsim: warning: %s executed another program (a shell wrapper in front of the real one?), which valgrind does not follow without --children: the trace holds only the accesses made before the exec. Record the real program directly, or use --children.\n", program)
	}
	first := map[int]traces.TracedProcess{}
	for _, p := range res.Processes {
		if q, ok := first[p.PID]; ok {
			fmt.Fprintf(w, "vmsim: note: pid %d executed another program: %s (address space %d) became %s (address space %d)\n", p.PID, q.Command, q.ASID, p.Command, p.ASID)
		}
		first[p.PID] = p
	}
}

// programExit is the error of a recording whose program failed: vmsim exits with the
// program's status, having said everything already.
type programExit struct{ code int }

func (e programExit) Error() string {
	return fmt.Sprintf("the traced program exited with status %d", e.code)
}

// programStatus is the error that makes vmsim exit as the recorded program did.
func programStatus(program string, res *traces.RecordResult) error {
	switch {
	case res.Truncated || res.ExitCode == 0:
		return nil
	case res.ExitCode < 0:
		return fmt.Errorf("%s was killed by a signal (the trace holds its accesses up to then)", program)
	}
	return programExit{res.ExitCode}
}
