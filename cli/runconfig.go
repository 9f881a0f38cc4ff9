package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sweep"
)

// runConfigHelp is the help of vmsim run --config.
const runConfigHelp = "read settings from this YAML file: a mapping of exactly the keys of a sweep spec's base (the flags' names with underscores: cache_size: 32K, fail_at: [5, 10], copy_rate: 3); flags given on the command line override it"

// applyRunConfig sets the flags of f that the keys of the YAML file path name (a key's
// flag is sweep.FlagName of it), but those given on the command line, which override the
// file. Keys are those of a sweep spec's base (sweep.SettingKeys of reg); an old spelling
// of one gets a note on stderr. Anything else (an unknown key, a null, a value its flag
// refuses) is an error naming the file and line. Precondition: f holds the flags of vmsim
// run, parsed, and none of them was set from the file before.
func applyRunConfig(f *pflag.FlagSet, path string, reg *scheme.Registry, stderr io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: an empty config: give settings as key: value lines (the keys of a sweep spec's base)", path)
		}
		return yamlErr(path, err)
	}
	if err := dec.Decode(&next); err == nil {
		return fmt.Errorf("%s:%d: a second YAML document (---): a config is one document", path, next.Line)
	} else if !errors.Is(err, io.EOF) {
		return yamlErr(path, err)
	}
	root := doc.Content[0]
	if root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of settings (key: value lines), not %s", path, root.Line, nodeKind(root))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		at := fmt.Sprintf("%s:%d", path, k.Line)
		if k.ShortTag() == "!!merge" {
			return fmt.Errorf("%s: merge keys (<<) are not taken in a config: write each setting", at)
		}
		canon, note, err := sweep.CheckSettingKey(k.Value, reg)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if line, dup := seen[canon]; dup {
			return fmt.Errorf("%s: %s is given twice (first at line %d)", at, canon, line)
		}
		seen[canon] = k.Line
		if note != "" {
			fmt.Fprintf(stderr, "vmsim: deprecated: %s: %s\n", at, note)
		}
		var val string
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
			return fmt.Errorf("%s: %s: null is not a value: leave the key out for its default", at, canon)
		case v.Kind == yaml.ScalarNode:
			val = v.Value
		case v.Kind == yaml.SequenceNode:
			var items []string
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode || e.ShortTag() == "!!null" {
					return fmt.Errorf("%s:%d: %s: want a list of values", path, e.Line, canon)
				}
				items = append(items, e.Value)
			}
			val = strings.Join(items, ",")
		default:
			return fmt.Errorf("%s: %s: want a value, not %s", at, canon, nodeKind(v))
		}
		flag := f.Lookup(sweep.FlagName(canon))
		if flag == nil {
			return fmt.Errorf("%s: %s is not a setting of vmsim run", at, canon)
		}
		if flag.Changed {
			continue // the command line overrides the file
		}
		if v.Kind == yaml.SequenceNode && flag.Value.Type() != "counts" {
			return fmt.Errorf("%s: %s: want one value, not a list", at, canon)
		}
		if flag.Value.Type() == "bool" && val != "true" && val != "false" {
			return fmt.Errorf("%s: %s: want true or false, not %q", at, canon, val)
		}
		if err := f.Set(flag.Name, val); err != nil {
			if ne := (*strconv.NumError)(nil); errors.As(err, &ne) {
				if errors.Is(ne.Err, strconv.ErrRange) {
					return fmt.Errorf("%s: %s: %s is out of range", at, canon, val)
				}
				return fmt.Errorf("%s: %s: %s, not %q", at, canon, numWords(ne), val)
			}
			// pflag's message names the flag, not the key: keep what follows.
			msg := err.Error()
			if _, rest, ok := strings.Cut(msg, " flag: "); ok {
				msg = rest
			}
			return fmt.Errorf("%s: %s: %s", at, canon, msg)
		}
	}
	return nil
}

// nodeKind names the kind of a YAML node, for messages.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "another kind of node"
}

// yamlErr returns err, an error of the YAML decoder reading path, naming the file (and
// the line, which the decoder's message names).
func yamlErr(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			return fmt.Errorf("%s:%s: %s", path, n, tail)
		}
	}
	return fmt.Errorf("%s: %s", path, msg)
}
