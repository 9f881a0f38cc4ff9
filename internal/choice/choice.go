// Package choice parses the values of enumerated command-line options: a typed string
// that must be one of a list, with one error for every option naming the flag and the
// choices; and finds the name a misspelt key was meant to be (Closest).
package choice

import (
	"fmt"
	"slices"
	"strings"
)

// Parse returns s as a T when it is one of choices, else an error naming the flag (without
// its dashes) and the choices.
func Parse[T ~string](flag, s string, choices []T) (T, error) {
	if slices.Contains(choices, T(s)) {
		return T(s), nil
	}
	return "", fmt.Errorf("--%s %q: want one of %v", flag, s, choices)
}

// Closest returns the name of names nearest to key, when one is near: the same but for
// case or "-" for "_", or at most two edits away (the first such in names); else "", for
// the "did you mean" of an error.
func Closest(key string, names []string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "_")) }
	best, bestD := "", 3
	for _, n := range names {
		if norm(n) == norm(key) {
			return n
		}
		if d := editDistance(norm(n), norm(key)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
