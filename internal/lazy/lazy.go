// Package lazy makes values at first use rather than when vmsim starts: every vmsim
// command initialises every linked package, so a regular expression compiled in a
// package's variables is paid by `vmsim version` too (cmd/vmsim's TestVersionStartup).
package lazy

import (
	"regexp"
	"sync"
)

// Regexp returns a function that returns expr compiled, compiling it at the first call
// (regexp.MustCompile: expr is the program's own, and a bad one panics then).
func Regexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
