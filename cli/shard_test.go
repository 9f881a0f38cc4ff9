package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSbatch stands in for Slurm's sbatch: it runs the job at once, every task of an
// array one after the other, with the environment Slurm gives, and prints a job ID.
// Jobs run in submission order, so a dependency on an earlier job always holds.
const fakeSbatch = `#!/bin/bash
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
id=$(( $(cat "$FAKE_SBATCH_IDS" 2>/dev/null || echo 100) + 1 ))
echo $id >"$FAKE_SBATCH_IDS"
if [ -n "$array" ]; then
	for ((i = ${array%-*}; i <= ${array#*-}; i++)); do
		SLURM_JOB_ID=$id SLURM_ARRAY_TASK_ID=$i SLURM_CPUS_PER_TASK=2 bash "$script" "$@" >&2 || exit 1
	done
else
	SLURM_JOB_ID=$id bash "$script" "$@" >&2 || exit 1
fi
echo $id
`

// TestSweepShards runs a sweep on one machine, then in three shards merged by vmsim
// sweep merge, then through the script vmsim sweep slurm writes, run by a fake sbatch:
// the merged outputs are the one machine's bytes.
func TestSweepShards(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	spec := []string{"--trace", "corpus:sort", "--trace", "corpus:awk", "--base", "scheme=dualmap", "--set", "interval=10000,1000000", "--set", "cow=copy,remap"}
	sweepCmd := func(extra ...string) {
		t.Helper()
		args := append(append([]string{"sweep"}, spec...), extra...)
		if code, _, stderr := runCLI(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	sweepCmd("--csv", in("whole.csv"), "--jsonl", in("whole.jsonl"))
	wholeCSV, _ := os.ReadFile(in("whole.csv"))
	if n := bytes.Count(wholeCSV, []byte("\n")); n != 9 {
		t.Fatalf("%d CSV lines", n)
	}

	// By hand: three shards, merged.
	var csvs, jsonls []string
	for i := range 3 {
		c, j := in(fmt.Sprintf("s%d.csv", i)), in(fmt.Sprintf("s%d.jsonl", i))
		sweepCmd("--shard", fmt.Sprintf("%d/3", i), "--csv", c, "--jsonl", j, "--decode-memory", []string{"auto", "0", "64M"}[i])
		csvs, jsonls = append(csvs, c), append(jsonls, j)
	}
	mergeArgs := func(out string, shards ...string) []string {
		return append(append(append([]string{"sweep", "merge"}, spec...), out), shards...)
	}
	merge := func(out string, shards ...string) (int, string) {
		code, _, stderr := runCLI(mergeArgs(out, shards...)...)
		return code, stderr
	}
	if code, stderr := merge(in("m.csv"), csvs...); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	if code, stderr := merge(in("m.jsonl"), jsonls...); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	for _, c := range []struct{ got, want string }{{"m.csv", "whole.csv"}, {"m.jsonl", "whole.jsonl"}} {
		got, _ := os.ReadFile(in(c.got))
		want, _ := os.ReadFile(in(c.want))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", c.got, c.want)
		}
	}
	// Refusals, exit 2, the output untouched.
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing shard", mergeArgs(in("x.csv"), csvs[0], csvs[1]), "in none of"},
		{"existing output", mergeArgs(in("m.csv"), csvs...), "--force"},
		{"unknown format", mergeArgs(in("x.txt"), csvs...), ".csv or *.jsonl"},
		{"another spec", append([]string{"sweep", "merge", "--trace", "corpus:sort", "--set", "interval=10000", in("y.csv")}, csvs...), "not one of this sweep's"},
		{"bad shard", append(append([]string{"sweep"}, spec...), "--shard", "3/3", "--csv", in("z.csv")), "0 <= I < N"},
		{"bad decode memory", append(append([]string{"sweep"}, spec...), "--decode-memory", "lots", "--csv", in("z.csv")), "--decode-memory"},
		{"slurm without shards", append(append([]string{"sweep", "slurm"}, spec...), "--csv", "r.csv"), "shard"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, %q; want 2 and %q", code, stderr, c.want)
			}
		})
	}
	for _, p := range []string{"x.csv", "y.csv", "z.csv"} {
		if _, err := os.Stat(in(p)); err == nil {
			t.Errorf("%s written despite an error", p)
		}
	}

	// Through the Slurm script, run by a fake sbatch.
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fakeSbatch), 0o755)
	os.WriteFile(filepath.Join(bin, "vmsim"), []byte("#!/bin/sh\nVMSIM_TEST_MAIN=1 exec "+self+" -- \"$@\"\n"), 0o755)
	work := t.TempDir()
	script := filepath.Join(work, "sweep.sh")
	args := append(append([]string{"sweep", "slurm"}, spec...), "--shards", "3", "--csv", "r.csv", "--jsonl", "out dir/r.jsonl",
		"--vmsim", filepath.Join(bin, "vmsim"), "--trace-cache", filepath.Join(work, "cache"), "--cpus", "2", "-o", script)
	if code, _, stderr := runCLI(args...); code != 0 {
		t.Fatalf("slurm: exit %d: %s", code, stderr)
	}
	os.Mkdir(filepath.Join(work, "out dir"), 0o755)
	cmd := exec.Command(bash, script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_SBATCH_IDS="+filepath.Join(work, "ids"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash %s: %v\n%s", script, err, out)
	}
	if !strings.Contains(string(out), "submitted array job 101 (3 tasks) and merge job 102") {
		t.Errorf("submission said:\n%s", out)
	}
	for _, c := range []struct{ got, want string }{{filepath.Join(work, "r.csv"), in("whole.csv")}, {filepath.Join(work, "out dir", "r.jsonl"), in("whole.jsonl")}} {
		got, _ := os.ReadFile(c.got)
		want, _ := os.ReadFile(c.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", c.got, c.want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "r.shard-2-of-3.csv")); err != nil {
		t.Errorf("shard output: %v", err)
	}
}
