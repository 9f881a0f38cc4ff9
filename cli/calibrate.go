package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/calibrate"
	"github.com/vmsim/vmsim/internal/atomicfile"
)

func newCalibrateCmd(stdout, stderr io.Writer) *cobra.Command {
	var repeats int
	var scratch string
	var only []string
	cmd := &cobra.Command{
		Use:   "calibrate [flags] [FILE]",
		Short: "Measure this machine's costs (copy bandwidth, faults, traps, disk, cache and TLB misses) into a cost file",
		Long: `Measure the costs vmsim's cost model prices, on this machine, and write them as a cost
file (JSON) to FILE, or to standard output without FILE or with -.

A small C program (compiled with gcc or cc into a private temporary directory, removed
after) measures, each --repeat times (probes, in this order):

  copy    page_copy_bytes_per_sec  4 KiB page copies over 64 MiB, memory to memory
  fault   minor_fault_ns           the first write to a fresh anonymous page
  trap    wp_trap_ns               a write to a write-protected page: SIGSEGV, a handler
                                   that mprotects it writable, the write retried
          mprotect_ns              one mprotect of one page
  disk    durable_write_ns         a 4 KiB write at a random offset and fdatasync, in a
                                   16 MiB file in --scratch (unlinked at once)
          disk_read_ns             a 4 KiB O_DIRECT read (left out, with a note, where
                                   the file system refuses O_DIRECT)
  miss    cache_miss_ns            a dependent load missing the caches less one hitting L1
  walk    page_walk_ns             a dependent load one line a page less the same packed
                                   64 lines a page: a TLB miss's page walk

The file records the machine (CPU model, CPUs, kernel, page size, load averages at the
start, date, the file system of --scratch), then each value's unit, median, spread
(interquartile range over the median) and every run's value, and notes on what limits a
value here. cache_miss_ns and page_walk_ns are differences of two timings: where their
median comes out at or below 0 (the two within the machine's noise) they are left out,
with a note, rather than written negative. Run it on an idle machine: a loaded one
inflates traps and faults most.
Package calibrate's documentation says which cost-model field each value is meant for.
A line per probe shows progress on standard error. It takes about 15 seconds with the
default 5 runs on a 2-core virtual machine.

Exit status: 0 on success, 2 for a usage error or a failed measurement (nothing written).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if repeats < 1 {
				return fmt.Errorf("--repeat %d: want at least 1", repeats)
			}
			out := "-"
			if len(args) == 1 {
				out = args[0]
			}
			if scratch == "" {
				scratch = "."
				if out != "-" {
					scratch = filepath.Dir(out)
				}
			}
			if fi, err := os.Stat(scratch); err != nil {
				return fmt.Errorf("--scratch: %w", err)
			} else if !fi.IsDir() {
				return fmt.Errorf("--scratch %s: not a directory", scratch)
			}
			if cmd.Flags().Changed("probe") && len(only) == 0 {
				return fmt.Errorf("--probe \"\": want one or more of %s", strings.Join(calibrate.ProbeNames(), ", "))
			}
			for _, p := range only {
				if !slices.Contains(calibrate.ProbeNames(), p) {
					return fmt.Errorf("--probe %q: want one or more of %s", p, strings.Join(calibrate.ProbeNames(), ", "))
				}
			}
			// The output is opened first, so that a path that cannot be written fails before
			// the measurement.
			var file *atomicfile.File
			if out != "-" {
				f, err := atomicfile.Create(out)
				if err != nil {
					return err
				}
				defer f.Abort()
				file = f
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			r, err := calibrate.NewProbeRunner(ctx)
			if err != nil {
				return err
			}
			defer r.Close()
			// At SIGINT or SIGTERM: stop the probe, remove it, then atomicfile removes the
			// unfinished output and dies of the signal.
			defer atomicfile.OnSignal(func() {
				stop()
				r.Close()
			})()
			f, err := calibrate.Measure(ctx, r, calibrate.Options{Repeats: repeats, Scratch: scratch, Only: only, Progress: stderr})
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if err := f.Write(&b); err != nil {
				return err
			}
			if file == nil {
				_, err = stdout.Write(b.Bytes())
				return err
			}
			if _, err := file.Write(b.Bytes()); err != nil {
				return fmt.Errorf("%s: %w", out, err)
			}
			if err := file.Commit(); err != nil {
				return fmt.Errorf("%s: %w", out, err)
			}
			fmt.Fprintf(stderr, "calibrate: wrote %s\n", out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.IntVar(&repeats, "repeat", 5, "runs of each probe; each value is the median of its runs")
	fl.StringVar(&scratch, "scratch", "", "directory for the disk probe's file, on the disk to measure (default FILE's directory, or the current one)")
	fl.StringSliceVar(&only, "probe", nil, "run only these probes ("+strings.Join(calibrate.ProbeNames(), ", ")+"), comma-separated")
	return cmd
}
