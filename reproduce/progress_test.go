package reproduce

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func pts(traces ...string) []sweep.Point {
	var out []sweep.Point
	for _, tr := range traces {
		cfg := sim.DefaultConfig()
		cfg.Trace = tr
		out = append(out, sweep.Point{Config: cfg})
	}
	return out
}

// TestProgressLines: without a terminal, one line a finished step (the points of each
// trace of each study, then its tables and figures), and a time left that is exact when
// the time taken is proportional to the work (a point's trace's accesses), even though
// the traces differ in length, and that follows the comparative study's own rate once it
// has one.
func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := NewProgress(&b, false)
	p.now = clk.now
	w := map[string]float64{"short": 1, "long": 5}
	weight := func(pt sweep.Point) float64 { return w[pt.Config.Trace] }
	label := func(pt sweep.Point) string { return pt.Config.Trace }
	paper := pts("short", "short", "long", "long")   // work 12
	compare := pts("short", "long", "long", "short") // work 12, two steps of long in the middle
	p.plan(paperStudy, paper, weight, label)         // steps: short, long, written
	p.plan(compareStudy, compare, weight, label)     // steps: short, long, short, written
	p.begin(paperStudy, map[int]bool{})
	// The paper study: 1 s a unit of work.
	for i, pt := range paper {
		clk.t = clk.t.Add(time.Duration(w[pt.Config.Trace]) * time.Second)
		p.pointsDone(i + 1)
	}
	p.written()
	// The comparative study: 2 s a unit of work.
	p.begin(compareStudy, map[int]bool{})
	for i, pt := range compare {
		clk.t = clk.t.Add(time.Duration(2*w[pt.Config.Trace]) * time.Second)
		p.pointsDone(i + 1)
	}
	p.written()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		"reproduce: step 1/7 done, paper study: short; 2s elapsed, about 22s left",
		"reproduce: step 2/7 done, paper study: long; 12s elapsed, about 12s left",
		"reproduce: step 3/7 done, paper study: tables, figures and README written; 12s elapsed, about 12s left",
		"reproduce: step 4/7 done, comparative study: short; 14s elapsed, about 22s left",
		"reproduce: step 5/7 done, comparative study: long; 34s elapsed, about 2s left",
		"reproduce: step 6/7 done, comparative study: short; 36s elapsed, about 0s left",
		"reproduce: step 7/7 done, comparative study: tables, figures and README written; 36s elapsed, done",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
}

// TestProgressExpected: a study declared before its points are known counts its steps
// from the start, is left out of the time left (which says so), and is replaced by its
// plan.
func TestProgressExpected(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := NewProgress(&b, false)
	p.now = clk.now
	weight := func(sweep.Point) float64 { return 1 }
	label := func(pt sweep.Point) string { return pt.Config.Trace }
	p.planRuns(firstPhase, pts("a", "b"), weight, label) // 2 steps
	p.expect(compareStudy, 2)                            // 2 steps and the writing
	p.begin(firstPhase, nil)
	clk.t = clk.t.Add(time.Second)
	p.pointsDone(1)
	clk.t = clk.t.Add(time.Second)
	p.pointsDone(2)
	p.plan(compareStudy, pts("b", "b", "a"), weight, label)
	p.begin(compareStudy, nil)
	for i := range 3 {
		clk.t = clk.t.Add(time.Second)
		p.pointsDone(i + 1)
	}
	p.written()
	want := []string{
		"reproduce: step 1/5 done, comparative study, first runs: a; 1s elapsed, about 1s left before the comparative study, not yet estimated",
		"reproduce: step 2/5 done, comparative study, first runs: b; 2s elapsed, about 0s left before the comparative study, not yet estimated",
		"reproduce: step 3/5 done, comparative study: b; 4s elapsed, about 1s left",
		"reproduce: step 4/5 done, comparative study: a; 5s elapsed, about 0s left",
		"reproduce: step 5/5 done, comparative study: tables, figures and README written; 5s elapsed, done",
	}
	if got := strings.TrimSuffix(b.String(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestProgressResumed: points kept from an interrupted run are not work done now: the
// rate counts only the points run, and a step wholly kept is reported at once.
func TestProgressResumed(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := NewProgress(&b, false)
	p.now = clk.now
	weight := func(sweep.Point) float64 { return 1 }
	label := func(pt sweep.Point) string { return pt.Config.Trace }
	p.plan(paperStudy, pts("a", "a", "b", "b"), weight, label)
	p.begin(paperStudy, map[int]bool{0: true, 1: true, 2: true})
	if got := b.String(); got != "reproduce: step 1/3 done, paper study: a; 0s elapsed\n" {
		t.Errorf("after begin: %q", got)
	}
	clk.t = clk.t.Add(10 * time.Second)
	p.pointsDone(1)
	if !strings.HasSuffix(b.String(), "reproduce: step 2/3 done, paper study: b; 10s elapsed, about 0s left\n") {
		t.Errorf("lines:\n%s", b.String())
	}
}

// TestProgressBar: on a terminal, one line redrawn after every point, with a bar, and a
// newline at the end.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := NewProgress(&b, true)
	p.now = clk.now
	p.plan(paperStudy, pts("a", "a", "b", "b"), func(sweep.Point) float64 { return 1 }, func(pt sweep.Point) string { return pt.Config.Trace })
	p.begin(paperStudy, map[int]bool{})
	for i := range 4 {
		clk.t = clk.t.Add(time.Second)
		p.pointsDone(i + 1)
	}
	p.written()
	out := b.String()
	if n := strings.Count(out, "\r"); n != 6 {
		t.Errorf("%d redraws, want 6 (begin, 4 points, written):\n%q", n, out)
	}
	if !strings.Contains(out, "[###############---------------]  50%") || !strings.HasSuffix(out, "done   \n") {
		t.Errorf("bar:\n%q", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("more than one line:\n%q", out)
	}
}

// TestRunProgress: a Run of both studies on tiny traces, its output not a terminal,
// writes one line a step: each trace's first runs of the comparative study (the rest of
// its points not known yet, but their steps counted, and the time left said to leave
// them out), then each trace's points in each study and each study's tables and figures
// (8 steps in all, from the first line), the last one saying it is done.
func TestRunProgress(t *testing.T) {
	smallGrids(t)
	tr1, tr2 := tinyTrace(t, 30_000, 24), tinyTrace(t, 20_000, 16)
	var b bytes.Buffer
	opt := Options{Dir: t.TempDir(), Corpus: []string{}, Traces: []string{tr1, tr2}, Intervals: []int64{1000}, Costs: cost.DefaultSet(),
		Command: "vmsim reproduce (test)", Version: "test", Report: NewProgress(&b, false)}
	if err := Run(opt); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2+2*(2+1) {
		t.Fatalf("%d lines, want 8:\n%s", len(lines), b.String())
	}
	re := regexp.MustCompile(`^reproduce: step (\d)/(\d) done, (paper study|comparative study|comparative study, first runs): .*; \d+s elapsed(, about \d+s left( before the comparative study, not yet estimated)?|, done)?$`)
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil || m[1] != fmt.Sprint(i+1) || m[2] != "8" || (i < 2) != (m[3] == firstPhase) || (i < 2) != (m[5] != "") {
			t.Errorf("line %d: %q", i+1, l)
		}
	}
	if !strings.HasSuffix(lines[7], "done") || !strings.Contains(lines[1], "tiny.rw") {
		t.Errorf("lines:\n%s", b.String())
	}
}
