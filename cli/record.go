package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/vgrecord"
)

func newRecordCmd(stdout, stderr io.Writer) *cobra.Command {
	var out, valgrind, compress, tracer string
	var kernelWrites bool
	var opt vgrecord.RecordOptions
	cmd := &cobra.Command{
		Use:   "record [flags] -o OUT.vmt -- PROGRAM [ARGS...]",
		Short: "Record a program's memory accesses under valgrind into a vmt trace",
		Long: `Run PROGRAM under valgrind and write every access it makes to OUT in the vmt format. The
tool's text goes through a pipe (a connection per process with --children) straight into
the vmt writer: no temporary text file. OUT is written under a temporary name beside it
and renamed when the recording is complete.

The tool (--tracer) is vmsim's own vmtrace where it can be built, else valgrind's lackey
--trace-mem=yes. vmtrace (vgrecord/vgtool/vmtrace.c in vmsim's source, embedded in the
binary) finds the same events as lackey and prints the same lines, but into a 1 MiB
buffer written out in large pieces, where lackey makes one write(2) a line: several
times faster. vmsim builds it on first use into the user's cache folder
(~/.cache/vmsim/vgtool, which must be the user's alone: vmsim refuses it if others can
write to it), with the C compiler (cc) and the tool headers and static
libraries of the installed valgrind (Debian's valgrind package ships them); it names
that folder to valgrind in VALGRIND_LIB, which the program then sees in its environment,
so its stack addresses differ from a lackey recording's by that variable. If vmtrace
cannot be built, or for a 32-bit program, auto records with lackey and says why;
--tracer vmtrace fails instead. vmtrace is built for linux/amd64.

vmsim installs no package: valgrind must be on PATH (or named with --valgrind).

Without --children only PROGRAM's own process is traced: a child it forks is not traced
(valgrind --child-silent-after-fork=yes), and when PROGRAM executes another program (a
shell script ending in "exec real-program", a wrapper) valgrind does not follow: the
trace then holds only the wrapper's accesses, and vmsim says so on standard error.

With --children every process of the recording is traced, each in an address space of
its own, numbered in the order the processes start (0 for PROGRAM). A child forked
without exec gets its own from the fork on (it runs its parent's program: vmsim lists it
as forked), and a process that executes another program a new one from the exec on
(vmsim names both). --children needs vmtrace: each process sends its trace on a
connection of its own to a Unix socket in a folder only the user can enter, and shows
the recording's secret key first; vmsim refuses any other connection. The recording
ends when every traced process has. valgrind's own messages (warnings and errors only)
go to standard error. A 32-bit program that a process starts cannot be traced (vmtrace
is built for 64-bit programs only): valgrind fails to start it.

--max-refs N stops the program after N accesses and keeps those N. With --syscalls the
program's I/O system calls are recorded too, in their place among the accesses: each
successful read, pread64, readv, preadv, preadv2, recvfrom or recvmsg an input record,
each write, pwrite64, writev, pwritev, pwritev2, sendto or sendmsg an output record, with
the file descriptor as the channel and the call's result as the bytes, in the calling
process's address space; other calls and failures are left out.

Threads: with vmtrace every record carries the thread of its process that made it
(version 3 vmt; vmsim trace stats describes each thread), numbered in the order the
process creates them: 1 for its first thread (a forked child's only thread too), 2 for
the first it creates, and so on, never twice in a process. Valgrind runs one thread of
a process at a time, switching at system calls and every so many blocks: the
interleaving in the trace is valgrind's scheduler's, coarse, not the machine's (vmsim
run --schedule round-robin re-interleaves the threads). lackey records no threads: every
record is of thread 0 (version 1 vmt, as before).

The kernel's writes (--kernel-writes, on by default with vmtrace): what the kernel writes
into the program's memory, which valgrind reports to a tool (the buffer a read fills, a
stat structure, the tid a clone stores, and the signal frames valgrind pushes where the
kernel would), is recorded as writes marked as the kernel's, by the calling thread, in
4 KiB-aligned pieces, just before the call's input record with --syscalls. A checkpoint
must cover those pages too: a program reading a file into a buffer it never writes
itself has the buffer's pages written only by the kernel. They count as accesses (and
towards --max-refs) and stay with --data-only; vmsim trace stats counts them and the
pages only they wrote; vmsim trace head shows them as k-write. --kernel-writes=false
leaves them out (version 2 vmt). lackey cannot record them: --kernel-writes with
--tracer lackey is an error.

Checkpoints: a program that calls the checkpoint library of vmsim's validate/ (ckpt.h,
ckpt_checkpoint) issues a valgrind client request there, which vmtrace turns into a
checkpoint record in its place among the accesses, so that vmsim run with --interval 0
checkpoints the trace where the native program checkpointed (lackey ignores the
request: no checkpoint records). Record with the library's mechanism none.

Reproducibility: the vmt metadata records the program, its arguments, the options and
the tool, but no time or process ids. valgrind lays memory out the same way at every
run (no address randomization), and vmtrace gives every process the same 16 bytes where
the kernel gives random ones (AT_RANDOM, which glibc uses for its stack and pointer
guards), and valgrind starts with every signal's default action, even those vmsim was
started with ignored (under nohup, or as a script's background job), which a program may
look at (xz does), so that recording a deterministic program twice in the same
environment (its variables, arguments and path lie on its stack) and the same folder
gives the same file. With lackey a few
data addresses, indexed by those random bytes, differ from run to run. With --children
the processes run side by side: how their records interleave, and which of two
processes starting at the same moment is numbered first, depend on the scheduler, and
such a recording is not the same byte for byte from run to run.

Interrupted (SIGINT, SIGTERM), vmsim kills every traced process and removes its
temporary output. Killed outright (SIGKILL, the OOM killer), it cannot: a guard process
then kills valgrind's process group (a process that left it with setsid is not reached,
but with --children it dies at its next write), and the next recording removes what was
left: OUT's temporary names beside it (".OUT.N.tmp") and the socket folders of
--children in the temporary folder (vmsim-record-N), only the user's own, and none that
a live recording holds.

On a terminal, progress (accesses so far and the rate) is shown on standard error;
otherwise nothing is. PROGRAM's own output goes to vmsim's standard output and error.

Exit status: PROGRAM's own when it exits with a nonzero status (the trace is still
written: it is a complete record of a failing run); 128+N when PROGRAM is killed by
signal N, as a shell reports it (the trace is written, up to then); 2 for a usage error
or when recording failed; 0 otherwise, and with --max-refs.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o OUT.vmt is required")
			}
			if opt.MaxRefs < 0 {
				return fmt.Errorf("--max-refs %d: want 0 (no limit) or more", opt.MaxRefs)
			}
			comp, err := parseCompression(compress, recordCompressions)
			if err != nil {
				return err
			}
			opt.Program, opt.Args, opt.Valgrind = args[0], args[1:], valgrind
			version, err := vgrecord.ValgrindVersion(valgrind)
			if err != nil {
				return err
			}
			for _, p := range append(vgrecord.RemoveStaleRecordings(), removeStaleTemps(out)...) {
				fmt.Fprintf(stderr, "vmsim: removed %s, left by a recording that was killed\n", p)
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
			// Asked for explicitly, the kernel's writes need vmtrace; by default they come
			// with it (and thread ids always do).
			opt.KernelWrites = kernelWrites && cmd.Flags().Changed("kernel-writes")
			var tracerNote string
			if opt, tracerNote, err = vgrecord.ResolveTracer(opt); err != nil {
				return err
			}
			if opt.Tracer == vgrecord.TracerVMTrace {
				opt.Threads, opt.KernelWrites = true, kernelWrites
			}
			if tracerNote != "" {
				fmt.Fprintf(stderr, "vmsim: %s\n", tracerNote)
				if opt.Tracer == vgrecord.TracerLackey {
					fmt.Fprintf(stderr, "vmsim: note: lackey records no thread ids and no kernel writes\n")
				}
			}
			tool := "valgrind lackey --trace-mem=yes"
			if opt.Tracer == vgrecord.TracerVMTrace {
				tool = "valgrind vmtrace (lackey's lines)"
			}
			if opt.Syscalls && (opt.Children || opt.Threads || opt.KernelWrites) {
				tool += " --vmtrace-syscalls=yes"
			} else if opt.Syscalls {
				tool += " --trace-syscalls=yes"
			}
			meta := map[string]any{
				"program": opt.Program, "args": opt.Args, "tool": tool, "syscalls": opt.Syscalls,
				"valgrind": version, "data_only": opt.DataOnly, "max_refs": opt.MaxRefs, "children": opt.Children,
			}
			if opt.Tracer == vgrecord.TracerVMTrace {
				meta["threads"], meta["kernel_writes"] = opt.Threads, opt.KernelWrites
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
			var res *vgrecord.RecordResult
			// The temporary output is locked while the recording lives, so that another
			// recording of OUT does not take it for a leftover.
			unlock := func() {}
			defer func() { unlock() }()
			err = writeAtomically(out, func(w io.Writer) error {
				if f, ok := w.(*atomicfile.File); ok {
					unlock = lockTemp(f.TempName())
				}
				vw, err := traces.NewVMTWriter(w, traces.VMTOptions{Compress: comp == traces.Zstd, Meta: meta, Threads: opt.Threads, Kernel: opt.KernelWrites})
				if err != nil {
					return err
				}
				res, err = vgrecord.RecordProgram(ctx, vw, opt)
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
			} else if res.Signal != 0 {
				note = fmt.Sprintf(" (%s was killed by signal %d, %v; the trace holds its accesses up to then)", opt.Program, int(res.Signal), res.Signal)
			} else if res.ExitCode != 0 {
				note = fmt.Sprintf(" (%s exited with status %d)", opt.Program, res.ExitCode)
			}
			io := ""
			if opt.Syscalls {
				io = fmt.Sprintf(" and %d I/O records", res.IO)
			}
			if opt.KernelWrites {
				io += fmt.Sprintf(" (%d of the accesses the kernel's writes)", res.KernelWrites)
			}
			if res.Checkpoints > 0 {
				io += fmt.Sprintf(" and %d checkpoint records (the program's ckpt_checkpoint calls)", res.Checkpoints)
			}
			fmt.Fprintf(stderr, "vmsim: recorded %d accesses%s from %d process(es) into %s%s\n", res.Accesses, io, len(res.Processes)+boolInt(!opt.Children), out, note)
			if opt.Children {
				for _, p := range res.Processes {
					forked := ""
					if p.Forked {
						forked = fmt.Sprintf(" (forked by pid %d)", p.Parent)
					}
					fmt.Fprintf(stderr, "vmsim:   address space %d: pid %d%s, %s\n", p.ASID, p.PID, forked, p.Command)
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
	f.BoolVar(&kernelWrites, "kernel-writes", true, "record the kernel's writes into PROGRAM's memory (a read's buffer, ...) as writes marked as the kernel's (vmtrace only; lackey cannot)")
	f.StringVar(&compress, "compress", "zstd", "zstd|none: compress the vmt blocks")
	f.StringVar(&valgrind, "valgrind", "valgrind", "the valgrind command")
	f.StringVar(&tracer, "tracer", vgrecord.TracerAuto, "auto|vmtrace|lackey: the valgrind tool that records (auto: vmtrace where it can be built, for a 64-bit program, without --children)")
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
func reportExecs(w io.Writer, program string, res *vgrecord.RecordResult) {
	if res.UntracedExec {
		fmt.Fprintf(w, "vmsim: warning: %s executed another program (a shell wrapper in front of the real one?), which valgrind does not follow without --children: the trace holds only the accesses made before the exec. Record the real program directly, or use --children.\n", program)
	}
	first := map[int]vgrecord.TracedProcess{}
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

// programStatus is the error that makes vmsim exit as the recorded program did: with its
// status, or with 128+N when signal N killed it, as a shell does.
func programStatus(program string, res *vgrecord.RecordResult) error {
	switch {
	case res.Truncated || res.ExitCode == 0:
		return nil
	case res.Signal != 0:
		return programExit{128 + int(res.Signal)}
	case res.ExitCode < 0:
		return fmt.Errorf("%s was killed (the trace holds its accesses up to then)", program)
	}
	return programExit{res.ExitCode}
}

// lockTemp locks the temporary output at path (shared flock, which removeStaleTemps
// cannot take) and returns the function that unlocks it.
func lockTemp(path string) (unlock func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Open(path)
	if err != nil {
		return func() {}
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	return func() { f.Close() }
}

// removeStaleTemps removes the temporary outputs that recordings of out killed outright
// (SIGKILL, the OOM killer) left beside it, and returns their paths: the names atomicfile
// gives ("." + name + "." + digits + ".tmp"), regular files owned by the user, that no
// live recording holds locked. (A recording locks its temporary output just after
// creating it: two recordings of the same OUT started at the same instant could race.)
func removeStaleTemps(out string) []string {
	if out == "-" {
		return nil
	}
	target := out
	if t, err := filepath.EvalSymlinks(out); err == nil {
		target = t
	}
	dir, base := filepath.Dir(target), filepath.Base(target)
	name := regexp.MustCompile(`^\.` + regexp.QuoteMeta(base) + `\.[0-9]+\.tmp$`)
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range es {
		if !name.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != nil {
			continue
		}
		stale := false
		if fi, err := f.Stat(); err == nil {
			st, ok := fi.Sys().(*syscall.Stat_t)
			stale = ok && fi.Mode().IsRegular() && int(st.Uid) == os.Getuid() &&
				syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
		}
		if stale && os.Remove(path) == nil {
			removed = append(removed, path)
		}
		f.Close()
	}
	return removed
}
