package interval

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseSeconds reads a time given either as a plain decimal number of seconds ("90",
// "1.5e3", "0.25") or as a Go duration with units ("90s", "1h30m", "250ms"; see
// time.ParseDuration). A plain number is read as a float64 and may be as large as one;
// a duration must fit in a time.Duration (about 292 years) and is exact to the
// nanosecond. The result is finite and zero or positive; anything else (an empty string,
// spaces, a sign on its own, hexadecimal, Inf, NaN, a negative time) is an error wrapping
// ErrInvalid that quotes s.
func ParseSeconds(s string) (Seconds, error) {
	bad := func(why string) (Seconds, error) {
		return 0, fmt.Errorf("%w: time %q: %s (want seconds as a plain number, such as 90 or 1.5e3, or a Go duration, such as 90s or 1h30m)",
			ErrInvalid, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	var v float64
	if last := s[len(s)-1]; last >= '0' && last <= '9' || last == '.' {
		if i := strings.IndexFunc(s, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-')
		}); i >= 0 {
			return bad(fmt.Sprintf("unexpected %q at byte %d", s[i:i+1], i))
		}
		f, err := strconv.ParseFloat(s, 64)
		if errors.Is(err, strconv.ErrRange) {
			return bad("out of range")
		}
		if err != nil {
			return bad("not a number")
		}
		v = f
	} else {
		d, err := time.ParseDuration(s)
		if err != nil {
			return bad(strings.TrimPrefix(err.Error(), "time: "))
		}
		v = d.Seconds()
	}
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return bad("out of range")
	case v < 0:
		return bad("negative")
	}
	return Seconds(v + 0), nil // + 0 turns -0 into 0
}
