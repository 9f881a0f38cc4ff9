package lazy

import (
	"fmt"
	"testing"
)

// TestRegexpOnce: the function compiles its expression once and gives the same value.
func TestRegexpOnce(t *testing.T) {
	re := Regexp(`^[0-9a-f]{4}$`)
	a, b := re(), re()
	if a != b {
		t.Error("two calls compiled twice")
	}
	if !a.MatchString("00ff") || a.MatchString("00fg") {
		t.Errorf("%v matches wrongly", a)
	}
}

// TestRegexpBadPanicsAtUse: a bad expression panics at the first call, not before.
func TestRegexpBadPanicsAtUse(t *testing.T) {
	re := Regexp(`(`)
	defer func() {
		if recover() == nil {
			t.Error("a bad expression compiled")
		}
	}()
	re()
}

func ExampleRegexp() {
	hex := Regexp(`^[0-9a-f]+$`)
	fmt.Println(hex().MatchString("c0ffee"), hex().MatchString("tea"))
	// Output: true false
}
