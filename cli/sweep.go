package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

// specFlags are the flags that give a sweep's experiment, shared by sweep, sweep merge
// and sweep slurm.
type specFlags struct {
	specPath                string
	trs, sets, bases, costs []string
	// reg holds the schemes the experiment may name.
	reg *scheme.Registry
	// stderr, when set, gets a note for each key given in an old spelling.
	stderr io.Writer
}

func (sf *specFlags) register(f *pflag.FlagSet) {
	f.StringVar(&sf.specPath, "spec", "", "experiment file (YAML)")
	f.StringArrayVar(&sf.trs, "trace", nil, "a trace: a file, corpus:NAME, or corpus (repeatable)")
	f.StringArrayVar(&sf.sets, "set", nil, "vary a setting: KEY=V1,V2,... (repeatable)")
	f.StringArrayVar(&sf.bases, "base", nil, "fix a setting for every point: KEY=V (repeatable)")
	f.StringArrayVar(&sf.costs, "cost", nil, costFlagHelp)
}

// args returns the flags as arguments that give the same experiment.
func (sf *specFlags) args() []string {
	var out []string
	if sf.specPath != "" {
		out = append(out, "--spec", sf.specPath)
	}
	for _, l := range []struct {
		flag string
		vs   []string
	}{{"--trace", sf.trs}, {"--set", sf.sets}, {"--base", sf.bases}, {"--cost", sf.costs}} {
		for _, v := range l.vs {
			out = append(out, l.flag, v)
		}
	}
	return out
}

// points reads the experiment and expands it into its points and cost model.
func (sf *specFlags) points() ([]sweep.Point, cost.Set, error) {
	spec := &sweep.Spec{Registry: sf.reg}
	if sf.specPath != "" {
		var err error
		if spec, err = sweep.ReadSpecIn(sf.specPath, sf.reg); err != nil {
			return nil, cost.Set{}, err
		}
	}
	spec.Traces = append(spec.Traces, sf.trs...)
	if err := applyKV(&spec.Base, sf.bases); err != nil {
		return nil, cost.Set{}, fmt.Errorf("--base: %w", err)
	}
	base, kvs, err := splitCostFlags(sf.costs)
	if err != nil {
		return nil, cost.Set{}, err
	}
	if base != nil {
		spec.CostBase = base
	}
	if spec.Costs == nil && len(kvs) > 0 {
		spec.Costs = map[string]any{}
	}
	for k, v := range kvs {
		spec.Costs[k] = v
	}
	if spec.Vary == nil {
		spec.Vary = map[string][]any{}
	}
	for _, s := range sf.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, cost.Set{}, fmt.Errorf("--set %q: want KEY=V1,V2,...", s)
		}
		for _, x := range strings.Split(v, ",") {
			spec.Vary[k] = append(spec.Vary[k], parseValue(x))
		}
	}
	// Messages name where a setting was given: the spec's base and vary, the flags, or both.
	spec.BaseName, spec.VaryName = "--base", "--set"
	if sf.specPath != "" {
		spec.BaseName, spec.VaryName = "base", "vary"
		if len(sf.bases) > 0 {
			spec.BaseName = "base or --base"
		}
		if len(sf.sets) > 0 {
			spec.VaryName = "vary or --set"
		}
	}
	spec.Version = version
	if sf.stderr != nil {
		spec.Deprecated = func(note string) { fmt.Fprintf(sf.stderr, "vmsim: deprecated: %s\n", note) }
	}
	return spec.Points()
}

