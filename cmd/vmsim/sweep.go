package main

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

func newSweepCmd(stdout, stderr io.Writer) *cobra.Command {
	var specPath, csvPath, jsonlPath string
	var trs, sets, bases, costs []string
	var jobs int
	cmd := &cobra.Command{
		Use:   "sweep [flags]",
		Short: "Run many independent simulations (traces × parameters) on every core, resumably",
		Long: `Run an experiment: every trace crossed with every combination of the varied settings,
each point an independent run of vmsim run, plus a run of scheme none with the same trace
and paging settings (no checkpoints, no failures) as its baseline. For each point the
results hold the full configuration, every counter, the modeled time by the cost model
(split by cause), the baseline's, and overhead = time / baseline time - 1.

The experiment comes from a YAML file (--spec) and/or flags:

  traces: [corpus, my.trace.gz]      # files, corpus:NAME, or corpus for the bundled corpus
  base:  {initial: zero, page_size: 4096}           # settings for every point
  vary:  {interval: [1000, 100000], memory: [nonvolatile, volatile]}
  costs: {disk_write_ns: 100000}                    # cost model overrides

Keys are those of vmsim run --json's "config" and, for costs: ` + costKeys() + `.
--set KEY=V1,V2 varies a key, --base KEY=V fixes one, --cost KEY=V sets a cost.

Results go to --csv and/or --jsonl, one line a point, in point order. A point already in
an output file (same configuration and cost model) is not run again: rerun the same
command to resume an interrupted sweep. A point's identity is the vmsim version, the
SHA-256 of its trace file's content, its full configuration and the cost model: a trace
replaced by another under the same name runs again. An output file is locked while a
sweep writes it (a second sweep on it stops with a message), and a file that holds
anything but results of this vmsim is refused, untouched. A point that fails does not
stop the others; every finished point is written, and a rerun retries the failed ones.
Trace files must be regular files (each is read many times). Progress shows on a
terminal only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := &sweep.Spec{}
			if specPath != "" {
				var err error
				if spec, err = sweep.ReadSpec(specPath); err != nil {
					return err
				}
			}
			spec.Traces = append(spec.Traces, trs...)
			if err := applyKV(&spec.Base, bases); err != nil {
				return fmt.Errorf("--base: %w", err)
			}
			if err := applyKV(&spec.Costs, costs); err != nil {
				return fmt.Errorf("--cost: %w", err)
			}
			if spec.Vary == nil {
				spec.Vary = map[string][]any{}
			}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || k == "" {
					return fmt.Errorf("--set %q: want KEY=V1,V2,...", s)
				}
				for _, x := range strings.Split(v, ",") {
					spec.Vary[k] = append(spec.Vary[k], parseValue(x))
				}
			}
			if csvPath == "" && jsonlPath == "" {
				return fmt.Errorf("name an output: --csv FILE and/or --jsonl FILE")
			}
			spec.Version = version
			points, model, err := spec.Points()
			if err != nil {
				return err
			}
			var sinks []sweep.Sink
			var files []*sweep.File
			for _, o := range []struct {
				path string
				open func(string) (*sweep.File, error)
			}{{csvPath, sweep.OpenCSV}, {jsonlPath, sweep.OpenJSONL}} {
				if o.path == "" {
					continue
				}
				f, err := o.open(o.path)
				if err != nil {
					return err
				}
				defer f.Close()
				files = append(files, f)
				sinks = append(sinks, f)
			}
			opt := sweep.Options{Jobs: jobs, Costs: model, Progress: progressLine(stderr, "sweep"), Version: version}
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
	f.StringVar(&specPath, "spec", "", "experiment file (YAML)")
	f.StringArrayVar(&trs, "trace", nil, "a trace: a file, corpus:NAME, or corpus (repeatable)")
	f.StringArrayVar(&sets, "set", nil, "vary a setting: KEY=V1,V2,... (repeatable)")
	f.StringArrayVar(&bases, "base", nil, "fix a setting for every point: KEY=V (repeatable)")
	f.StringArrayVar(&costs, "cost", nil, "set a cost: KEY=V (repeatable)")
	f.StringVar(&csvPath, "csv", "", "append results to this CSV file")
	f.StringVar(&jsonlPath, "jsonl", "", "append results to this JSON-lines file")
	f.IntVar(&jobs, "jobs", 0, "parallel runs (0: one a core)")
	return cmd
}

// costKeys lists the cost model's keys, in the order of its fields.
func costKeys() string {
	t := reflect.TypeOf(sim.CostModel{})
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return strings.Join(keys, ", ")
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
