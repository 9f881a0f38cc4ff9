package cli

import (
	"bytes"
	"testing"

	"github.com/vmsim/vmsim/builtin"
)

// TestRootBuildsOnlyTheCommandRun: a command named first is the only one built (start-up
// time, issue 26), and its help and its errors are those of the whole tree.
func TestRootBuildsOnlyTheCommandRun(t *testing.T) {
	reg := builtin.Registry()
	var out, errb bytes.Buffer
	full := newRoot(reg, &out, &errb, nil)
	if len(full.Commands()) < 10 {
		t.Fatalf("the whole tree has %d commands", len(full.Commands()))
	}
	for _, c := range full.Commands() {
		name := c.Name()
		t.Run(name, func(t *testing.T) {
			lone := newRoot(reg, &out, &errb, []string{name})
			if got := len(lone.Commands()); got != 1 || lone.Commands()[0].Name() != name {
				t.Fatalf("vmsim %s built %d commands", name, got)
			}
			for _, args := range [][]string{{name, "--help"}, {name, "--no-such-flag"}} {
				run := func(all bool) (string, string, error) {
					var o, e bytes.Buffer
					root := newRoot(reg, &o, &e, args)
					if all {
						root = newRoot(reg, &o, &e, nil)
					}
					root.SetArgs(args)
					err := root.Execute()
					return o.String(), e.String(), err
				}
				o1, e1, err1 := run(true)
				o2, e2, err2 := run(false)
				if o1 != o2 || e1 != e2 || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
					t.Errorf("vmsim %q: the whole tree gives %q %q %v, the command alone %q %q %v", args, o1, e1, err1, o2, e2, err2)
				}
			}
		})
	}
}
