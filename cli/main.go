package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/atomicfile"
)

// Exit statuses.
const (
	exitOK       = 0
	exitMismatch = 1 // --verify found a mismatch
	exitBad      = 2 // usage error or bad input
)

// errMismatch is returned by run when verification found a mismatch: the output is
// complete, but the exit status says the run is wrong.
var errMismatch = errors.New("verification found mismatches")

func main() {
	atomicfile.CatchSignals()
	code := execute(os.Args[1:], os.Stdout, os.Stderr)
	// Standard output is an output like any other: a failed close (a full disk under a
	// redirection, a network file system) is an error.
	if err := os.Stdout.Close(); err != nil && code == exitOK && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(os.Stderr, "vmsim: writing standard output: %v\n", err)
		code = exitBad
	}
	atomicfile.Exit(code)
}

// checkedWriter remembers the first error writing w.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// execute runs the CLI with args and returns the exit status. A failed write to stdout
// (a full disk, a closed pipe) is an error, whatever the command made of it.
func execute(args []string, stdout, stderr io.Writer) int {
	out := &checkedWriter{w: stdout}
	root := newRoot(out, stderr)
	root.SetArgs(args)
	err := root.Execute()
	var pe programExit
	if err == nil && out.err != nil {
		err = fmt.Errorf("writing standard output: %w", out.err)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &pe):
		return pe.code // vmsim record: the traced program's status, already reported
	case errors.Is(err, errMismatch):
		printError(stderr, err)
		return exitMismatch
	default:
		printError(stderr, err)
		return exitBad
	}
}

// printError writes err to w once, each of its lines (errors.Join makes several) a line
// of its own that starts with "vmsim: " and ends in a newline.
func printError(w io.Writer, err error) {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		b.WriteString("vmsim: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "vmsim",
		Short: "Emulate virtual checkpoints: checkpoint and rollback built into virtual-memory translation",
		Long: `vmsim replays recorded memory traces through an emulated MMU with virtual checkpoints
(two mappings per page, a switch bit, per-page checkpoint numbers), counts exactly what the
hardware and the pager do, and checks itself against an independent golden model.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	defer registerCompletions(root)
	root.AddCommand(newRunCmd(stdout, stderr), newVersionCmd(stdout), newTraceCmd(stdout, stderr), newRecordCmd(stdout, stderr), newSweepCmd(stdout, stderr), newReproduceCmd(stderr), newSchemesCmd(stdout), newIntervalCmd(stdout))
	root.AddCommand(newCalibrateCmd(stdout, stderr))
	return root
}
