package sweep_test

import (
	"fmt"
	"strings"

	"github.com/vmsim/vmsim/sweep"
)

// An experiment over two corpus traces and two intervals: four points.
func ExampleSpec_Points() {
	spec := &sweep.Spec{
		Traces: []string{"corpus:sort", "corpus:awk"},
		Base:   map[string]any{"initial": "zero"},
		Vary:   map[string][]any{"interval": {1000, 100000}},
	}
	points, costs, _ := spec.Points()
	for _, p := range points {
		fmt.Println(p.Config.Trace, p.Config.Interval, p.Config.Initial)
	}
	fmt.Println(costs.Name, costs.Model.AccessNs, "ns an access")
	// Output:
	// corpus:sort 1000 zero
	// corpus:sort 100000 zero
	// corpus:awk 1000 zero
	// corpus:awk 100000 zero
	// default 0.5 ns an access
}

// Four shards of a sweep of ten points: each runs a share, and together they run every
// point once.
func ExampleShard_Points() {
	spec := &sweep.Spec{
		Traces:  []string{"corpus:sort"},
		Vary:    map[string][]any{"interval": {1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000}},
		Version: "example",
	}
	points, _, _ := spec.Points()
	for i := range 4 {
		shard, _ := sweep.ParseShard(fmt.Sprintf("%d/4", i))
		fmt.Println(shard, len(shard.Points(points)), "points")
	}
	// Output:
	// 0/4 3 points
	// 1/4 3 points
	// 2/4 2 points
	// 3/4 2 points
}

// A Slurm script for a sweep in 8 shards of 16 cores each; here its sbatch settings and
// the command each array task runs.
func ExampleWriteSlurmScript() {
	var b strings.Builder
	err := sweep.WriteSlurmScript(&b, sweep.SlurmOptions{
		SweepArgs: []string{"--spec", "experiment.yaml"},
		Points:    480, Shards: 8, CSV: "results.csv",
		Vmsim: "/shared/bin/vmsim", Partition: "batch", Time: "4:00:00", CPUs: 16,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "#SBATCH") || strings.Contains(l, "--shard") || strings.Contains(l, "--csv") {
			fmt.Println(strings.TrimSpace(l))
		}
	}
	// Output:
	// #SBATCH --job-name=vmsim-sweep
	// #SBATCH --partition=batch
	// #SBATCH --time=4:00:00
	// #SBATCH --cpus-per-task=16
	// #SBATCH --output=slurm-%x-%A_%a.out
	// exec "$vmsim" sweep "${sweep[@]}" --shard "$i/$shards" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
	// --trace-cache "$trace_cache" --csv results.shard-"$i"-of-8.csv
}
