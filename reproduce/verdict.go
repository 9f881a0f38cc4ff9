package reproduce

import (
	"fmt"
	"strings"
)

// verdictKind is what the numbers say of a claim.
type verdictKind int

const (
	notTestable verdictKind = iota // no case of the claim can be measured on these workloads
	held                           // every case measured agrees with the claim
	refuted                        // some case measured contradicts it
)

func (k verdictKind) String() string {
	switch k {
	case held:
		return "held"
	case refuted:
		return "refuted"
	}
	return "not testable on these workloads"
}

// claimCase is one case of a claim (a trace, a scheme on a trace): whether it can be
// measured here, whether it agrees with the claim, and what the numbers were, in words.
type claimCase struct {
	name     string
	testable bool
	agrees   bool   // meaningful when testable
	detail   string // the numbers, or why the case cannot be measured
}

// verdict is a claim's verdict with why.
type verdict struct {
	kind verdictKind
	why  string
}

// judge computes a claim's verdict from its cases: refuted when a measured case
// contradicts it (the why lists those cases), held when at least one case is measured
// and every measured one agrees (the why says how many, and which could not be
// measured), not testable when no case can be measured (the why gives each reason).
func judge(cases []claimCase) verdict {
	var against, agree, untestable []string
	for _, c := range cases {
		item := c.name + ": " + c.detail
		switch {
		case !c.testable:
			untestable = append(untestable, item)
		case c.agrees:
			agree = append(agree, item)
		default:
			against = append(against, item)
		}
	}
	switch {
	case len(against) > 0:
		return verdict{refuted, fmt.Sprintf("%d of %d cases measured contradict it (%s)", len(against), len(against)+len(agree), strings.Join(against, "; "))}
	case len(agree) > 0:
		why := fmt.Sprintf("every case measured agrees (%d: %s)", len(agree), strings.Join(agree, "; "))
		if len(untestable) > 0 {
			why += fmt.Sprintf("; %d could not be measured (%s)", len(untestable), strings.Join(untestable, "; "))
		}
		return verdict{held, why}
	}
	if len(untestable) == 0 {
		return verdict{notTestable, "no case to measure"}
	}
	return verdict{notTestable, "no case can be measured (" + strings.Join(untestable, "; ") + ")"}
}

// String writes the verdict as the READMEs do: "**held**: why".
func (v verdict) String() string { return "**" + v.kind.String() + "**: " + v.why }

// ivPoint is one interval of one trace: the interval, the overhead (a fraction) and the
// checkpoints taken (0: the interval is longer than the trace, nothing measured).
type ivPoint struct {
	n           int64
	overhead    float64
	checkpoints int64
}

// fallsCase is the case of one trace for the claim "the overhead is a function of the
// interval, falling as it grows": measured when at least two intervals took checkpoints;
// agrees when the overhead falls (or stays, within 0.01% of itself) at every step.
func fallsCase(name string, pts []ivPoint) claimCase {
	var got []ivPoint
	for _, p := range pts {
		if p.checkpoints > 0 {
			got = append(got, p)
		}
	}
	if len(got) < 2 {
		return claimCase{name: name, detail: "fewer than two intervals took a checkpoint"}
	}
	c := claimCase{name: name, testable: true, agrees: true}
	for i := 1; i < len(got); i++ {
		if got[i].overhead > got[i-1].overhead*1.0001 {
			c.agrees = false
			c.detail = fmt.Sprintf("rises from %s at %s to %s at %s", ovh(got[i-1].overhead), siLabel(float64(got[i-1].n)), ovh(got[i].overhead), siLabel(float64(got[i].n)))
			return c
		}
	}
	c.detail = fmt.Sprintf("%s at %s down to %s at %s", ovh(got[0].overhead), siLabel(float64(got[0].n)), ovh(got[len(got)-1].overhead), siLabel(float64(got[len(got)-1].n)))
	return c
}

// smallAbove is the interval from which on the paper says the overhead is very small,
// and smallLimit what "very small" is taken to mean here.
const (
	smallAbove int64 = 1_000_000
	smallLimit       = 0.05
)

// smallCase is the case of one trace for the claim "the overhead becomes very small for
// intervals above 10^6 accesses": measured when some interval of at least smallAbove
// took at least two checkpoints (one checkpoint measures the run's start more than an
// interval); agrees when the overhead is below smallLimit at every such interval.
func smallCase(name string, accesses int64, pts []ivPoint) claimCase {
	c := claimCase{name: name, agrees: true}
	var parts []string
	for _, p := range pts {
		if p.n < smallAbove || p.checkpoints < 2 {
			continue
		}
		c.testable = true
		parts = append(parts, fmt.Sprintf("%s at %s (%d checkpoints)", ovh(p.overhead), siLabel(float64(p.n)), p.checkpoints))
		if p.overhead >= smallLimit {
			c.agrees = false
		}
	}
	if !c.testable {
		c.detail = fmt.Sprintf("%s accesses: no interval of %s or more took two checkpoints", siLabel(float64(accesses)), siLabel(float64(smallAbove)))
		return c
	}
	c.detail = strings.Join(parts, ", ")
	return c
}

// feasibleLimit is the overhead under which an interval is taken to be feasible.
const feasibleLimit = 0.10

// feasibleCase is the one case of the claim "the scheme is feasible for intervals as
// small as 1000 accesses under some conditions": measured when the study has the
// interval; agrees when some machine variant's overhead there (a geometric mean over the
// traces) is below feasibleLimit. overheads are by variant label.
func feasibleCase(has bool, labels []string, overheads []float64) claimCase {
	if !has {
		return claimCase{name: "1000 accesses", detail: "the study has no interval of 1000 accesses"}
	}
	c := claimCase{name: "1000 accesses", testable: true}
	var parts []string
	for i, o := range overheads {
		parts = append(parts, labels[i]+" "+ovh(o))
		c.agrees = c.agrees || o < feasibleLimit
	}
	c.detail = "geometric means over the traces: " + strings.Join(parts, ", ")
	return c
}
