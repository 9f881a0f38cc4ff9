package textpos

import (
	"bytes"
	"fmt"
)

// At returns name:line:column of byte off of data (lines and columns from 1; off is
// clamped to data).
func At(name string, data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("%s:%d:%d", name, line, col)
}
