package reproduce

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// siLabel writes v with an SI suffix: 1000 → "1k", 3e6 → "3M", 0.01 → "0.01".
func siLabel(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.f {
			return strconv.FormatFloat(v/u.f, 'g', 3, 64) + u.s
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// logTicks labels powers of ten (and 2× and 5× them over a narrow range) in the SI style,
// with unlabelled minor ticks between.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	narrow := math.Log10(hi/lo) <= 1.5
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (narrow && (m == 2 || m == 5)) {
				t.Label = siLabel(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// linTicks label a linear axis at about five round values (1, 2 or 5 times a power of
// ten apart), with SI suffixes, and an unlabelled tick halfway between.
type linTicks struct{}

func (linTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: siLabel(lo)}}
	}
	raw := (hi - lo) / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * p
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var ts []plot.Tick
	for k := math.Ceil(lo/step*2 - 1e-9); k/2*step <= hi*(1+1e-12)+1e-12; k++ {
		v := k / 2 * step
		if v == 0 {
			v = 0 // not -0
		}
		t := plot.Tick{Value: v}
		if math.Mod(k, 2) == 0 {
			t.Label = siLabel(math.Round(v/step*1e6) / 1e6 * step)
		}
		ts = append(ts, t)
	}
	return ts
}

// overheadTicks label an overhead axis in percent (log scale): 0.1%, 1%, 10%, 100%, and
// above 100% the slowdown factor: ×10 (900%), ×100, ×1k.
type overheadTicks struct{}

func (overheadTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	narrow := math.Log10(hi/lo) <= 1.5
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Min(2, math.Ceil(math.Log10(hi))); e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v > 100*(1+1e-9) {
				break
			}
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (narrow && (m == 2 || m == 5)) {
				t.Label = siLabel(v) + "%"
			}
			ts = append(ts, t)
		}
	}
	// Above 100%: slowdown factors s, at overhead (s-1)×100%; ×5 labelled too when ×10
	// is out of view.
	noTen := hi < 900*(1-1e-9)
	for e := 0.0; (math.Pow(10, e)-1)*100 <= hi*(1+1e-9) || e < 1; e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			sl := m * p
			v := (sl - 1) * 100
			if sl <= 2 || !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || ((narrow || noTen) && (m == 2 || m == 5)) {
				t.Label = "×" + siLabel(sl)
				if sl < 1e5 {
					t.Label = "×" + strconv.FormatFloat(sl, 'f', -1, 64)
				}
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// zeroTicks are another ticker's ticks above floor, and a tick labelled "0" at floor.
type zeroTicks struct {
	plot.Ticker
	floor float64
}

func (z zeroTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := []plot.Tick{{Value: z.floor, Label: "0"}}
	for _, t := range z.Ticker.Ticks(lo, hi) {
		if t.Value > z.floor*1.5 {
			ts = append(ts, t)
		}
	}
	return ts
}
