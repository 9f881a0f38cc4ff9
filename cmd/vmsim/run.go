package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	cfg := sim.DefaultConfig()
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run [flags] [TRACE]",
		Short: "Replay a memory trace through the emulated MMU and print exact counts",
		Long:  runLong(),
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			open := func() (traces.Reader, error) { return traces.OpenSample() }
			cfg.Trace = traces.SampleName
			if len(args) == 1 {
				cfg.Trace = args[0]
				format, err := traces.ParseFormat(cfg.Format)
				if err != nil {
					return fmt.Errorf("--format %q: want one of %v", cfg.Format, sim.Choices["format"])
				}
				// A pipe or device is spooled: every reopening (opt's pre-pass, long
				// replays) must see the same records from the start.
				src, err := traces.NewSource(args[0], traces.Options{Format: format, Lenient: cfg.Lenient})
				if err != nil {
					return err
				}
				defer src.Close()
				open = func() (traces.Reader, error) { return src.Open() }
			}
			res, err := sim.Run(cfg, open)
			if err != nil {
				return err
			}
			warnRun(stderr, res)
			if asJSON {
				out, err := json.Marshal(res)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s\n", out)
			} else if err := printTable(stdout, res); err != nil {
				return err
			}
			if res.Stats.VerifyMismatches > 0 {
				return fmt.Errorf("%w: %d of %d checks; first: %s", errMismatch,
					res.Stats.VerifyMismatches, res.Stats.VerifyChecks, res.FirstMismatch)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.BoolVar(&asJSON, "json", false, `print one JSON object {"config": ..., "stats": ...} instead of a table`)
	f.StringVar(&cfg.Scheme, "scheme", cfg.Scheme, choices("scheme", "checkpoint scheme: none (plain demand paging, the baseline) or dualmap (virtual checkpoints)"))
	f.StringVar(&cfg.Memory, "memory", cfg.Memory, choices("memory", "nonvolatile: a checkpoint is V=V+1; volatile: a checkpoint also writes dirty modified pages, page-table pages and a commit record to disk"))
	f.StringVar(&cfg.Cow, "cow", cfg.Cow, choices("cow", "first write: copy the page, or remap a clean resident frame and keep the checkpoint version on disk"))
	f.IntVar(&cfg.Frames, "frames", cfg.Frames, "real frames; 0 for unlimited")
	f.StringVar(&cfg.Replace, "replace", cfg.Replace, choices("replace", "replacement policy with finite frames (opt reads the trace twice)"))
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for --replace random and --mtbf")
	f.StringVar(&cfg.Steal, "steal", cfg.Steal, choices("steal", "when stealing a frame, prefer frames holding obsolete versions, or follow the policy strictly"))
	f.StringVar(&cfg.Initial, "initial", cfg.Initial, choices("initial", "a page's first touch reads its initial image from disk (one disk read) or zero-fills it (no I/O)"))
	f.IntVar(&cfg.VBits, "vbits", cfg.VBits, "bits k of the checkpoint numbers V and v (1..31); V cycles through 1..2^k-1")
	f.StringVar(&cfg.Scope, "scope", cfg.Scope, choices("scope", "checkpoint domain: the whole system, or each address space"))
	f.Uint64Var(&cfg.PTEBytes, "pte-bytes", cfg.PTEBytes, "bytes per PTE; a page-table page holds page-size/pte-bytes PTEs")
	f.Uint64Var(&cfg.PageSize, "page-size", cfg.PageSize, "page size in bytes, a power of two")
	f.StringVar(&cfg.Format, "format", cfg.Format, choices("format", "trace format; auto sniffs it from the content"))
	f.BoolVar(&cfg.IgnoreSize, "ignore-size", cfg.IgnoreSize, "an access touches only the page of its address, not every page it overlaps")
	f.BoolVar(&cfg.Lenient, "lenient", cfg.Lenient, "lackey: skip and count malformed lines (skipped_lines) instead of failing")
	f.Int64Var(&cfg.Interval, "interval", cfg.Interval, "take a checkpoint after every N-th access of a domain; 0 for never")
	f.Int64SliceVar(&cfg.FailAt, "fail-at", cfg.FailAt, "inject a failure just after these access numbers (comma-separated, 1-based)")
	f.Float64Var(&cfg.MTBF, "mtbf", cfg.MTBF, "inject failures with exponential inter-arrival times of this mean, in accesses (with --seed)")
	f.StringVar(&cfg.Failure, "failure", cfg.Failure, choices("failure", "transient: roll back, memory intact; crash: volatile memory is lost (a rollback with non-volatile memory)"))
	f.BoolVar(&cfg.Verify, "verify", cfg.Verify, "check every read and every recovery against an independent golden model; exit 1 on a mismatch")
	f.Uint64Var(&cfg.VerifyBlock, "verify-block", cfg.VerifyBlock, "block size in bytes that --verify tracks")
	f.IntVar(&cfg.MaxPages, "max-pages", cfg.MaxPages, "stop with an error when the trace touches more than this many distinct pages (0: no limit); the default keeps a run within a few GiB (--verify costs about 8 bytes more a page per --verify-block in a page)")
	return cmd
}

