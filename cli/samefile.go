package cli

import (
	"fmt"
	"os"
	"path/filepath"
)

// output is an output file and the flag that names it, for checkOutputs.
type output struct{ flag, path string }

// checkOutputs refuses outputs that would destroy an input or each other: an output that
// is one of the inputs (written atomically, it would replace the trace), or two outputs
// that are one file (one would overwrite the other). "" and "-" (standard streams) are
// left out, and so are files that are not regular (a device or pipe written in place,
// such as /dev/stdout, can take both).
func checkOutputs(inputs []string, outs ...output) error {
	for i, o := range outs {
		if o.path == "" || o.path == "-" {
			continue
		}
		for _, in := range inputs {
			if in != "" && in != "-" && sameRegular(in, o.path) {
				return fmt.Errorf("%s %s: the same file as the input %s, which it would replace; write it elsewhere", o.flag, o.path, in)
			}
		}
		for _, p := range outs[:i] {
			if p.path != "" && p.path != "-" && sameRegular(p.path, o.path) {
				return fmt.Errorf("%s and %s name the same file, %s: one would overwrite the other", p.flag, o.flag, o.path)
			}
		}
	}
	return nil
}

// sameRegular reports whether a and b name one regular file, or one path where no file
// is yet.
func sameRegular(a, b string) bool {
	fa, ea := os.Stat(a)
	fb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return fa.Mode().IsRegular() && os.SameFile(fa, fb)
	}
	if os.IsNotExist(ea) && os.IsNotExist(eb) {
		aa, err1 := filepath.Abs(a)
		ab, err2 := filepath.Abs(b)
		return err1 == nil && err2 == nil && aa == ab
	}
	return false
}
