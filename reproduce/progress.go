package reproduce

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vmsim/vmsim/sweep"
)

// Progress reports how far a Run has got, and estimates the time left. Its steps are,
// for each study in the order they run, the points of each trace (the points run trace
// by trace) and then the writing of the study's tables and figures. Without a terminal
// it writes one line a finished step; on a terminal (NewProgress's bar) one line redrawn
// after every point, with a bar.
//
// The time left is the work left over the rate of work so far, where a point's work is
// its trace's accesses (a run's time grows with its trace's length, and the traces
// differ fivefold), and the rate is that of the study now running once it has finished
// a point (the comparative study's runs, behind a cache model, go slower per access than
// the paper study's), else that of the studies before it.
//
// A Progress is used by one Run at a time.
type Progress struct {
	w   io.Writer
	bar bool
	now func() time.Time

	start  time.Time
	phases []*phase
	cur    int // the phase running
	steps  int // steps in all; Invariant: the sum over the phases of len(steps)+extra()
	done   int // steps finished
	// rate is the work a second of the last phase that finished a point.
	rate float64
}

// phase is one study's points, by step.
type phase struct {
	name  string
	steps []pstep
	// Invariant: weights, like steps, follow the order in which the points finish
	// (runPoints' order): step i is weights[steps[i-1].end:steps[i].end].
	weights []float64
	left    float64 // work not yet done
	k       int     // points finished
	start   time.Time
	did     float64 // work done since start (points kept by --resume are not work)
	kept    map[int]bool
	// writes: the phase ends with a study's tables and figures written (a step of its
	// own, Progress.written); a phase of runs only (planRuns) has none.
	writes bool
	// pending: declared by expect, its points not known yet: its steps have no labels
	// and it has no weights. Invariant: a pending phase is never begun.
	pending bool
}

// pstep is one step of a phase: the points of one trace, the end of its points in
// weights.
type pstep struct {
	label string
	end   int
}

// NewProgress returns a Progress writing to w: a bar redrawn on one line when bar (w is
// a terminal), else one line a finished step.
func NewProgress(w io.Writer, bar bool) *Progress {
	return &Progress{w: w, bar: bar, now: time.Now}
}

// plan declares a study's points (as runPoints will run them: uniqPoints), the work of
// each (weight) and the label of its step; a step is a run of points of one trace. The
// phases run in the order planned; a phase may be planned while an earlier one runs (the
// comparative study's points depend on its first runs), and the time left then counts
// only the phases planned so far. A phase declared by expect is replaced by its plan.
func (p *Progress) plan(name string, points []sweep.Point, weight func(sweep.Point) float64, label func(sweep.Point) string) {
	p.planPhase(name, points, weight, label, true)
}

// planRuns is plan for a phase that only runs points (the comparative study's first
// runs): it has no step of writing tables and figures.
func (p *Progress) planRuns(name string, points []sweep.Point, weight func(sweep.Point) float64, label func(sweep.Point) string) {
	p.planPhase(name, points, weight, label, false)
}

func (p *Progress) planPhase(name string, points []sweep.Point, weight func(sweep.Point) float64, label func(sweep.Point) string, writes bool) {
	ph := &phase{name: name, writes: writes}
	for i, pt := range points {
		w := weight(pt)
		ph.weights = append(ph.weights, w)
		ph.left += w
		if i == 0 || pt.Config.Trace != points[i-1].Config.Trace {
			ph.steps = append(ph.steps, pstep{label: label(pt)})
		}
		ph.steps[len(ph.steps)-1].end = i + 1
	}
	p.steps += len(ph.steps) + ph.extra()
	for i, q := range p.phases {
		if q.pending && q.name == name {
			p.steps -= len(q.steps) + q.extra()
			p.phases[i] = ph
			return
		}
	}
	p.phases = append(p.phases, ph)
}

// expect declares a study whose points are not known yet (the comparative study's, made
// from its first runs) by the number of its steps of points (traces, as plan counts
// them), so that the count of steps is right from the start; plan replaces it. Until
// then the time left leaves it out, and says so.
func (p *Progress) expect(name string, steps int) {
	ph := &phase{name: name, writes: true, pending: true, steps: make([]pstep, steps)}
	p.phases = append(p.phases, ph)
	p.steps += len(ph.steps) + ph.extra()
}

// extra is the steps of a phase beyond its traces': its writing, if it writes.
func (ph *phase) extra() int {
	if ph.writes {
		return 1
	}
	return 0
}

