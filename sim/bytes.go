package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBytes reads a size in bytes: a whole number with an optional K, M or G suffix
// (powers of 1024, either case), as --cache-size takes it.
func ParseBytes(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	shift := 0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift > 0 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || t == "" || t[0] == '+' {
		return 0, fmt.Errorf("%q: want a whole number of bytes with an optional K, M or G suffix", s)
	}
	if v > (1<<63)>>shift {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return v << shift, nil
}

// FormatBytes writes a size the way ParseBytes reads it, with the largest suffix that
// keeps it whole.
func FormatBytes(v uint64) string {
	for _, u := range []struct {
		shift uint
		s     string
	}{{30, "G"}, {20, "M"}, {10, "K"}} {
		if v != 0 && v&(1<<u.shift-1) == 0 {
			return strconv.FormatUint(v>>u.shift, 10) + u.s
		}
	}
	return strconv.FormatUint(v, 10)
}
