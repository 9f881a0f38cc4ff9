package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// parseCount reads a count a user wrote: a whole number of zero or more, in decimal
// ("1000000") or in e-notation ("1e6", "2.5e3"), the way vmsim sweep reads the same
// numbers from --set and spec files. Fractions and negative numbers are errors.
func parseCount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%s is negative: want a whole number, 0 or more", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Errorf("%q is not a number: want a whole number such as 1000000 or 1e6", s)
	case f < 0:
		return 0, fmt.Errorf("%s is negative: want a whole number, 0 or more", s)
	case f != math.Trunc(f):
		return 0, fmt.Errorf("%s is not a whole number", s)
	case f >= 1<<63:
		return 0, fmt.Errorf("%s is too large (at most %d)", s, int64(math.MaxInt64))
	}
	return int64(f), nil
}

// countValue is a pflag.Value for a count (parseCount) stored in an int64, int or
// uint64 variable.
type countValue[T int | int64 | uint64] struct{ p *T }

func (c countValue[T]) String() string {
	if c.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*c.p), 10)
}

func (c countValue[T]) Set(s string) error {
	n, err := parseCount(s)
	if err != nil {
		return err
	}
	if T(n) < 0 || int64(T(n)) != n {
		return fmt.Errorf("%s is too large", s)
	}
	*c.p = T(n)
	return nil
}

func (c countValue[T]) Type() string { return "count" }

// countVar defines a count flag: like IntVar and friends, but 1e6 is accepted.
func countVar[T int | int64 | uint64](f *pflag.FlagSet, p *T, name, short string, value T, usage string) {
	*p = value
	f.VarP(countValue[T]{p}, name, short, usage)
}

// countsValue is a pflag.Value for a comma-separated list of counts, in an []int64.
// As with pflag's slices, the first use of the flag replaces the default and later uses
// append.
type countsValue struct {
	p       *[]int64
	changed bool
}

func (c *countsValue) String() string {
	parts := make([]string, len(*c.p))
	for i, n := range *c.p {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (c *countsValue) Set(s string) error {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		n, err := parseCount(part)
		if err != nil {
			return err
		}
		out = append(out, n)
	}
	if !c.changed {
		*c.p = out
		c.changed = true
	} else {
		*c.p = append(*c.p, out...)
	}
	return nil
}

func (c *countsValue) Type() string { return "counts" }

// GetSlice lets reproduceArgs-style code list the values.
func (c *countsValue) GetSlice() []string {
	out := make([]string, len(*c.p))
	for i, n := range *c.p {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// countsVar defines a comma-separated count list flag.
func countsVar(f *pflag.FlagSet, p *[]int64, name string, value []int64, usage string) {
	*p = value
	f.Var(&countsValue{p: p}, name, usage)
}
