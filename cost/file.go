package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/vmsim/vmsim/internal/textpos"
)

// Read reads a cost file of model values, a JSON object of cost keys (Keys) and numbers,
// over base: the keys it names replace base's values. name is the file's name for
// errors; a key that is not a cost is an error naming the file and the key, and the
// result must be valid (Validate). (vmsim calibrate's files are read by package
// calibrate, which maps its measurements to these keys.)
func Read(r io.Reader, name string, base Model) (Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return base, fmt.Errorf("%s: %w", name, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		why := "null"
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se): // Offset is just past the offending byte
			return base, fmt.Errorf("%s: not JSON (%v): want a JSON object of cost keys and numbers", textpos.At(name, data, se.Offset-1), se)
		case err != nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")):
			why = "not JSON: it ends inside the object"
		case err != nil:
			why = "not an object"
		}
		return base, fmt.Errorf("%s: want a JSON object of cost keys and numbers (%s)", name, why)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	m := base
	for _, k := range keys {
		var v float64
		if err := json.NewDecoder(bytes.NewReader(raw[k])).Decode(&v); err != nil || bytes.Equal(raw[k], []byte("null")) {
			return base, fmt.Errorf("%s: key %q: want a number, not %s", name, k, raw[k])
		}
		if err := m.Set(k, v); err != nil {
			return base, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := m.Validate(); err != nil {
		return base, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}
