package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/reproduce"
)

// version is vmsim's version, written into the results it produces.
const version = "0.3.0"

func newReproduceCmd(stderr io.Writer) *cobra.Command {
	var dir string
	var jobs int
	var resume bool
	var costs []string
	var which string
	var cache string
	var calibration, drmemtrace string
	var corpusOnly bool
	cmd := &cobra.Command{
		Use:   "reproduce [flags] [TRACE...]",
		Short: "Regenerate results/: the virtual-checkpoint study's tables, figures and README",
		Long: `Run the fixed experiments of the study on its ten workloads (real programs of Debian
and of the corpus's sources, 2 × 10^8 to 1.2 × 10^9 accesses and footprints of 1 MB to
269 MB each, recorded with valgrind into --cache at first use and reused after: see
docs/study.md, "The workloads"; reproduce/setup.sh installs what they need) and on the
TRACE files named, and write --dir (default results). The paper's and the comparative
study replay a window of each recording (its middle 5 × 10^7 accesses; a comparative
period longer than that runs on the whole recording); the long study replays them whole. --corpus runs the paper's and the comparative study on the
bundled corpus instead (its single-threaded traces; a few minutes, no recording; the
multi-threaded stencil-mt and reduce-mt are left out).

--study paper: the study of Bowen & Pradhan's "Virtual Checkpoints: Architecture and
Performance" (IEEE Trans. Computers, 1992), into DIR:

  table1.*   the traces: accesses, write fraction, pages touched and written
  table2.*   protection events and page copies per 1000 accesses against the interval
  fig1.*     overhead against the interval, non-volatile memory, one line per trace
  fig2.*     the same, volatile memory
  fig3.*     checkpoint frames at peak as a fraction of the footprint
  fig4.*     limited frames and --cow remap
  data/      every point: configuration, counters, modeled times (CSV and JSON lines)
  README.md  what each shows, the command and version, and the paper's claims with
             verdicts computed from the numbers (held, refuted, not testable)

--study compare: every scheme side by side (behind a 32 KiB 8-way cache, with none
behind the same cache as the baseline) at checkpoint periods of 1 ms to 10 s of modeled
time (each trace's interval in accesses from none's time per access), into DIR/compare:

  cmp-table0     the regimes: each trace's time per access and interval of each period
  cmp-table1..7  overhead per scheme; bytes copied, logged, stored and sent, stall and
                 memory per checkpoint; recovery cost; optimal intervals (Young 1974,
                 Daly 2006) against failure runs at an MTBF putting δ/M in 1e-4..1e-1,
                 10 seeds, the simulated optimum's 95% interval; the cheapest scheme
                 under each cost set; the granule (64 B to 4 KiB); the cost sets
  cmp-table8     output delay under --io hold, on the traces with output records
  cmp-table9     δ/M at every point of the failure runs
  cmp-fig1..11   overhead per scheme under each cost set (measured, hw-assisted, 1992);
                 bytes per checkpoint; memory overhead; granule; sensitivity to trap
                 cost, copy bandwidth and storage write cost; run time with failures;
                 output delay
  README.md      method, cost sets with sources, and conclusions computed from the numbers,
                 the optimal-interval claims with verdicts (held, refuted, not testable)

--study long: dualmap on the whole recordings (and a data-only recording of gzip),
intervals 10^6 to 10^9 after a warm-up of 10^8 accesses, into DIR/long: long-table1 (the
recordings), long-table2 and long-fig1 (overhead against the interval), and a README with
the recordings' versions, inputs and hashes and the verdict on the paper's claim about
intervals above 10^6.

--study all (the default) runs the paper's, the comparative and the long study (about
76 minutes on 2 cores with the recordings cached; recording them first takes about
half an hour; --corpus: a few minutes, and no long study).

--study validation: the model's predictions checked against real checkpointing on this
machine, into DIR/validation. It builds validate/'s C checkpointing library and four
programs (stencil, sort, kvstore, stream) with gcc, runs each natively under the library's
mechanisms wp and full (and softdirty where the kernel has soft-dirty bits) with a
checkpoint every K iterations over three decades of K, repeated, and measures the
overhead; records the same runs under valgrind with vmsim's tool (their checkpoint calls
become checkpoint records); and has vmsim predict the overhead of remus and incremental
(for wp) and shadow (for full) with this machine's costs, measured as it goes (calibrate's
copy and trap probes, run before each program's native runs) or taken from --calibration
FILE (a vmsim calibrate file):

  validation.csv    program,mechanism,scheme,interval,measured_overhead,
                    measured_spread,modeled_overhead
  validation.*      predicted against measured overhead, log-log, with y = x
  calibration.json  the costs used
  README.md         every point's error, the median absolute relative error per mechanism

It needs gcc (or cc) and valgrind with its tool headers (Debian: valgrind), and is skipped
with a message without them. --cost does not apply to it (its costs are this machine's).
About 8 minutes on a shared 2-core machine. Not part of --study all.

--study multicore: the coordinated schemes global and rebound (docs/coordinated.md) on 2,
4, 8 and 16 cores with private 32 KiB caches, on the corpus's multi-threaded programs
(stencil-mt, reduce-mt; threads pinned) and on the drmemtrace directory --drmemtrace DIR
when given (threads on their recorded cpus), with checkpoints every 50,000 accesses of each
active core and failures of one core at an MTBF of the trace's accesses / 16 (seed 1), into
DIR/multicore: multicore.csv (one row per run), figures of overhead, cores per checkpoint
and per rollback, lost work, bytes moved and coherence traffic against the core count, and a
README with the conclusions computed from them. A few minutes with the drmemtrace sample.
Not part of --study all.

Points whose interval is longer than the trace take no checkpoint: tables mark them
"no ckpt" and figures leave them out. Tables come as .txt, .md, .csv and .tex; figures as
.svg, .png and .pdf (one PDF a figure, for LaTeX) with their numbers in .csv. The same
inputs give the same files, byte for byte. Every point runs afresh unless --resume, which
keeps the points of an interrupted run and those already in data/ (the long study's are
always kept). The points go to data/points.csv.partial and points.jsonl.partial first, which
replace data/points.csv and points.jsonl only once every point has run: a run interrupted
or failed leaves the previous data as it was. A data file that vmsim did not write is
refused, untouched, before anything runs.

Progress goes to stderr: on a terminal one line with a bar, redrawn after every point;
otherwise (a pipe, a file) one line a finished step (the points of each trace, study by
study, then each study's tables and figures), each with the time elapsed and an estimate
of the time left, from the work done so far (a point's work is its trace's length). The
comparative study's first runs (none on every trace, and the failure-free runs that set
the failure runs' MTBF) come first; the comparative study's other points are known, and
counted in the estimate, once they have finished.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if jobs < 0 {
				return fmt.Errorf("--jobs %d: want 0 (one a core) or a positive number of parallel runs", jobs)
			}
			if which == "" {
				// Not the default: an empty value (a script's unset variable) would start the
				// hour-long study.
				return fmt.Errorf("--study \"\": want all, paper, compare, long, validation or multicore")
			}
			// Named inputs are checked before any study starts (it would fail late).
			if calibration != "" {
				if _, err := os.Stat(calibration); err != nil {
					return fmt.Errorf("--calibration: %w", err)
				}
			}
			if drmemtrace != "" {
				if fi, err := os.Stat(drmemtrace); err != nil {
					return fmt.Errorf("--drmemtrace: %w", err)
				} else if !fi.IsDir() {
					return fmt.Errorf("--drmemtrace %s: not a folder: give a DynamoRIO drmemtrace directory", drmemtrace)
				}
			}
			model, err := costSet(costs)
			if err != nil {
				return err
			}
			command := "vmsim reproduce"
			if args := reproduceArgs(cmd); len(args) > 0 {
				command = "vmsim reproduce " + strings.Join(args, " ")
			}
			return reproduce.Run(reproduce.Options{
				Dir: dir, Traces: args, Workloads: !corpusOnly, Cache: cache, Jobs: jobs, Resume: resume, Costs: model,
				Report: reproduce.NewProgress(stderr, isTerminal(stderr)), Command: command, Version: version, Study: which,
				Calibration: calibration, Log: stderr, Drmemtrace: drmemtrace,
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "results", "the results directory")
	f.IntVar(&jobs, "jobs", 0, "parallel runs (0: one a core)")
	f.BoolVar(&resume, "resume", false, "keep the points of an interrupted run (DIR/data/*.partial) and those already in DIR/data")
	f.StringVar(&which, "study", "all", "all|paper|compare|long|validation|multicore: the paper's study (DIR), the comparative study (DIR/compare), the whole recordings (DIR/long), the three (all), the model checked against real checkpointing (DIR/validation), or global against rebound on multi-core machines (DIR/multicore)")
	f.StringVar(&drmemtrace, "drmemtrace", "", "multicore study: a DynamoRIO drmemtrace directory to run beside the corpus's multi-threaded programs")
	f.StringVar(&calibration, "calibration", "", "validation study: take this machine's costs from FILE (written by vmsim calibrate) instead of measuring them")
	f.BoolVar(&corpusOnly, "corpus", false, "paper and compare studies: the corpus's traces (and TRACE files) instead of the workloads, and no long study (a quick run, for tests and CI)")
	f.StringVar(&cache, "cache", "", "the workloads' recordings folder, yours alone: reused unread, so refused if others can write to it (default ~/.cache/vmsim/long)")
	f.StringArrayVar(&costs, "cost", nil, costFlagHelp)
	return cmd
}

// reproduceArgs is the command line as given, minus --jobs and --resume (which do not
// change the results), for the README.
func reproduceArgs(cmd *cobra.Command) []string {
	var out []string
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "jobs" || f.Name == "resume" {
			return
		}
		if sv, ok := f.Value.(interface{ GetSlice() []string }); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		if f.Value.Type() == "bool" && f.Value.String() == "true" {
			out = append(out, "--"+f.Name)
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return append(out, cmd.Flags().Args()...)
}
