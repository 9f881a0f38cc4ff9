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
