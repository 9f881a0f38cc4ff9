package interval

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Seconds
		err  string // a substring of the error; "" for none
	}{
		{"integer", "90", 90, ""},
		{"decimal", "0.25", 0.25, ""},
		{"exponent", "1.5e3", 1500, ""},
		{"leading dot", ".5", 0.5, ""},
		{"trailing dot", "5.", 5, ""},
		{"zero", "0", 0, ""},
		{"minus zero", "-0", 0, ""},
		{"plus sign", "+7", 7, ""},
		{"huge number", "1e300", 1e300, ""},
		{"seconds", "90s", 90, ""},
		{"minutes", "5m", 300, ""},
		{"hours and minutes", "1h30m", 5400, ""},
		{"fractional hours", "1.5h", 5400, ""},
		{"milliseconds", "250ms", 0.25, ""},
		{"microseconds", "3us", 3e-6, ""},
		{"duration zero", "0s", 0, ""},
		{"empty", "", 0, "empty"},
		{"space", " 90", 0, `unexpected " " at byte 0`},
		{"negative", "-5", 0, "negative"},
		{"negative duration", "-5s", 0, "negative"},
		{"hex", "0x10", 0, `unexpected "x" at byte 1`},
		{"inf", "inf", 0, "invalid duration"},
		{"NaN", "NaN", 0, "invalid duration"},
		{"overflow", "1e400", 0, "out of range"},
		{"duration overflow", "3000000h", 0, "invalid duration"},
		{"unknown unit", "5d", 0, "unknown unit"},
		{"sign only", "-", 0, "invalid duration"},
		{"sign then dot", "-.", 0, "not a number"},
		{"two dots", "1.2.3", 0, "not a number"},
		{"exponent without digits", "1e", 0, "unknown unit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSeconds(tc.in)
			if tc.err == "" {
				if err != nil || got != tc.want || math.Signbit(float64(got)) {
					t.Errorf("ParseSeconds(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), strconv.Quote(tc.in)) {
				t.Errorf("ParseSeconds(%q) = %v, %v; want an ErrInvalid quoting the input and containing %q", tc.in, got, err, tc.err)
			}
		})
	}
}

// FuzzParseSeconds: the parser never panics, accepts only finite times ≥ 0, and reads
// back the shortest decimal form of whatever it accepted as the same value.
func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{"90", "1.5e3", "1h30m", "250ms", "-0", "", "x", "1e400", "0x1p3", "+.5e-3", "5µs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSeconds(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseSeconds(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 || math.Signbit(float64(v)) {
			t.Fatalf("ParseSeconds(%q) = %v", s, v)
		}
		again, err := ParseSeconds(strconv.FormatFloat(float64(v), 'g', -1, 64))
		if err != nil || again != v {
			t.Fatalf("ParseSeconds(%q) = %v, but its decimal form reads back as %v, %v", s, v, again, err)
		}
	})
}
