// Command gendocs writes the counter tables of README.md and docs/counters.md from the
// counters' struct tags (scheme.CounterDefsOf): the driver's and the common ones
// (sim.CounterDefs) and each built-in scheme's own (scheme.Info.Own). Each table sits
// between two marker comments,
//
//	<!-- generated: NAME (go generate ./docs) -->
//	...
//	<!-- end: NAME -->
//
// and everything outside them is left alone. Run it as `go generate ./docs` (or `go run
// ./internal/gendocs` from the repository's root); a test fails when a table is not current.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	for _, name := range Files {
		path := filepath.Join(root, name)
		old, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		updated, err := Update(name, old)
		if err != nil {
			fail(err)
		}
		if !bytes.Equal(old, updated) {
			if err := os.WriteFile(path, updated, 0o644); err != nil {
				fail(err)
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendocs:", err)
	os.Exit(1)
}

// Files are the files with generated sections, relative to the repository's root.
var Files = []string{"README.md", "docs/counters.md"}

// sections returns the generated sections, by name.
func sections() map[string]string {
	defs := sim.CounterDefs()
	prefixed := func(p string) []scheme.CounterDef {
		var out []scheme.CounterDef
		for _, d := range defs {
			if strings.HasPrefix(d.Key, p) {
				out = append(out, d)
			}
		}
		return out
	}
	return map[string]string{
		"readme-counters": table("counter", defs, plain),
		"cache-counters":  table("key", prefixed("cache_"), code),
		"coh-counters":    table("key", prefixed("coh_"), code),
		"tlb-counters":    table("key", prefixed("tlb_"), code),
		"io-counters":     table("key", prefixed("io_"), code),
		"scheme-counters": schemeTable(builtin.NewRegistry()),
	}
}

// table is a Markdown table of defs: key, definition (written by doc).
func table(head string, defs []scheme.CounterDef, doc func(string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | definition |\n|---|---|\n", head)
	for _, d := range defs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", d.Key, doc(d.Doc))
	}
	return b.String()
}

// schemeTable is a Markdown table of the own counters of every scheme of reg.
func schemeTable(reg *scheme.Registry) string {
	var b strings.Builder
	b.WriteString("| scheme | key | kind | definition |\n|---|---|---|---|\n")
	for _, i := range reg.All() {
		for _, d := range i.OwnDefs() {
			kind := d.Kind.String()
			if kind == "" {
				kind = "total"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", i.Name, d.Key, kind, code(d.Doc))
		}
	}
	return b.String()
}

// plain escapes a definition for a table cell.
func plain(doc string) string { return strings.ReplaceAll(doc, "|", `\|`) }

// codeWords are the words of a definition set as code: a flag with the word after it, or
// a counter's key.
var codeWords = regexp.MustCompile(`--([a-z][a-z0-9-]*)( [a-z-]+)?|\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b`)

// code escapes a definition for a table cell and sets its flags (with their value, when
// the next word is one of the flag's choices, sim.Choices) and keys as code.
func code(doc string) string {
	return codeWords.ReplaceAllStringFunc(plain(doc), func(w string) string {
		flag, val, ok := strings.Cut(w, " ")
		if !ok || !strings.HasPrefix(w, "--") {
			return "`" + w + "`"
		}
		if slices.Contains(sim.Choices[flag[2:]], val) {
			return "`" + w + "`"
		}
		return "`" + flag + "` " + val
	})
}

var marker = regexp.MustCompile(`(?m)^<!-- generated: ([a-z-]+) \(go generate \./docs\) -->\n`)

// Update returns content (of the file name) with every generated section made current,
// or an error naming the file and line of a marker without its end or of an unknown
// section.
func Update(name string, content []byte) ([]byte, error) {
	secs := sections()
	var out bytes.Buffer
	rest := content
	line := 1
	for {
		loc := marker.FindSubmatchIndex(rest)
		if loc == nil {
			out.Write(rest)
			return out.Bytes(), nil
		}
		line += bytes.Count(rest[:loc[0]], []byte("\n"))
		sec := string(rest[loc[2]:loc[3]])
		text, ok := secs[sec]
		if !ok {
			return nil, fmt.Errorf("%s:%d: unknown generated section %q", name, line, sec)
		}
		end := []byte("<!-- end: " + sec + " -->\n")
		e := bytes.Index(rest[loc[1]:], end)
		if e < 0 {
			return nil, fmt.Errorf("%s:%d: section %q has no line %q", name, line, sec, strings.TrimSpace(string(end)))
		}
		out.Write(rest[:loc[1]])
		out.WriteString(text)
		out.Write(end)
		consumed := rest[:loc[1]+e+len(end)]
		line += bytes.Count(consumed[loc[0]:], []byte("\n"))
		rest = rest[loc[1]+e+len(end):]
	}
}