// begin starts the phase named name (the next one planned), whose points kept (indexes
// in its points, from an interrupted run) are done already.
func (p *Progress) begin(name string, kept map[int]bool) {
	if p.start.IsZero() {
		p.start = p.now()
	}
	for p.cur < len(p.phases) && p.phases[p.cur].name != name {
		p.cur++
	}
	if p.cur == len(p.phases) {
		panic("reproduce: progress of a study not planned: " + name) // Run plans every study it runs
	}
	ph := p.phases[p.cur]
	if ph.pending {
		panic("reproduce: progress of a study begun before its points were planned: " + name)
	}
	ph.start, ph.kept = p.now(), kept
	for i := range kept {
		ph.left -= ph.weights[i]
	}
	p.advance(ph)
}

// pointsDone records that n of the phase's points not kept have finished, in order.
func (p *Progress) pointsDone(n int) {
	ph := p.phases[p.cur]
	// The n-th point not kept, counting from one, and those kept before it.
	seen := 0
	i := 0
	for ; i < len(ph.weights) && seen < n; i++ {
		if !ph.kept[i] {
			seen++
		}
	}
	for ph.k < i {
		if !ph.kept[ph.k] {
			ph.left -= ph.weights[ph.k]
			ph.did += ph.weights[ph.k]
		}
		ph.k++
	}
	if el := p.now().Sub(ph.start).Seconds(); ph.did > 0 && el > 0 {
		p.rate = ph.did / el
	}
	p.advance(ph)
}

// advance moves past the points kept at the phase's current point, reports every step
// finished, and redraws the bar.
func (p *Progress) advance(ph *phase) {
	for ph.k < len(ph.weights) && ph.kept[ph.k] {
		ph.k++
	}
	for p.stepIndex(ph) < len(ph.steps) && ph.k >= ph.steps[p.stepIndex(ph)].end {
		st := ph.steps[p.stepIndex(ph)]
		p.done++
		if !p.bar {
			p.line(fmt.Sprintf("%s: %s", ph.name, st.label))
		}
	}
	if p.bar {
		p.drawBar(ph.name)
	}
}

// stepIndex is the index of the phase's first step not yet reported.
func (p *Progress) stepIndex(ph *phase) int {
	n := p.done
	for _, q := range p.phases {
		if q == ph {
			return n
		}
		n -= len(q.steps) + q.extra()
	}
	return n
}

// written records that the phase's tables and figures are written: its last step.
func (p *Progress) written() {
	ph := p.phases[p.cur]
	p.done++
	if p.bar {
		p.drawBar(ph.name)
		if p.done == p.steps {
			fmt.Fprintln(p.w)
		}
		return
	}
	p.line(ph.name + ": tables, figures and README written")
}

// left is the estimated time left: the work left over the rate so far.
func (p *Progress) left() time.Duration {
	var work float64
	for _, ph := range p.phases[p.cur:] {
		work += ph.left
	}
	if p.rate <= 0 {
		return -1
	}
	return time.Duration(work / p.rate * float64(time.Second))
}

func (p *Progress) times() string {
	el := p.now().Sub(p.start).Round(time.Second)
	left := p.left()
	switch {
	case p.done == p.steps:
		return fmt.Sprintf("%s elapsed, done", el)
	case left < 0:
		return fmt.Sprintf("%s elapsed", el)
	}
	for _, ph := range p.phases[p.cur:] {
		if ph.pending {
			return fmt.Sprintf("%s elapsed, about %s left before the %s, not yet estimated", el, left.Round(time.Second), ph.name)
		}
	}
	return fmt.Sprintf("%s elapsed, about %s left", el, left.Round(time.Second))
}

// line writes the line of a finished step.
func (p *Progress) line(what string) {
	fmt.Fprintf(p.w, "reproduce: step %d/%d done, %s; %s\n", p.done, p.steps, what, p.times())
}

// drawBar redraws the terminal's progress line.
func (p *Progress) drawBar(name string) {
	var all, left float64
	for _, ph := range p.phases {
		for _, w := range ph.weights {
			all += w
		}
		left += ph.left
	}
	frac := 1.0
	if all > 0 {
		frac = 1 - left/all
	}
	const width = 30
	n := int(frac*width + 0.5)
	fmt.Fprintf(p.w, "\rreproduce [%s%s] %3.0f%% %s, step %d/%d; %s   ", strings.Repeat("#", n), strings.Repeat("-", width-n),
		100*frac, name, p.done, p.steps, p.times())
}
