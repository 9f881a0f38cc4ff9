package sweep

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"text/template"
	"unicode"

	"github.com/vmsim/vmsim/internal/lazy"
)

// sbatchTime and sbatchMem match the forms sbatch takes for --time and --mem.
var (
	sbatchTime = lazy.Regexp(`^(\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+|\d+-\d+:\d+|\d+-\d+:\d+:\d+|UNLIMITED|unlimited|INFINITE|infinite)$`)
	sbatchMem  = lazy.Regexp(`^\d+[KMGTkmgt]?$`)
)

// SlurmOptions describe a sweep run on a Slurm cluster: an array job of one task a
// shard, then a merge job.
type SlurmOptions struct {
	// SweepArgs are the vmsim sweep arguments that give the experiment (--spec, --trace,
	// --set, --base, --cost), passed as they are to every shard and to the merge.
	SweepArgs []string
	// Points is the number of the sweep's points (for the script's header).
	Points int
	// Shards is the number of array tasks. Invariant (checked): >= 1.
	Shards int
	// CSV and JSONL are the merged outputs (at least one). Each shard writes its own
	// beside them: ShardPath.
	CSV, JSONL string
	// Vmsim is the vmsim binary the jobs run (a path on the shared file system, or a
	// name on the nodes' PATH).
	Vmsim string
	// TraceCache is each node's directory of local trace copies, private to the user
	// (see TraceCache). Empty: /tmp/vmsim-trace-cache-UID, UID the user's ID on the node
	// (each user needs their own). The job's environment variable VMSIM_TRACE_CACHE
	// overrides it.
	TraceCache string
	// JobName, Partition, Time and Mem are sbatch's --job-name, --partition, --time and
	// --mem; CPUs its --cpus-per-task, each task's parallel runs. Empty or 0: not given.
	JobName, Partition, Time, Mem string
	CPUs                          int
	// Version is the vmsim version writing the script.
	Version string
}

// ShardPath is where shard i of n writes a sweep output that ends up at path:
// results.csv -> results.shard-2-of-8.csv.
func ShardPath(path string, i, n int) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s.shard-%d-of-%d%s", strings.TrimSuffix(path, ext), i, n, ext)
}

// sbatchValue is what an #SBATCH option may hold here (no spaces, quotes or newlines).
var sbatchValue = lazy.Regexp(`^[A-Za-z0-9_.:+=,@/%-]*$`)

// scriptValue checks a value that goes into the script: bash reads a single-quoted word
// as it is, but no control character is let in (a newline or carriage return would end a
// line wherever the value goes, a NUL cannot be in an argument).
func scriptValue(what, v string) error {
	for i, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("slurm: %s %q: a control character (%U at byte %d) cannot go into the script", what, v, r, i)
		}
	}
	return nil
}

// Check checks the options as WriteSlurmScript does, and says what is wrong with them:
// every value that goes into the script (free of control characters; the #SBATCH ones of
// letters, digits and _.:+=,@/%- only), the shards, the outputs' names.
func (o SlurmOptions) Check() error {
	if o.Shards < 1 {
		return fmt.Errorf("slurm: want at least 1 shard, not %d", o.Shards)
	}
	if o.CSV == "" && o.JSONL == "" {
		return fmt.Errorf("slurm: name an output: a CSV and/or a JSON-lines file")
	}
	for _, v := range []struct{ what, value string }{
		{"--csv", o.CSV}, {"--jsonl", o.JSONL}, {"--vmsim", o.Vmsim}, {"--trace-cache", o.TraceCache}, {"the version", o.Version},
	} {
		if err := scriptValue(v.what, v.value); err != nil {
			return err
		}
	}
	for _, a := range o.SweepArgs {
		if err := scriptValue("sweep argument", a); err != nil {
			return err
		}
	}
	for _, out := range []struct {
		path string
		f    Format
	}{{o.CSV, CSV}, {o.JSONL, JSONL}} {
		if out.path == "" {
			continue
		}
		if f, err := FormatOf(out.path); err != nil || f != out.f {
			return fmt.Errorf("slurm: the %s output %q: want a name ending in .%s", out.f, out.path, out.f)
		}
	}
	if strings.HasPrefix(o.Vmsim, "-") || strings.HasPrefix(o.Vmsim, "%") {
		// bash would take it for an option of exec, or a job to bring to the foreground.
		return fmt.Errorf("slurm: --vmsim %q: want a name that does not start with - or %% (say ./%s)", o.Vmsim, o.Vmsim)
	}
	if o.CPUs < 0 {
		return fmt.Errorf("slurm: --cpus %d: want 0 (Slurm's default) or more", o.CPUs)
	}
	for _, v := range []struct{ what, value string }{{"--job-name", o.JobName}, {"--partition", o.Partition}, {"--time", o.Time}, {"--mem", o.Mem}} {
		if !sbatchValue().MatchString(v.value) {
			return fmt.Errorf("slurm: %s %q: want letters, digits and _.:+=,@/%%- only", v.what, v.value)
		}
	}
	// sbatch would refuse these only when the script is submitted.
	if o.Time != "" && !sbatchTime().MatchString(o.Time) {
		return fmt.Errorf("slurm: --time %q: want minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (as 1:00:00)", o.Time)
	}
	if o.Mem != "" && !sbatchMem().MatchString(o.Mem) {
		return fmt.Errorf("slurm: --mem %q: want a whole number with an optional unit K, M, G or T (as 8G)", o.Mem)
	}
	return nil
}