func newSweepCmd(reg *scheme.Registry, stdout, stderr io.Writer) *cobra.Command {
	sf := specFlags{reg: reg, stderr: stderr}
	var csvPath, jsonlPath, shardFlag, decodeMemory, traceCache string
	var jobs int
	cmd := &cobra.Command{
		Use:   "sweep [flags]",
		Short: "Run many independent simulations (traces × parameters) on every core, resumably",
		Long: `Run an experiment: every trace crossed with every combination of the varied settings,
each point an independent run of vmsim run, plus a run of scheme none with the same trace
and paging settings (no checkpoints, no failures: it ignores the trace's fail records) as
its baseline. For each point the results hold the full configuration, every counter, the
cost set (its name and every value), the modeled time by the cost model (split by cause),
the baseline's, and overhead = time / baseline time - 1, by the overhead rule: every term
of the point's time is charged at least the baseline's, so that first-touch faults, paging
I/O and the program's own cache misses count the same on both sides, and an overhead is
never negative (docs/counters.md, "Overhead: the rule"). A JSON line is vmsim run --json's
config and stats with id, trace_sha256, vmsim_version, cost_set, cost, baseline and
overhead. The CSV's columns, each name once, are id, trace_sha256, vmsim_version, the
config's and the counters' JSON keys (scheme is the configured scheme), the schemes' own
counters as scheme_KEY (a column for each key of a registered scheme's counters, empty in
a row whose scheme lacks it), the cost set as cost_set (its name) and model_KEY (each
value), the times as cost_* and baseline_*, and overhead.

The experiment comes from a YAML file (--spec) and/or flags:

  traces: [corpus, my.trace.gz]      # files, corpus:NAME, or corpus for the bundled corpus
  base:  {initial: zero, page_size: 4096}           # settings for every point
  vary:  {interval: [1000, 100000], memory: [nonvolatile, volatile]}
  costs: {disk_write_ns: 100000}                    # cost model values

Keys are those of vmsim run --json's "config" (and schemes' own settings, as
--copy-rate's copy_rate: a key is its flag's name with underscores for hyphens; the old
spelling with hyphens is accepted with a deprecation note) and, for costs: ` + costKeys() + `.
An unknown key is refused with the closest one or the list of keys, a value of the wrong
type with the type its key takes.
--set KEY=V1,V2 varies a key, --base KEY=V fixes one, --cost KEY=V sets a cost, and
--cost FILE takes the costs of a cost file (vmsim calibrate's, or a JSON object of cost
keys and numbers; an unknown key is an error naming the file and the key) as the base,
which the spec's costs and --cost KEY=V then modify. Keys are case-sensitive, null is
not a value (leave a key out for its default), and a spec file is one YAML document:
anything else is an error naming the file and line.

Results go to --csv and/or --jsonl, one line a point, in point order. A point already in
an output file (same configuration and cost model) is not run again: rerun the same
command to resume an interrupted sweep. A point's identity is the vmsim version, the
SHA-256 of its trace file's content, its full configuration and the cost set: a trace
replaced by another under the same name runs again. An output file is locked while a
sweep writes it (a second sweep on it stops with a message), and a file that holds
anything but results of this vmsim is refused, untouched, as is one with a line for a
point of the sweep that does not say that point's configuration in every column (the
trace's hash, the version, each setting: a line edited, or of another vmsim or trace).
An existing output must be yours and not writable by everyone (its lines are taken as
results), and another user's link or fifo in a shared sticky folder such as /tmp is not
written through. Every output is checked and locked before any is created, and --csv and --jsonl must be
two files. A point that fails does not stop the others; every finished point is written,
and a rerun retries the failed ones. Trace files must be regular files (each is read
many times). Progress shows on a terminal only.

Each trace is decoded once into memory and shared by all its points on every core, when
it fits in --decode-memory (by default a quarter of the machine's memory, or of the
cgroup's limit under Slurm or in a container; a record takes 24 bytes); the points run
trace by trace, and a trace's records are freed after its last point. A trace that does
not fit is streamed from its file by each run. Results are the same bytes either way.

On many machines: --shard I/N runs shard I (0 <= I < N) of N, a deterministic share of
the points (the sweep's point IDs sorted, every Nth from the Ith), each shard into its
own outputs; 'vmsim sweep merge' joins the shards' outputs into exactly the file one
machine's sweep writes, and 'vmsim sweep slurm' writes a Slurm script that does both.
--trace-cache DIR reads trace files through copies in DIR (a node's local disk), named
by content hash; results do not change. DIR must be yours and writable by no one else
(vmsim makes it with mode 0700; it refuses a symbolic link); a copy is used only once its
content hash is checked, and anything else under its name is replaced.

Every run reads the bytes its point was made for: a trace is opened once for all its
runs, and one that changes under the sweep (rewritten in place, or replaced before the
sweep opened it) fails its points with an error naming it; run the sweep again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if csvPath == "" && jsonlPath == "" {
				return fmt.Errorf("name an output: --csv FILE and/or --jsonl FILE")
			}
			if jobs < 0 {
				return fmt.Errorf("--jobs %d: want 0 (one a core) or a positive number of parallel runs", jobs)
			}
			all, model, err := sf.points()
			if err != nil {
				return err
			}
			points := all
			if shardFlag != "" {
				shard, err := sweep.ParseShard(shardFlag)
				if err != nil {
					return fmt.Errorf("--shard: %w", err)
				}
				points = shard.Points(all)
			}
			mem, err := parseDecodeMemory(decodeMemory)
			if err != nil {
				return err
			}
			// The trace cache is checked before any output is created, so that a refused
			// cache leaves nothing behind.
			if traceCache != "" {
				if err := sweep.TraceCache(traceCache).Check(); err != nil {
					return err
				}
			}
			// Every output is checked (a line of one of the sweep's points, in any shard,
			// must be that point's) and locked before any is created.
			var outs []sweep.Output
			if csvPath != "" {
				outs = append(outs, sweep.Output{Path: csvPath, Format: sweep.CSV})
			}
			if jsonlPath != "" {
				outs = append(outs, sweep.Output{Path: jsonlPath, Format: sweep.JSONL})
			}
			files, err := sweep.OpenOutputs(all, outs...)
			if err != nil {
				return err
			}
			var sinks []sweep.Sink
			for _, f := range files {
				defer f.Close()
				sinks = append(sinks, f)
			}
			opt := sweep.Options{Jobs: jobs, Costs: model, Progress: progressLine(stderr, "sweep"), Version: version,
				DecodeMemory: mem, TraceCache: sweep.TraceCache(traceCache)}
			res, err := sweep.Run(points, opt, sinks...)
			for _, f := range files {
				if cerr := f.Close(); cerr != nil && err == nil {
					err = cerr
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "vmsim: %d points, %d run now, %d already done\n", len(points), len(res), len(points)-len(res))
			return nil
		},
	}
	f := cmd.Flags()
	sf.register(f)
	f.StringVar(&csvPath, "csv", "", "append results to this CSV file")
	f.StringVar(&jsonlPath, "jsonl", "", "append results to this JSON-lines file")
	f.IntVar(&jobs, "jobs", 0, "parallel runs (0: one a core)")
	f.StringVar(&shardFlag, "shard", "", "run shard I of N (I/N, 0 <= I < N): a deterministic share of the points")
	f.StringVar(&decodeMemory, "decode-memory", "auto", "memory for traces decoded once and shared (a size: 4G, 512M; auto: a quarter of memory; 0: stream every run)")
	f.StringVar(&traceCache, "trace-cache", "", "read trace files through copies in this directory (a node's local disk)")
	cmd.AddCommand(newSweepMergeCmd(reg, stderr), newSweepSlurmCmd(reg, stdout))
	return cmd
}

// parseDecodeMemory reads --decode-memory: auto, 0 (none) or a size.
func parseDecodeMemory(s string) (int64, error) {
	switch s {
	case "auto", "":
		return 0, nil
	case "0":
		return -1, nil
	}
	n, err := sim.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("--decode-memory %q: %w", s, err)
	}
	if n == 0 {
		return -1, nil
	}
	return int64(n), nil
}

func newSweepMergeCmd(reg *scheme.Registry, stderr io.Writer) *cobra.Command {
	sf := specFlags{reg: reg, stderr: stderr}
	var format string
	var force bool
	cmd := &cobra.Command{
		Use:   "merge [spec flags] OUT SHARD...",
		Short: "Join the outputs of a sweep's shards into the file one machine's sweep writes",
		Long: `Join the outputs of the shards of a sweep (vmsim sweep --shard I/N, for every I) into
OUT: exactly the bytes one unsharded, uninterrupted vmsim sweep writes, rows in point
order. Give the experiment as to the shards (--spec, --trace, --set, --base, --cost): it
says which points there are and their order. Every point must be in exactly one shard
output: a result of another experiment, vmsim version or cost model, a line that does
not say its point's configuration in every column (the trace's hash, the version, each
setting: a line edited), a point in two outputs or in none (a shard not run, or one
whose points failed), a line cut short (an interrupted shard: resume it) is an error
naming the file and line, and OUT is left as it was. The format (CSV or JSON lines) is OUT's extension (.csv, .jsonl) unless --format
says; every shard output must be of that format. OUT is written whole or not at all; an
existing OUT is replaced only with --force.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, shards := args[0], args[1:]
			f := sweep.Format(format)
			if format == "" {
				var err error
				if f, err = sweep.FormatOf(out); err != nil {
					return err
				}
			} else if f != sweep.CSV && f != sweep.JSONL {
				return fmt.Errorf("--format %q: want csv or jsonl", format)
			}
			if _, err := os.Stat(out); err == nil && !force {
				return fmt.Errorf("%s exists: give --force to replace it", out)
			}
			points, _, err := sf.points()
			if err != nil {
				return err
			}
			if err := atomicfile.Write(out, func(w io.Writer) error { return sweep.Merge(w, f, points, shards) }); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "vmsim: merged %d shard outputs into %s (%d points)\n", len(shards), out, len(points))
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "", "the outputs' format: csv or jsonl (default: OUT's extension)")
	cmd.Flags().BoolVar(&force, "force", false, "replace OUT if it exists")
	return cmd
}

