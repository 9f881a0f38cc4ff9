package snaplog_test

import (
	"strconv"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/snaplog"
)

// FuzzParseSettings: --log-header accepts exactly the unsigned decimal numbers from 0 to
// 2^20 (leading zeros allowed, no sign), and never panics.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{"16", "0", "1048576", "-1", "+4", "", "1K", "007", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := snaplog.ParseSettings(scheme.Params{"log-header": v})
		n, perr := strconv.ParseInt(v, 10, 64)
		ok := perr == nil && n >= 0 && n <= 1<<20 && v[0] != '+'
		if (err == nil) != ok {
			t.Fatalf("ParseSettings(%q) = %+v, %v", v, s, err)
		}
		if err == nil && s.Header != n {
			t.Fatalf("ParseSettings(%q) = %d", v, s.Header)
		}
	})
}
