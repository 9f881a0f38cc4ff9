package interval_test

import (
	"fmt"

	"github.com/vmsim/vmsim/interval"
)

// A checkpoint that takes 5 minutes on a machine failing once a day on average: the
// setting of Fig. 3 of Daly (2006).
func Example() {
	delta, mtbf := interval.Seconds(5*60), interval.Seconds(24*3600)
	young, _ := interval.Young(delta, mtbf)
	daly, _ := interval.Daly(delta, mtbf)
	m := interval.Model{Delta: delta, MTBF: mtbf, Restart: 10 * 60}
	best, _ := m.Optimum()
	fmt.Printf("Young   %.2f min\n", young/60)
	fmt.Printf("Daly    %.2f min\n", daly/60)
	fmt.Printf("optimum %.2f min\n", best/60)
	for _, tau := range []interval.Seconds{young, daly, best} {
		w, _ := m.WallClock(500*3600, tau)
		fmt.Printf("500 h of work every %.2f min: %.3f h expected\n", tau/60, w/3600)
	}
	// Output:
	// Young   120.00 min
	// Daly    116.69 min
	// optimum 116.69 min
	// 500 h of work every 120.00 min: 547.899 h expected
	// 500 h of work every 116.69 min: 547.882 h expected
	// 500 h of work every 116.69 min: 547.882 h expected
}

func ExampleParseSeconds() {
	for _, s := range []string{"90", "1.5e3", "1h30m", "250ms", "5d"} {
		v, err := interval.ParseSeconds(s)
		fmt.Println(float64(v), err)
	}
	// Output:
	// 90 <nil>
	// 1500 <nil>
	// 5400 <nil>
	// 0.25 <nil>
	// 0 invalid input: time "5d": unknown unit "d" in duration "5d" (want seconds as a plain number, such as 90 or 1.5e3, or a Go duration, such as 90s or 1h30m)
}
