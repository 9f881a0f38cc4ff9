package schemetest_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"
)

// buggy is scheme remus with a bug of its kind: "batch" counts a trap per call of Access
// (a run of many accesses counts other than the same accesses in runs of one), "check"
// fails its Check after the third checkpoint, "rollback" does not roll back; "" has none.
type buggy struct {
	scheme.Scheme
	bug     string
	batches int64
	ckpts   int
}

func (b *buggy) Access(run scheme.Run) int {
	b.batches++
	return b.Scheme.Access(run)
}

func (b *buggy) Counters(c *scheme.Tally) {
	b.Scheme.Counters(c)
	if b.bug == "batch" {
		c.Traps += b.batches
	}
}

func (b *buggy) Checkpoint(d scheme.Domain) {
	b.ckpts++
	b.Scheme.Checkpoint(d)
}

func (b *buggy) Check() error {
	if b.bug == "check" && b.ckpts > 2 {
		return errors.New("a broken invariant")
	}
	return b.Scheme.Check()
}

func (b *buggy) Rollback(d scheme.Domain) {
	if b.bug != "rollback" {
		b.Scheme.Rollback(d)
	}
}

// TestBuggy runs the conformance suite on a buggy remus, the bug SCHEMETEST_BUG names;
// TestConformanceFindsBugs runs it in a child process (it fails when the suite works).
func TestBuggy(t *testing.T) {
	bug, ok := os.LookupEnv("SCHEMETEST_BUG")
	if !ok {
		t.Skip("run by TestConformanceFindsBugs")
	}
	info := repl.RemusInfo()
	info.Name = "buggy"
	info.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		s, err := repl.RemusInfo().New(m, p)
		return &buggy{Scheme: s, bug: bug}, err
	}
	reg := scheme.NewRegistry()
	reg.Register(info)
	schemetest.Conformance(t, reg, "buggy", schemetest.Options{Trials: 8})
}

// TestConformanceFindsBugs: the conformance suite fails a scheme whose fast path counts
// other than its general path, one whose Check fails, and one that does not roll back,
// each in the part that looks for it; it passes the same scheme without the bug.
func TestConformanceFindsBugs(t *testing.T) {
	if os.Getenv("SCHEMETEST_BUG") != "" {
		t.Skip("in the child")
	}
	for _, tt := range []struct{ bug, fails string }{
		{"", ""},
		{"batch", "fast_path"},
		{"check", "fast_path"},
		{"rollback", "failures"},
	} {
		t.Run("bug "+tt.bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBuggy$", "-test.v")
			cmd.Env = append(os.Environ(), "SCHEMETEST_BUG="+tt.bug)
			out, err := cmd.CombinedOutput()
			switch {
			case tt.fails == "" && err != nil:
				t.Fatalf("the suite failed a scheme without a bug: %v\n%s", err, out)
			case tt.fails != "" && (err == nil || !strings.Contains(string(out), "--- FAIL: TestBuggy/"+tt.fails)):
				t.Fatalf("the suite did not fail part %q: %v\n%s", tt.fails, err, out)
			}
		})
	}
}
