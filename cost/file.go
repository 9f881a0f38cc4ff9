package cost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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
	if err := json.Unmarshal(data, &raw); err != nil {
		return base, fmt.Errorf("%s: want a JSON object of cost keys and numbers: %w", name, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	m := base
	for _, k := range keys {
		var v float64
		if err := json.NewDecoder(bytes.NewReader(raw[k])).Decode(&v); err != nil {
			return base, fmt.Errorf("%s: key %q: want a number: %w", name, k, err)
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
