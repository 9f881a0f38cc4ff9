package vgrecord

import (
	"context"
	"io"
	"os"
	"strings"
)

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
	if opt.Syscalls && opt.pipeVMTraceSyscalls() {
		args = append(args, "--vmtrace-syscalls=yes")
	} else if opt.Syscalls {
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
		args = append(args, opt.vmtraceArgs()...)
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

// pipeVMTraceSyscalls reports whether a recording through the pipe has vmtrace write the
// I/O system calls (--vmtrace-syscalls) rather than valgrind's core (--trace-syscalls):
// with Threads or KernelWrites. The core writes a call's line in two pieces, before the
// call and after it, and the tool's lines cannot come between them: a call's kernel
// writes would follow its input record, and its THREAD line could not precede it.
// vmtrace writes its line after the kernel's writes, in the calling thread. Without
// either, the core writes them, as always.
func (opt RecordOptions) pipeVMTraceSyscalls() bool {
	return opt.Tracer == TracerVMTrace && (opt.Threads || opt.KernelWrites)
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
