package corpus

import (
	"embed"
	"fmt"
)

//go:embed src/*.c
var sources embed.FS

// Source returns the C source src/NAME of the corpus (embedded in the binary), which the
// study's workloads compile at record time (reproduce.Workloads).
func Source(name string) ([]byte, error) {
	b, err := sources.ReadFile("src/" + name)
	if err != nil {
		return nil, fmt.Errorf("corpus source %s: %w", name, err)
	}
	return b, nil
}
