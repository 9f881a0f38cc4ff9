package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/scheme"
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

// Execute is the whole of a main function: it runs Main on the process's arguments,
// standard output and standard error with the schemes of reg (nil: the built-in ones),
// and exits the process with Main's status. It catches SIGINT and SIGTERM first, so that
// an interrupted command removes the files it was writing (and kills the programs vmsim
// record traces) before the process dies of the signal; a failed close of standard output
// (a full disk under a redirection) is an error, exit status 2. It does not return.
func Execute(reg *scheme.Registry) {
	atomicfile.CatchSignals()
	code := Main(os.Args[1:], reg, os.Stdout, os.Stderr)
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

// Main runs the vmsim command line with args (the arguments, without the program's name)
// and returns the exit status: 0 on success, 1 when --verify found a mismatch, 2 for a
// usage error or bad input; vmsim record returns the traced program's status. reg holds
// the schemes that vmsim run and sweep take (--scheme, and each scheme's own settings as
// flags and keys) and vmsim schemes lists; nil means the built-in ones
// (builtin.Registry()). vmsim reproduce runs its fixed study of built-in schemes,
// whatever reg holds. Main prints to stdout and stderr (a failed write to stdout, a full
// disk or a closed pipe, is an error, whatever the command made of it), writes the files
// the command names, and reads standard input for a trace named "-". It leaves signals
// alone: a main function calls Execute, which catches them.
func Main(args []string, reg *scheme.Registry, stdout, stderr io.Writer) int {
	if reg == nil {
		reg = builtin.Registry()
	}
	out := &checkedWriter{w: stdout}
	root := newRoot(reg, out, stderr, args)
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

func newRoot(reg *scheme.Registry, stdout, stderr io.Writer, args []string) *cobra.Command {
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
		return fmt.Errorf("%w (see '%s --help')", plainFlagError(err), c.CommandPath())
	})
	cmds := []struct {
		name string
		make func() *cobra.Command
	}{
		{"run", func() *cobra.Command { return newRunCmd(reg, stdout, stderr) }},
		{"version", func() *cobra.Command { return newVersionCmd(stdout) }},
		{"trace", func() *cobra.Command { return newTraceCmd(stdout, stderr) }},
		{"record", func() *cobra.Command { return newRecordCmd(stdout, stderr) }},
		{"sweep", func() *cobra.Command { return newSweepCmd(reg, stdout, stderr) }},
		{"reproduce", func() *cobra.Command { return newReproduceCmd(stderr) }},
		{"schemes", func() *cobra.Command { return newSchemesCmd(reg, stdout) }},
		{"interval", func() *cobra.Command { return newIntervalCmd(stdout) }},
		{"calibrate", func() *cobra.Command { return newCalibrateCmd(stdout, stderr) }},
		{"diff", func() *cobra.Command { return newDiffCmd(stdout) }},
		{"plot", func() *cobra.Command { return newPlotCmd(stdout, stderr) }},
		{"report", func() *cobra.Command { return newReportCmd(stderr) }},
	}
	// A command named first is all that runs: only it is built (start-up time, issue 26),
	// its flags, help and errors the same as in the whole tree. Anything else (no command,
	// root's flags, help, completion, a misspelt command that cobra suggests a name for)
	// gets the whole tree, with the completions of every flag.
	if len(args) > 0 {
		for _, c := range cmds {
			if c.name == args[0] {
				root.AddCommand(c.make())
				return root
			}
		}
	}
	for _, c := range cmds {
		root.AddCommand(c.make())
	}
	registerCompletions(root, reg)
	return root
}

// plainFlagError says what a value of a plain Go type (a bool, a whole number) must look
// like instead of strconv's words ('strconv.ParseUint: parsing "abc": invalid syntax').
func plainFlagError(err error) error {
	var ive *pflag.InvalidValueError
	var ne *strconv.NumError
	if !errors.As(err, &ive) || !errors.As(err, &ne) {
		return err
	}
	return fmt.Errorf("invalid argument %q for \"--%s\" flag: %s", ive.GetValue(), ive.GetFlag().Name, numWords(ne))
}

// numWords says what a value strconv refused must look like.
func numWords(ne *strconv.NumError) string {
	want := "a number"
	switch {
	case strings.HasPrefix(ne.Func, "ParseBool"):
		want = "true or false"
	case strings.HasPrefix(ne.Func, "ParseUint"):
		want = "a whole number, 0 or more"
	case strings.HasPrefix(ne.Func, "ParseInt"):
		want = "a whole number"
	}
	if errors.Is(ne.Err, strconv.ErrRange) {
		return "out of range: too large for the flag"
	}
	return "want " + want
}
