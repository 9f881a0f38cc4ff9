package calibrate_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vmsim/vmsim/calibrate"
)

// canned is a Runner that answers every probe with a fixed line, as the probe program
// would print it.
type canned map[string]string

func (c canned) Run(ctx context.Context, probe string, args ...string) (map[string]float64, error) {
	return calibrate.ParseLine(c[probe])
}

// Measure runs the probes through a Runner (here canned answers; calibrate.NewProbeRunner
// compiles and runs the real probe) and returns the cost file.
func ExampleMeasure() {
	r := canned{
		"copy": "bytes=65536 ns=10000",
		"trap": "traps=100 trap_ns=250000 calls=100 mprotect_ns=120000",
	}
	f, err := calibrate.Measure(context.Background(), r, calibrate.Options{
		Repeats: 3,
		Only:    []string{"copy", "trap"},
		Now:     func() time.Time { return time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range f.Values {
		fmt.Printf("%s = %g %s (spread %g)\n", v.Name, v.Median, v.Unit, v.Spread)
	}
	fmt.Println(f.Machine.Date)
	// Output:
	// page_copy_bytes_per_sec = 6.5536e+09 B/s (spread 0)
	// wp_trap_ns = 2500 ns (spread 0)
	// mprotect_ns = 1200 ns (spread 0)
	// 2026-11-24T09:00:00Z
}

// Measure this machine with the real probe and write the cost file to standard output.
func ExampleNewProbeRunner() {
	ctx := context.Background()
	r, err := calibrate.NewProbeRunner(ctx)
	if err != nil {
		fmt.Println(err) // no C compiler, or not Linux
		return
	}
	defer r.Close()
	f, err := calibrate.Measure(ctx, r, calibrate.Options{Scratch: ".", Progress: os.Stderr})
	if err != nil {
		fmt.Println(err)
		return
	}
	f.Write(os.Stdout)
}
