package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/vmsim/vmsim/scheme"
)

// One spelling for every setting (docs/decisions.md): a setting's key, in a sweep spec's
// base and vary, in --set and --base and in vmsim run --config, is spelled with
// underscores (cache_size, copy_rate), as the configuration's JSON keys and the CSV
// columns are; its flag is the same name with hyphens (--cache-size, --copy-rate). The
// hyphenated spelling of a key is accepted with a deprecation note.

// SettingKeys returns the keys a spec's base and vary (and vmsim run --config) take, in
// their one spelling: the configuration's JSON keys but trace and params, then the own
// settings of reg's schemes (nil: the built-ins), their names with underscores for
// hyphens, sorted.
func SettingKeys(reg *scheme.Registry) []string { return settingNames(reg) }

// FlagName returns the flag of vmsim run that sets key (a SettingKeys key): the key with
// hyphens for underscores.
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// canonicalKey returns key's spelling among names, and whether key is an old spelling
// of it (hyphens for underscores); ok is false when key is neither.
func canonicalKey(key string, names []string) (canon string, old, ok bool) {
	if slices.Contains(names, key) {
		return key, false, true
	}
	if u := strings.ReplaceAll(key, "-", "_"); u != key && slices.Contains(names, u) {
		return u, true, true
	}
	return "", false, false
}

// deprecationNote is the note for key, an old spelling of canon.
func deprecationNote(key, canon string) string {
	return fmt.Sprintf("setting %q is spelled %q now (keys take underscores, flags hyphens); the old spelling will go", key, canon)
}

// CheckSettingKey says what is wrong with key as a setting of reg's schemes' sweeps (nil:
// nothing); it returns the key's one spelling and, for an old spelling, a deprecation
// note.
func CheckSettingKey(key string, reg *scheme.Registry) (canon, note string, err error) {
	names := settingNames(reg)
	if err := checkKey(key, names, "setting"); err != nil {
		return "", "", err
	}
	canon, old, _ := canonicalKey(key, names)
	if old {
		note = deprecationNote(key, canon)
	}
	return canon, note, nil
}

// normalizeKeys returns set with every key in its one spelling among names, and a
// deprecation note for each old spelling, in key order; an unknown key, or two spellings
// of one key, is an error.
func normalizeKeys[V any](set map[string]V, names []string, what string) (map[string]V, []string, error) {
	if set == nil {
		return nil, nil, nil
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]V, len(set))
	var notes []string
	for _, k := range keys {
		if err := checkKey(k, names, what); err != nil {
			return nil, nil, err
		}
		canon, old, _ := canonicalKey(k, names)
		if _, dup := out[canon]; dup {
			return nil, nil, fmt.Errorf("%s %q is given twice, as %q and as %q", what, canon, canon, k)
		}
		if old {
			notes = append(notes, deprecationNote(k, canon))
		}
		out[canon] = set[k]
	}
	return out, notes, nil
}

// setField sets the field of the struct *dst whose JSON key is key to v, with an error
// that names the key, the type it takes and the value given when v does not fit.
func setField(dst any, key string, v any, what string) error {
	b, err := json.Marshal(map[string]any{key: v})
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, key, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := kindOf(dst, key)
			if _, isList := v.([]any); !isList && strings.HasPrefix(want, "a list") {
				want += fmt.Sprintf(" (as [%v])", v)
			}
			return fmt.Errorf("%s %s: want %s, not %s", what, key, want, describeValue(v))
		}
		return fmt.Errorf("%s %s: %v is not a value of it", what, key, describeValue(v))
	}
	return nil
}

// kindOf describes the type of the field of *dst whose JSON key is key.
func kindOf(dst any, key string) string {
	t := reflect.TypeOf(dst).Elem()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == key {
			return describeType(t.Field(i).Type)
		}
	}
	return "another type"
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "a non-negative integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "an "), "a ") + "s"
	}
	return t.String()
}

func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case []any:
		return fmt.Sprintf("the list %v", x)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}
