package textpos

import (
	"fmt"
	"testing"
)

func TestAt(t *testing.T) {
	data := []byte("ab\ncd\n")
	for _, c := range []struct {
		off  int64
		want string
	}{{0, "f:1:1"}, {1, "f:1:2"}, {3, "f:2:1"}, {4, "f:2:2"}, {-5, "f:1:1"}, {99, "f:3:1"}} {
		if got := At("f", data, c.off); got != c.want {
			t.Errorf("At(%d) = %s, want %s", c.off, got, c.want)
		}
	}
}

func ExampleAt() {
	fmt.Println(At("c.json", []byte("{\n  x}"), 4))
	// Output: c.json:2:3
}
