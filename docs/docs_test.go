package docs_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sim"
)

// readDoc returns the text of a page of this folder.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonKeys returns the JSON keys of a struct's fields, in order.
func jsonKeys(v any) []string {
	var keys []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		if k, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestCountersDocumented fails when a counter of sim.CounterDefs, a parameter of the cost
// model or a term of cost.Breakdown is not named (as `key`) in counters.md, and when a
// counter table of counters.md names a counter that sim.CounterDefs does not have.
func TestCountersDocumented(t *testing.T) {
	text := readDoc(t, "counters.md")
	var counterKeys []string
	for _, c := range sim.CounterDefs() {
		counterKeys = append(counterKeys, c.Key)
	}
	for _, tt := range []struct {
		name string
		keys []string
	}{
		{"counter (sim.CounterDefs)", counterKeys},
		{"cost parameter (cost.Model)", jsonKeys(cost.Model{})},
		{"cost term (cost.Breakdown)", jsonKeys(cost.Breakdown{})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.keys) == 0 {
				t.Fatal("no keys found")
			}
			for _, k := range tt.keys {
				if !strings.Contains(text, "`"+k+"`") {
					t.Errorf("docs/counters.md does not document the %s `%s`", tt.name, k)
				}
			}
		})
	}

	// Rows of the tables headed "| counter |" name counters that exist.
	inCounterTable := false
	for i, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "| counter |"):
			inCounterTable = true
		case !strings.HasPrefix(line, "|"):
			inCounterTable = false
		case inCounterTable && !strings.HasPrefix(line, "|---"):
			cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
			key := strings.Trim(cell, "`")
			if !slices.Contains(counterKeys, key) {
				t.Errorf("docs/counters.md:%d documents a counter %q that sim.CounterDefs does not define", i+1, key)
			}
		}
	}
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	citation  = regexp.MustCompile(`\*\*D(\d+)\*\*`)
	decisionH = regexp.MustCompile(`(?m)^## D(\d+)\. `)
)

// pages returns the Markdown pages of this folder, sorted.
func pages(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("*.md")
	if err != nil || len(names) == 0 {
		t.Fatalf("no pages: %v", err)
	}
	sort.Strings(names)
	return names
}

// TestLinksResolve fails when a page links to a file that does not exist, or when the
// index does not link to every page.
func TestLinksResolve(t *testing.T) {
	index := readDoc(t, "README.md")
	for _, name := range pages(t) {
		if name != "README.md" && !strings.Contains(index, "("+name+")") {
			t.Errorf("docs/README.md does not link to %s", name)
		}
		for _, m := range mdLink.FindAllStringSubmatch(readDoc(t, name), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.FromSlash(target)); err != nil {
				t.Errorf("docs/%s links to %s, which does not exist", name, m[1])
			}
		}
	}
}

// TestDecisionsDefined fails when a page cites a decision (**Dn**) that decisions.md does
// not define, or when decisions.md defines one twice or lists one it does not define.
func TestDecisionsDefined(t *testing.T) {
	text := readDoc(t, "decisions.md")
	defined := map[string]int{}
	for _, m := range decisionH.FindAllStringSubmatch(text, -1) {
		defined[m[1]]++
	}
	if len(defined) == 0 {
		t.Fatal("decisions.md defines no decision")
	}
	for d, n := range defined {
		if n > 1 {
			t.Errorf("decisions.md defines D%s %d times", d, n)
		}
		if !strings.Contains(text, "| D"+d+" |") {
			t.Errorf("decisions.md defines D%s but its table does not list it", d)
		}
	}
	for _, name := range pages(t) {
		for _, m := range citation.FindAllStringSubmatch(readDoc(t, name), -1) {
			if defined[m[1]] == 0 {
				t.Errorf("docs/%s cites D%s, which decisions.md does not define", name, m[1])
			}
		}
	}
}

// repoRoot is the folder holding go.mod, above this one.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: %v", dir, err)
	}
	return dir
}

// repoFiles lists the repository's files, relative to root with slashes: those git tracks
// or would track (untracked files not ignored), or, without git, every file under root
// outside .git.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	// designName is the background document kept beside the repository, which a clone does
	// not have. It is spelled in two parts so that this file does not name it.
	designName = []byte("DESIGN" + ".md")
	// sharedRef matches a path into the shared folder beside the repository: written out
	// with slashes, or as the arguments of filepath.Join. Group 1 or 2 is what follows.
	sharedRef = regexp.MustCompile(`\.\./shared(/[A-Za-z0-9_.-]*)?|"\.\."\s*,\s*"shared"(\s*,\s*"[^"]*")?`)
	skipCall  = regexp.MustCompile(`\.Skip(f|Now)?\(`)
	// joinedTraces matches the filepath.Join argument after the shared folder's name.
	joinedTraces = regexp.MustCompile(`^\s*,\s*"traces"$`)
)