func newSweepSlurmCmd(reg *scheme.Registry, stdout io.Writer) *cobra.Command {
	sf := specFlags{reg: reg}
	var o sweep.SlurmOptions
	var outPath string
	cmd := &cobra.Command{
		Use:   "slurm [spec flags] --shards N --csv FILE|--jsonl FILE [flags]",
		Short: "Write a Slurm script that runs a sweep as an array job of shards, then merges them",
		Long: `Write a bash script (to standard output, or -o FILE) that runs a sweep on a Slurm
cluster. Run with bash on a login node, it submits itself twice: as an array job of
--shards tasks, task I running vmsim sweep --shard I/N with --cpus parallel runs into its
own outputs (the final names with .shard-I-of-N before the extension), and as a merge
job that starts once every task has succeeded (--dependency=afterok) and runs vmsim
sweep merge into the final --csv and/or --jsonl files: the bytes one machine's sweep
writes. Give the experiment as to vmsim sweep (--spec, --trace, --set, --base, --cost);
the script passes these flags on as they are, so relative paths are relative to the
directory the script is submitted from, which must be on a file system all nodes share.
Each task reads trace files through copies in --trace-cache, a directory on its node's
local disk that must be private to you (as for vmsim sweep; by default
/tmp/vmsim-trace-cache-UID, UID your user ID; the job's $VMSIM_TRACE_CACHE overrides it). Resubmitting the script resumes
shards that stopped. The script's text depends only on the flags. Every value reaches
bash as one single-quoted word and is passed on as it is; a value with a control
character (a newline, a tab, a NUL) is refused, as are --job-name, --partition, --time
and --mem values other than letters, digits and _.:+=,@/%-.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.SweepArgs, o.Version = sf.args(), version
			if err := o.Check(); err != nil {
				return err
			}
			points, _, err := sf.points()
			if err != nil {
				return err
			}
			o.Points = len(points)
			if o.Shards > len(points) {
				return fmt.Errorf("--shards %d: more than the sweep's %d points (a shard beyond them would run nothing); give at most %d", o.Shards, len(points), len(points))
			}
			if outPath == "" {
				return sweep.WriteSlurmScript(stdout, o)
			}
			return atomicfile.Write(outPath, func(w io.Writer) error { return sweep.WriteSlurmScript(w, o) })
		},
	}
	f := cmd.Flags()
	sf.register(f)
	f.IntVar(&o.Shards, "shards", 0, "array tasks, one a shard (required)")
	f.StringVar(&o.CSV, "csv", "", "the merged CSV output")
	f.StringVar(&o.JSONL, "jsonl", "", "the merged JSON-lines output")
	f.StringVar(&o.Vmsim, "vmsim", "vmsim", "the vmsim binary the jobs run (on the shared file system, or on the nodes' PATH)")
	f.StringVar(&o.TraceCache, "trace-cache", "", "each node's local directory of trace copies, private to you (default: /tmp/vmsim-trace-cache-UID, UID your user ID)")
	f.StringVar(&o.JobName, "job-name", "vmsim-sweep", "the jobs' name (the merge's gets -merge)")
	f.StringVar(&o.Partition, "partition", "", "sbatch --partition (default: the cluster's)")
	f.StringVar(&o.Time, "time", "", "sbatch --time for each task, as 1:00:00 (default: the partition's)")
	f.StringVar(&o.Mem, "mem", "", "sbatch --mem for each task, as 8G (default: the partition's)")
	f.IntVar(&o.CPUs, "cpus", 0, "sbatch --cpus-per-task: each task's parallel runs (0: Slurm's default, one)")
	f.StringVarP(&outPath, "output", "o", "", "write the script to this file (default: standard output)")
	return cmd
}

// costKeys lists the cost model's keys, in the order of its fields.
func costKeys() string {
	return strings.Join(cost.Keys(), ", ")
}

// parseValue reads a flag value as JSON when it is a number, a boolean or a list, and as
// a string otherwise.
func parseValue(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		if _, isString := v.(string); !isString {
			return v
		}
	}
	return s
}

func applyKV(m *map[string]any, kvs []string) error {
	for _, s := range kvs {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q: want KEY=VALUE", s)
		}
		if *m == nil {
			*m = map[string]any{}
		}
		(*m)[k] = parseValue(v)
	}
	return nil
}

// progressLine returns a progress callback that rewrites one line on a terminal, or nil
// when w is not a terminal.
func progressLine(w io.Writer, what string) func(done, total int) {
	if !isTerminal(w) {
		return nil
	}
	start := time.Now()
	first := -1
	return func(done, total int) {
		if first < 0 {
			first = done
		}
		el := time.Since(start)
		fmt.Fprintf(w, "\r%s: %d/%d points, %s elapsed, about %s left   ", what, done, total,
			el.Round(time.Second), sweep.ETA(el, done, first, total).Round(time.Second))
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
