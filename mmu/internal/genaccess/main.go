// Command genaccess writes mmu/access_gen.go, the access loops of the adapters of the
// page-level schemes none and dualmap, from the one template mmu/access.go.tmpl: for each
// scheme a plain loop (Access, with a run of one apart) and a loop with the verifier's hook
// and the next-use times (accessHooked), each calling the scheme's concrete type directly
// but for the common access (one page, found in the page table's lookup cache, resident,
// not a first write), which it performs inline; and Image, which answers the verifier's
// hook without a page-table walk. One loop for both schemes, branching on the scheme and on
// the hooks, cost about 15 instructions an access on the fast path and 30 a run of one on
// the general loop (issue 21, cachegrind); the inline common access saves about 65 an
// access on DualMapUnlimited (issue 26).
//
// Run it as `go generate ./mmu` (or `go run ./mmu/internal/genaccess mmu` from the
// repository's root); a test fails when access_gen.go is not current.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"text/template"
)

// The template and the generated file, in package mmu's directory.
const (
	Template = "access.go.tmpl"
	Output   = "access_gen.go"
)

// Loop is one adapter's loops: Adapter is the adapter's type, whose field impl is the
// page-level scheme's concrete type Scheme. FirstWrites: the scheme's write to a page not
// written since the checkpoint (v != V) is a protection event, which "hit" leaves to it.
type Loop struct {
	Adapter, Scheme string
	FirstWrites     bool
}

// Pages is the template's walk over an access's pages (r, from page first to last): Impl
// and PT are the expressions of the concrete scheme and its page table, N that of the
// access's number; Hooked asks for the next-use times (nu).
type Pages struct {
	Impl, PT, N string
	Hooked      bool
}

func pages(impl, pt, n string, hooked bool) Pages { return Pages{impl, pt, n, hooked} }

// Hit is the template's common access of loop Loop (r, write, first and last as in Pages),
// performed inline: PT, FT and M are the expressions of the page table, the frame table
// and the machine, Done the statement that ends the access.
type Hit struct {
	Loop
	PT, FT, M, Done string
}

func hit(l Loop, pt, ft, m, done string) Hit { return Hit{l, pt, ft, m, done} }

// Loops are the adapters whose loops are generated, in the generated file's order.
var Loops = []Loop{
	{Adapter: "noneAdapter", Scheme: "None"},
	{Adapter: "dualMapAdapter", Scheme: "DualMap", FirstWrites: true},
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	src, err := Generate(dir)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, Output), src, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genaccess:", err)
	os.Exit(1)
}

// Generate returns the contents of access_gen.go from the template in directory dir,
// gofmt'd.
func Generate(dir string) ([]byte, error) {
	path := filepath.Join(dir, Template)
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := template.New(Template).Funcs(template.FuncMap{"pages": pages, "hit": hit}).Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, Loops); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: the generated code does not parse: %w", path, err)
	}
	return src, nil
}