// references returns what file (path, content) refers to that a clone does not have:
// the design document, anywhere; a path into the shared folder, anywhere but in a Go test
// file that skips, and there only into its traces folder.
func references(path string, content []byte) []string {
	var refs []string
	if bytes.Contains(content, designName) {
		refs = append(refs, "design")
	}
	testSkips := strings.HasSuffix(path, "_test.go") && skipCall.Match(content)
	for _, m := range sharedRef.FindAllSubmatch(content, -1) {
		intoTraces := string(m[1]) == "/traces" || joinedTraces.Match(m[2])
		if !(testSkips && intoTraces) {
			refs = append(refs, "shared")
			break
		}
	}
	return refs
}

// pendingReferences are the references that files outside this folder still made when
// the specification moved here, and that their owners are to remove: the top-level README
// and two doc comments (DualMap's in mmu/dualmap.go should cite docs/machine.md,
// section 2; DefaultConfig's in sim/config.go should cite
// docs/machine.md, section 10). The test fails on any reference not listed here, and on an
// entry here that no longer holds, so that the list only shrinks.
var pendingReferences = map[string][]string{}

// TestNoReferencesOutsideTheRepository fails when a file of the repository refers to the
// design document or to the shared folder beside the repository, except Go tests that use
// its traces folder and skip themselves when it is absent.
func TestNoReferencesOutsideTheRepository(t *testing.T) {
	root := repoRoot(t)
	files := repoFiles(t, root)
	if !slices.Contains(files, "go.mod") {
		t.Fatalf("the file list of %s does not hold go.mod: %v", root, files)
	}
	seen := map[string][]string{}
	for _, f := range files {
		content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			if os.IsNotExist(err) { // listed by git, deleted in the work tree
				continue
			}
			t.Fatal(err)
		}
		if refs := references(f, content); len(refs) > 0 {
			seen[f] = refs
		}
	}
	for f, refs := range seen {
		for _, r := range refs {
			if !slices.Contains(pendingReferences[f], r) {
				t.Errorf("%s refers to %s", f, what(r))
			}
		}
	}
	for f, refs := range pendingReferences {
		for _, r := range refs {
			if !slices.Contains(seen[f], r) {
				t.Errorf("%s no longer refers to %s: remove that entry from pendingReferences in docs/docs_test.go", f, what(r))
			}
		}
	}
}

func what(ref string) string {
	if ref == "design" {
		return "the design document kept beside the repository, which a clone does not have: cite docs/ instead"
	}
	return "the shared folder beside the repository, which a clone does not have: only Go tests that skip without it may use its traces folder"
}

// TestReferences checks the detector itself on small cases. The cases are assembled
// from parts so that this file does not itself hold what it looks for.
func TestReferences(t *testing.T) {
	sh := "sha" + "red"
	rel := ".." + "/" + sh
	join := func(parts ...string) string { return `filepath.Join("` + strings.Join(parts, `", "`) + `")` }
	for _, tt := range []struct {
		name, path, content string
		want                []string
	}{
		{"clean", "a/b.go", "package b // see docs/machine.md", nil},
		{"design doc in Go", "a/b.go", "// see " + string(designName) + " section 1", []string{"design"}},
		{"design doc in a test", "a/b_test.go", "// " + string(designName) + "\nt.Skip()", []string{"design"}},
		{"shared path in Markdown", "README.md", "in `" + rel + "/traces`", []string{"shared"}},
		{"shared traces in a skipping test", "a/b_test.go", `p := "` + rel + `/traces/gcc.trace.gz"; t.Skipf("absent")`, nil},
		{"joined shared traces in a skipping test", "a/b_test.go", join("..", "..", sh, "traces", "x") + "; b.Skip(err)", nil},
		{"shared traces in a test that never skips", "a/b_test.go", join("..", "..", sh, "traces"), []string{"shared"}},
		{"shared elsewhere in a skipping test", "a/b_test.go", `"` + rel + `/other"; t.Skip()`, []string{"shared"}},
		{"joined shared elsewhere in a skipping test", "a/b_test.go", join("..", sh, "x") + "; t.Skip()", []string{"shared"}},
		{"shared traces in non-test Go", "a/b.go", join("..", sh, "traces") + "; t.Skip()", []string{"shared"}},
		{"the word shared", "a/b.go", "// state " + sh + " by the goroutines", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := references(tt.path, []byte(tt.content)); !slices.Equal(got, tt.want) {
				t.Errorf("references(%q, %q) = %v, want %v", tt.path, tt.content, got, tt.want)
			}
		})
	}
}
