package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCurrent: mmu/access_gen.go is what the template makes of it now.
func TestGeneratedCurrent(t *testing.T) {
	dir := filepath.Join("..", "..")
	old, err := os.ReadFile(filepath.Join(dir, Output))
	if err != nil {
		t.Fatal(err)
	}
	src, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != string(old) {
		t.Errorf("mmu/%s is not current: run `go generate ./mmu`", Output)
	}
	for _, l := range Loops {
		for _, method := range []string{"Access", "accessHooked"} {
			if decl := "func (a *" + l.Adapter + ") " + method + "(run scheme.Run) int {"; !strings.Contains(string(src), decl) {
				t.Errorf("mmu/%s has no %s", Output, decl)
			}
		}
	}
}