// warnRun tells, on w, about settings that made the run measure less than it seems to.
func warnRun(w io.Writer, res *sim.Result) {
	c, s := res.Config, res.Stats
	if c.Interval > 0 && s.Checkpoints == 0 {
		fmt.Fprintf(w, "vmsim: warning: --interval %d is longer than the trace (%d accesses): no checkpoint was taken\n", c.Interval, s.Refs)
	}
	fails := s.Rollbacks
	if c.Failure == "crash" {
		fails = s.Crashes
	}
	if fails > 0 && s.Checkpoints == 0 {
		fmt.Fprintf(w, "vmsim: warning: %d failures and no checkpoint: every recovery replayed the trace from its start (set --interval)\n", fails)
	}
}

func choices(name, help string) string {
	return fmt.Sprintf("%s (%s)", help, strings.Join(sim.Choices[name], "|"))
}

func runLong() string {
	var b strings.Builder
	b.WriteString(`Replay TRACE (or, with no argument, a small real trace embedded in vmsim) through the
emulated MMU and print exact counts.

TRACE is a file in the rw, lackey, din (Dinero) or vmt format, plain or compressed with gzip, zstd or xz (the
compression is detected from the content). An access of size s at address a touches every
page overlapping [a, a+s) unless --ignore-size.

A failure strikes just after its access, before a checkpoint due at the same access; the
domain is recovered and the accesses since its last checkpoint are replayed.

Counters (all totals over the run):
`)
	w := 0
	for _, c := range sim.Counters {
		w = max(w, len(c.Key))
	}
	for _, c := range sim.Counters {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, c.Key, c.Doc)
	}
	b.WriteString(`
Exit status: 0 on success, 1 when --verify found a mismatch, 2 for a usage error or bad input.`)
	return b.String()
}

func printTable(w io.Writer, res *sim.Result) error {
	c := res.Config
	frames := "unlimited"
	if c.Frames > 0 {
		frames = fmt.Sprintf("%d (%s, steal %s)", c.Frames, c.Replace, c.Steal)
	}
	fmt.Fprintf(w, "trace %s\nscheme %s, memory %s, cow %s, frames %s, page %d B, vbits %d, scope %s, interval %d\n",
		c.Trace, c.Scheme, c.Memory, c.Cow, frames, c.PageSize, c.VBits, c.Scope, c.Interval)
	t := tablewriter.NewTable(w, tablewriter.WithAlignment(tw.Alignment{tw.AlignLeft, tw.AlignRight}))
	t.Header("counter", "value")
	for _, fv := range res.Stats.Fields() {
		if err := t.Append(fv.Key, strconv.FormatInt(fv.Value, 10)); err != nil {
			return err
		}
	}
	return t.Render()
}
