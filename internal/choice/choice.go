// Package choice parses the values of enumerated command-line options: a typed string
// that must be one of a list, with one error for every option naming the flag and the
// choices.
package choice

import (
	"fmt"
	"slices"
)

// Parse returns s as a T when it is one of choices, else an error naming the flag (without
// its dashes) and the choices.
func Parse[T ~string](flag, s string, choices []T) (T, error) {
	if slices.Contains(choices, T(s)) {
		return T(s), nil
	}
	return "", fmt.Errorf("--%s %q: want one of %v", flag, s, choices)
}
