package coherence

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestCountersDocumented fails when Definitions and the fields of Counters differ, or
// when docs/coherence.md's counter table does not define a counter.
func TestCountersDocumented(t *testing.T) {
	rt := reflect.TypeOf(Counters{})
	if rt.NumField() != len(Definitions) {
		t.Fatalf("Counters has %d fields, Definitions %d", rt.NumField(), len(Definitions))
	}
	b, err := os.ReadFile("../docs/coherence.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range Definitions {
		if key := rt.Field(i).Tag.Get("json"); key != d.Key {
			t.Errorf("field %d of Counters has key %q, Definitions says %q", i, key, d.Key)
		}
		if !strings.Contains(string(b), "| `"+d.Key+"` |") {
			t.Errorf("docs/coherence.md has no row for the counter `%s`", d.Key)
		}
	}
}
