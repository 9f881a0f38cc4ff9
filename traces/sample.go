package traces

import (
	"bytes"
	_ "embed"
)

//go:embed sample/sort50.lackey.xz
var sample []byte

// SampleName is the name the embedded sample trace goes by in messages and output.
const SampleName = "(embedded) sort50.lackey.xz"

// OpenSample opens the small real trace embedded in the binary: valgrind lackey's
// record of `sort -n` on 50 numbers (see traces/sample/README.md).
func OpenSample() (*File, error) {
	return NewFile(bytes.NewReader(sample), SampleName, Options{Format: FormatLackey})
}
