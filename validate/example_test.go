package validate_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/vmsim/vmsim/validate"
)

// Summarize gives the median of repeated measurements and their spread (interquartile
// range over the median).
func ExampleSummarize() {
	median, spread := validate.Summarize([]float64{1.02, 0.98, 1.00, 1.10, 0.99})
	fmt.Printf("median %.2f s, spread %.1f%%\n", median, 100*spread)
	// Output: median 1.00 s, spread 3.0%
}

// Measure the real overhead of write-protection and full-copy checkpointing on the
// stencil program at its three default intervals, five runs of each.
func ExampleBuild_Measure() {
	b, err := validate.NewBuild("") // a private directory under os.TempDir()
	if errors.Is(err, validate.ErrNoCompiler) {
		fmt.Println("no C compiler")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	ctx := context.Background()
	mechs := []validate.Mechanism{validate.WP, validate.Full}
	if err := b.Supported(ctx, validate.SoftDirty); err == nil {
		mechs = append(mechs, validate.SoftDirty)
	}
	p, _ := validate.ProgramByName("stencil")
	points, err := b.Measure(ctx, p.Name, nil, mechs, p.Ks, validate.Options{Repeats: 5, Progress: os.Stderr})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, pt := range points {
		fmt.Printf("%s %s K=%d: overhead %.1f%% (± %.1f%%), %d traps, %d pages copied\n",
			pt.Program, pt.Mechanism, pt.K, 100*pt.Overhead, 100*pt.OverheadSpread, pt.Samples[0].Traps, pt.Samples[0].PagesCopied)
	}
}