// WriteSlurmScript writes a bash script that runs a sweep on Slurm. Run with bash and no
// argument, it submits itself twice: as an array job of o.Shards tasks, task I running
// `vmsim sweep --shard I/N` into its own outputs, and as a merge job that waits for every
// task to succeed (--dependency=afterok) and runs `vmsim sweep merge` into the final
// outputs, the bytes one machine's sweep would write. The text depends on o only.
//
// Options that fail Check are refused, nothing written. Every value of o reaches bash
// as one single-quoted word (none goes into a comment but the version), so that the
// script passes each on as it is and runs nothing else.
func WriteSlurmScript(w io.Writer, o SlurmOptions) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.JobName == "" {
		o.JobName = "vmsim-sweep"
	}
	if o.Vmsim == "" {
		o.Vmsim = "vmsim"
	}
	cache := shellQuote(o.TraceCache)
	if o.TraceCache == "" {
		cache = `/tmp/vmsim-trace-cache-"$(id -u)"`
	}
	var outs []string
	for _, p := range []string{o.CSV, o.JSONL} {
		if p != "" {
			outs = append(outs, p)
		}
	}
	var shardOuts []string
	for _, p := range []struct{ flag, path string }{{"--csv", o.CSV}, {"--jsonl", o.JSONL}} {
		if p.path != "" {
			ext := filepath.Ext(p.path)
			shardOuts = append(shardOuts, p.flag, shellQuote(strings.TrimSuffix(p.path, ext)+".shard-")+`"$i"`+shellQuote(fmt.Sprintf("-of-%d%s", o.Shards, ext)))
		}
	}
	quoted := make([]string, len(o.SweepArgs))
	for i, a := range o.SweepArgs {
		quoted[i] = shellQuote(a)
	}
	quotedOuts := make([]string, len(outs))
	for i, a := range outs {
		quotedOuts[i] = shellQuote(a)
	}
	return slurmTemplate().Execute(w, map[string]any{
		"O":         o,
		"Sweep":     strings.Join(quoted, " "),
		"Outs":      strings.Join(quotedOuts, " "),
		"ShardOuts": strings.Join(shardOuts, " "),
		"Vmsim":     shellQuote(o.Vmsim),
		"Cache":     cache,
		"MergeName": shellQuote("--job-name=" + o.JobName + "-merge"),
	})
}

// shellWord matches the words bash reads as they are.
var shellWord = lazy.Regexp(`^[A-Za-z0-9_./:=,+@%-]+$`)

// shellQuote quotes s for bash: as it is when it is plainly a word, else in single quotes.
func shellQuote(s string) string {
	if s != "" && shellWord().MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// slurmTemplate is parsed at first use, not at start-up (every vmsim command would pay it).
var slurmTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("slurm").Parse(slurmScript))
})

const slurmScript = `#!/bin/bash
# A vmsim sweep on Slurm, written by vmsim sweep slurm (vmsim {{.O.Version}}): an array job
# of {{.O.Shards}} tasks, task I running shard I/{{.O.Shards}} of the sweep's {{.O.Points}} points into its own
# outputs, then a merge job that runs once every task has succeeded and joins them into
# the outputs one machine would have written (outs, below).
#
# Submit it, from the directory its relative paths are relative to, on a file system all
# nodes share (the outputs are written there), with:
#     bash THIS-FILE
# With no argument, the script submits itself: the array, then the merge. Each node reads the
# trace files through copies on its local disk, in $VMSIM_TRACE_CACHE (default below).
# A shard that failed or was cut short resumes where it stopped when resubmitted.
#SBATCH --job-name={{.O.JobName}}
{{- if .O.Partition}}
#SBATCH --partition={{.O.Partition}}
{{- end}}
{{- if .O.Time}}
#SBATCH --time={{.O.Time}}
{{- end}}
{{- if .O.CPUs}}
#SBATCH --cpus-per-task={{.O.CPUs}}
{{- end}}
{{- if .O.Mem}}
#SBATCH --mem={{.O.Mem}}
{{- end}}
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail

vmsim={{.Vmsim}}
shards={{.O.Shards}}
sweep=({{.Sweep}})
outs=({{.Outs}})
trace_cache={{.Cache}}
trace_cache=${VMSIM_TRACE_CACHE:-$trace_cache}

if [ $# -eq 0 ]; then
	array=$(sbatch --parsable --array=0-$((shards - 1)) "$0" shard)
	array=${array%%;*}
	merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
		{{.MergeName}} --cpus-per-task=1 --output=slurm-%x-%j.out "$0" merge)
	echo "submitted array job $array ($shards tasks) and merge job ${merge%%;*}"
	exit 0
fi

case "${1:-}" in
shard)
	i=$SLURM_ARRAY_TASK_ID
	exec "$vmsim" sweep "${sweep[@]}" --shard "$i/$shards" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
		--trace-cache "$trace_cache" {{.ShardOuts}}
	;;
merge)
	for out in "${outs[@]}"; do
		parts=()
		for ((i = 0; i < shards; i++)); do
			parts+=("${out%.*}.shard-$i-of-$shards.${out##*.}")
		done
		"$vmsim" sweep merge "${sweep[@]}" --force -- "$out" "${parts[@]}"
	done
	;;
*)
	echo "$0: run with no argument to submit; the jobs run it with shard or merge" >&2
	exit 2
	;;
esac
`
