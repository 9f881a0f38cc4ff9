package choice

import "testing"

type color string

func TestParse(t *testing.T) {
	choices := []color{"red", "blue"}
	for _, tt := range []struct {
		name, in, want, err string
	}{
		{"a choice", "blue", "blue", ""},
		{"not a choice", "green", "", `--color "green": want one of [red blue]`},
		{"case matters", "Red", "", `--color "Red": want one of [red blue]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("color", tt.in, choices)
			if string(got) != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
				t.Errorf("Parse(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestClosest: the "did you mean" of a misspelt key.
func TestClosest(t *testing.T) {
	names := []string{"interval", "cache_size", "copy_rate", "mtbf"}
	for _, tt := range []struct{ key, want string }{
		{"intervall", "interval"},
		{"Cache-Size", "cache_size"},
		{"copy-rate", "copy_rate"},
		{"mtbff", "mtbf"},
		{"frames", ""},
	} {
		t.Run(tt.key, func(t *testing.T) {
			if got := Closest(tt.key, names); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
