package sweep

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
		"trace_cache=${VMSIM_TRACE_CACHE:-/tmp/vmsim-trace-cache}\n",
		`sbatch --parsable --array=0-$((shards - 1)) "$0" shard`,
		`--dependency=afterok:"$array"`,
		`--shard "$i/$shards"`,
		`--csv out/results.shard-"$i"-of-4.csv --jsonl out/results.shard-"$i"-of-4.jsonl`,
		"for out in out/results.csv out/results.jsonl; do",
		`"$vmsim" sweep merge "${sweep[@]}" --force "$out" "${parts[@]}"`,
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
