package sweep

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteSlurmScript(t *testing.T) {
	base := SlurmOptions{
		SweepArgs: []string{"--spec", "my exp.yaml", "--set", "interval=1000,100000", "--base", "initial=it's"},
		Points:    12, Shards: 4, CSV: "out/results.csv", JSONL: "out/results.jsonl",
		Vmsim: "/shared/bin/vmsim", Partition: "batch", Time: "2:00:00", Mem: "8G", CPUs: 16, Version: "1.2.3",
	}
	write := func(o SlurmOptions) (string, error) {
		var b bytes.Buffer
		err := WriteSlurmScript(&b, o)
		return b.String(), err
	}
	got, err := write(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/bash\n",
		"vmsim 1.2.3",
		"#SBATCH --job-name=vmsim-sweep\n#SBATCH --partition=batch\n#SBATCH --time=2:00:00\n#SBATCH --cpus-per-task=16\n#SBATCH --mem=8G\n",
		"vmsim=/shared/bin/vmsim\nshards=4\n",
		`sweep=(--spec 'my exp.yaml' --set interval=1000,100000 --base 'initial=it'\''s')`,
		"outs=(out/results.csv out/results.jsonl)\n",
		"trace_cache=/tmp/vmsim-trace-cache-\"$(id -u)\"\ntrace_cache=${VMSIM_TRACE_CACHE:-$trace_cache}\n",
		`sbatch --parsable --array=0-$((shards - 1)) "$0" shard`,
		`--dependency=afterok:"$array"`,
		`--shard "$i/$shards"`,
		`--csv out/results.shard-"$i"-of-4.csv --jsonl out/results.shard-"$i"-of-4.jsonl`,
		`for out in "${outs[@]}"; do`,
		`"$vmsim" sweep merge "${sweep[@]}" --force -- "$out" "${parts[@]}"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if again, _ := write(base); again != got {
		t.Error("two scripts of the same options differ")
	}
	// Options left out are not given to sbatch.
	minimal := SlurmOptions{Shards: 1, CSV: "r.csv"}
	if s, err := write(minimal); err != nil || strings.Contains(s, "#SBATCH --partition") || strings.Contains(s, "#SBATCH --mem") ||
		strings.Contains(s, "#SBATCH --cpus-per-task") || strings.Contains(s, "#SBATCH --time") || !strings.Contains(s, "vmsim=vmsim\n") {
		t.Errorf("minimal options: %v\n%s", err, s)
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		path := filepath.Join(t.TempDir(), "s.sh")
		os.WriteFile(path, []byte(got), 0o644)
		if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v: %s", err, out)
		}
	}
	for _, c := range []struct {
		name string
		edit func(*SlurmOptions)
	}{
		{"no shards", func(o *SlurmOptions) { o.Shards = 0 }},
		{"no output", func(o *SlurmOptions) { o.CSV, o.JSONL = "", "" }},
		{"csv not .csv", func(o *SlurmOptions) { o.CSV = "r.jsonl" }},
		{"jsonl not .jsonl", func(o *SlurmOptions) { o.JSONL = "r.txt" }},
		{"negative cpus", func(o *SlurmOptions) { o.CPUs = -1 }},
		{"partition with a space", func(o *SlurmOptions) { o.Partition = "a b" }},
		{"time with a newline", func(o *SlurmOptions) { o.Time = "1:00\n#SBATCH --x" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := base
			c.edit(&o)
			if s, err := write(o); err == nil {
				t.Errorf("accepted:\n%s", s)
			}
		})
	}
}

func TestShardPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"results.csv", "results.shard-2-of-8.csv"},
		{"d.x/r.jsonl", "d.x/r.shard-2-of-8.jsonl"},
	} {
		if got := ShardPath(c.in, 2, 8); got != c.want {
			t.Errorf("ShardPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// stubSbatch stands in for Slurm's sbatch in TestSlurmScriptHostile: it records its
// arguments, then runs the job at once (every task of an array, one after the other) and
// prints a job ID.
const stubSbatch = `#!/bin/bash
printf '%s\0' "$@" >"$STUB_LOG/sbatch.$BASHPID"
array=
while [ $# -gt 0 ]; do
	case "$1" in
	--array=*) array=${1#--array=} ;;
	-*) ;;
	*) break ;;
	esac
	shift
done
script=$1
shift
if [ -n "$array" ]; then
	for ((i = ${array%-*}; i <= ${array#*-}; i++)); do
		SLURM_ARRAY_TASK_ID=$i bash "$script" "$@" >&2 || exit 1
	done
else
	bash "$script" "$@" >&2 || exit 1
fi
echo 7
`

// stubRecorder stands in for srun and vmsim: it records its arguments and does nothing.
const stubRecorder = `#!/bin/bash
printf '%s\0' "$@" >"$STUB_LOG/NAME.$BASHPID"
`

// stubCalls are the calls a script made of the stubs, each its arguments.
type stubCalls struct {
	sbatch, vmsim, srun [][]string
	// sbatchHeader are the options of the #SBATCH lines that Slurm reads: those before
	// the first line that is neither blank nor a comment.
	sbatchHeader []string
}

func readStubCalls(t *testing.T, log, script string) stubCalls {
	t.Helper()
	var c stubCalls
	es, err := os.ReadDir(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(log, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		switch strings.Split(e.Name(), ".")[0] {
		case "sbatch":
			c.sbatch = append(c.sbatch, args)
		case "vmsim":
			c.vmsim = append(c.vmsim, args)
		case "srun":
			c.srun = append(c.srun, args)
		}
	}
	lines := strings.Split(script, "\n")
	for _, l := range lines[1:] {
		l = strings.TrimLeft(l, " \t")
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "#") {
			break
		}
		if opt, ok := strings.CutPrefix(l, "#SBATCH "); ok {
			c.sbatchHeader = append(c.sbatchHeader, opt)
		}
	}
	return c
}

// containsRun reports whether args holds want, in a row.
func containsRun(args, want []string) bool {
	for i := 0; i+len(want) <= len(args); i++ {
		if slices.Equal(args[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

// TestSlurmScriptHostile plays the attacker: every value the script embeds gets strings
// that would break out of a comment, a quote, a ${...} or a command line. Each is either
// refused, with an error naming the option and nothing written, or the script is sound
// bash (bash -n) and, run with sbatch, srun and vmsim replaced by stubs on PATH, runs no
// injected command (no PWNED file appears), reads every #SBATCH line, and hands the value
// to vmsim or sbatch as it was given. For each hostile string, one script holds it in
// every option that takes it (so that the test runs few scripts).
func TestSlurmScriptHostile(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	hostile := []struct{ name, s string }{
		{"newline", "r\ntouch PWNED\n#"},
		{"newline then SBATCH", "r\n#SBATCH --wrap=touch PWNED\ntouch PWNED"},
		{"carriage return", "r\rtouch PWNED"},
		{"tab", "r\ttouch PWNED"},
		{"NUL", "r\x00touch PWNED"},
		{"C1 next line", "r\u0085touch PWNED"},
		{"command substitution", "$(touch PWNED)"},
		{"backticks", "`touch PWNED`"},
		{"single quotes", "it's'; touch PWNED; '"},
		{"double quotes", `"; touch PWNED; "`},
		{"closing brace", "x}; touch PWNED; {"},
		{"parameter expansion", "${IFS}$(touch${IFS}PWNED)"},
		{"ANSI-C quoting", "$'\\n'touch PWNED"},
		{"operators", "a; touch PWNED & b | touch PWNED > c"},
		{"glob and tilde", "~ * ? [a]"},
		{"an option", "-c touch PWNED"},
		{"backslash and bang", `a\ \'!b`},
		{"percent", "%x%j"},
	}
	// anyCall reports whether one of calls holds want in a row.
	anyCall := func(calls [][]string, want ...string) bool {
		return slices.ContainsFunc(calls, func(a []string) bool { return containsRun(a, want) })
	}
	outCheck := func(flag, ext string) func(t *testing.T, c stubCalls, script, v string) {
		return func(t *testing.T, c stubCalls, script, v string) {
			v += ext
			shard := ShardPath(v, 0, 1)
			if !anyCall(c.vmsim, flag, shard) || !anyCall(c.vmsim, "--force", "--", v, shard) {
				t.Errorf("%s %q: not passed on to the shard and the merge; vmsim ran with %q", flag, v, c.vmsim)
			}
		}
	}
	headerCheck := func(opt string) func(t *testing.T, c stubCalls, script, v string) {
		return func(t *testing.T, c stubCalls, script, v string) {
			if !slices.Contains(c.sbatchHeader, opt+"="+v) {
				t.Errorf("#SBATCH %s=%q not read; Slurm reads %q", opt, v, c.sbatchHeader)
			}
		}
	}
	fields := []struct {
		name  string // what the error names
		set   func(o *SlurmOptions, v string)
		check func(t *testing.T, c stubCalls, script, v string) // that v came through as it was
	}{
		{"--csv", func(o *SlurmOptions, v string) { o.CSV = v + ".csv" }, outCheck("--csv", ".csv")},
		{"--jsonl", func(o *SlurmOptions, v string) { o.JSONL = v + ".jsonl" }, outCheck("--jsonl", ".jsonl")},
		{"--vmsim", func(o *SlurmOptions, v string) { o.Vmsim = v }, func(t *testing.T, c stubCalls, s, v string) {
			if len(c.vmsim) != 3 {
				t.Errorf("the vmsim named %q ran %d times, want 3 (a shard, two merges)", v, len(c.vmsim))
			}
		}},
		{"--trace-cache", func(o *SlurmOptions, v string) { o.TraceCache = v }, func(t *testing.T, c stubCalls, s, v string) {
			if !anyCall(c.vmsim, "--trace-cache", v) {
				t.Errorf("--trace-cache %q not passed on: %q", v, c.vmsim)
			}
		}},
		{"sweep argument", func(o *SlurmOptions, v string) {
			o.SweepArgs = []string{"--spec", v, "--trace", v, "--set", "interval=1,2"}
		},
			func(t *testing.T, c stubCalls, s, v string) {
				for _, a := range c.vmsim {
					if !containsRun(a, []string{"--spec", v, "--trace", v, "--set", "interval=1,2"}) {
						t.Errorf("--spec and --trace %q not passed on: %q", v, a)
					}
				}
			}},
		{"--job-name", func(o *SlurmOptions, v string) { o.JobName = v }, func(t *testing.T, c stubCalls, s, v string) {
			headerCheck("--job-name")(t, c, s, v)
			if !anyCall(c.sbatch, "--job-name="+v+"-merge") {
				t.Errorf("merge job not named %q: %q", v+"-merge", c.sbatch)
			}
		}},
		{"--partition", func(o *SlurmOptions, v string) { o.Partition = v }, headerCheck("--partition")},
		{"--time", func(o *SlurmOptions, v string) { o.Time = v }, headerCheck("--time")},
		{"--mem", func(o *SlurmOptions, v string) { o.Mem = v }, headerCheck("--mem")},
		{"version", func(o *SlurmOptions, v string) { o.Version = v }, func(t *testing.T, c stubCalls, s, v string) {
			if !strings.Contains(s, "(vmsim "+v+")") {
				t.Errorf("version %q not in the script", v)
			}
		}},
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			o := SlurmOptions{SweepArgs: []string{"--trace", "t.vmt", "--set", "interval=1,2"}, Points: 2, Shards: 1,
				CSV: "r.csv", JSONL: "out.jsonl", TraceCache: "cache", JobName: "j", Partition: "p", Time: "1:00", Mem: "1G", CPUs: 2, Version: "1.0"}
			var taken []int // the fields that take h
			for i, f := range fields {
				one := o
				f.set(&one, h.s)
				var b bytes.Buffer
				if err := WriteSlurmScript(&b, one); err != nil {
					if !strings.Contains(err.Error(), f.name) || b.Len() > 0 {
						t.Errorf("%s refused with %q (and %d bytes written): want an error naming %s, nothing written", f.name, err, b.Len(), f.name)
					}
					continue
				}
				taken = append(taken, i)
				f.set(&o, h.s)
			}
			if len(taken) == 0 {
				return
			}
			var b bytes.Buffer
			if err := WriteSlurmScript(&b, o); err != nil {
				t.Fatal(err)
			}
			script := b.String()
			root := t.TempDir()
			bin, log, work := filepath.Join(root, "bin"), filepath.Join(root, "log"), filepath.Join(root, "work")
			for _, d := range []string{bin, log, work} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			vmsim := "vmsim"
			if o.Vmsim != "" {
				vmsim = o.Vmsim
			}
			for name, text := range map[string]string{"sbatch": stubSbatch, "srun": strings.ReplaceAll(stubRecorder, "NAME", "srun"), vmsim: strings.ReplaceAll(stubRecorder, "NAME", "vmsim")} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
					t.Fatalf("accepted a --vmsim no stub can be named: %v", err)
				}
			}
			path := filepath.Join(work, "sweep.sh")
			if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
				t.Fatalf("bash -n: %v: %s\n%s", err, out, script)
			}
			cmd := exec.Command(bash, path)
			cmd.Dir = work
			cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "STUB_LOG=" + log}
			out, runErr := cmd.CombinedOutput()
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Name() == "PWNED" {
					t.Errorf("the script ran an injected command: %s exists", p)
				}
				return nil
			})
			if runErr != nil {
				t.Fatalf("the script failed: %v\n%s\n%s", runErr, out, script)
			}
			c := readStubCalls(t, log, script)
			if len(c.sbatch) != 2 || len(c.vmsim) != 3 || len(c.srun) != 0 {
				t.Errorf("%d sbatch, %d vmsim, %d srun calls, want 2, 3 (a shard, two merges) and 0", len(c.sbatch), len(c.vmsim), len(c.srun))
			}
			if len(c.sbatchHeader) == 0 || c.sbatchHeader[len(c.sbatchHeader)-1] != "--output=slurm-%x-%A_%a.out" {
				t.Errorf("Slurm does not read every #SBATCH line, only %q:\n%s", c.sbatchHeader, script)
			}
			for _, i := range taken {
				fields[i].check(t, c, script, h.s)
			}
			if t.Failed() {
				t.Logf("script:\n%s", script)
			}
		})
	}
}

// TestSlurmTimeMem: --time and --mem in the forms sbatch takes, else refused when the
// script is written, not when it is submitted.
func TestSlurmTimeMem(t *testing.T) {
	for _, c := range []struct {
		name, time, mem string
		ok              bool
	}{
		{"minutes and megabytes", "90", "4000M", true},
		{"hours", "2:00:00", "8G", true},
		{"days", "1-12:00:00", "1T", true},
		{"days and hours", "2-6", "512", true},
		{"unlimited", "UNLIMITED", "", true},
		{"a word for the time", "abc", "", false},
		{"a word for the memory", "", "abc", false},
		{"a unit alone", "", "G", false},
		{"a fraction", "1.5", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := SlurmOptions{SweepArgs: []string{"--trace", "t.vmt"}, Points: 2, Shards: 1, CSV: "r.csv", Time: c.time, Mem: c.mem}
			err := o.Check()
			if (err == nil) != c.ok {
				t.Errorf("Check() = %v, want ok %v", err, c.ok)
			}
		})
	}
}
