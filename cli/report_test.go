package cli

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// reportSweep writes a small sweep's CSV and JSON lines into dir.
func reportSweep(t *testing.T, dir string) (csvPath, jsonlPath string) {
	t.Helper()
	csvPath, jsonlPath = filepath.Join(dir, "data", "s.csv"), filepath.Join(dir, "data", "s.jsonl")
	if err := os.MkdirAll(filepath.Dir(csvPath), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("sweep", "--trace", "corpus:sort", "--set", "scheme=dualmap,none", "--set", "interval=1000,100000",
		"--base", "initial=zero", "--csv", csvPath, "--jsonl", jsonlPath)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	return csvPath, jsonlPath
}

// TestReport: the page of a sweep's outputs, a figure of a results folder and
// per-interval statistics holds their configuration, sortable tables, inline SVG figures,
// relative links to the raw files and the self-test, and nothing from the network; the
// same inputs give the same bytes.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	csvPath, _ := reportSweep(t, dir)
	stats := filepath.Join(dir, "data", "intervals.jsonl")
	var lines []string
	for i := range 5 {
		lines = append(lines, fmt.Sprintf(`{"from":%d,"to":%d,"checkpoints":1,"failures":0,"delta":{"accesses":1000,"pages_dirtied":%d}}`, i*1000+1, (i+1)*1000, 10*i*i))
	}
	if err := os.WriteFile(stats, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "data", "fig.svg")
	// A figure from someone else's folder, hostile: shown as an image, it runs nothing.
	given := []byte(`<?xml version="1.0"?>` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" id="given" onload="alert(1)"><script>alert(2)</script></svg>`)
	if err := os.WriteFile(svg, given, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.html")
	code, stdout, stderr := runCLI("report", filepath.Join(dir, "data"), "-o", out)
	if code != 0 || stdout != "" {
		t.Fatalf("report: exit %d, stdout %q: %s", code, stdout, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p := string(page)
	for _, want := range []string{
		`<h2>` + filepath.ToSlash(csvPath) + `</h2>`,
		`raw data: <a href="data/s.csv">s.csv</a>`,
		`raw data: <a href="data/s.jsonl">s.jsonl</a>`,
		`raw data: <a href="data/intervals.jsonl">`,
		`<dt>initial</dt><dd>zero</dd>`,
		`<dt>scheme</dt><dd>varies: dualmap, none</dd>`,
		`<dt>interval</dt><dd>varies: 1000, 100000</dd>`,
		`<table class="sortable">`,
		`<th>overhead</th>`,
		`Per-interval statistics`,
		`<th>delta_pages_dirtied</th>`,
		`<figure><img alt="fig.svg" src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString(given) + `"></figure>`,
		`id="selftest-result"`,
		`location.hash === "#selftest"`,
	} {
		if !strings.Contains(p, want) {
			t.Errorf("the page has no %q", want)
		}
	}
	// A figure for each of the sweep's two files and for the intervals, and the given one
	// as an image.
	if n := strings.Count(p, "<figure><svg"); n != 3 {
		t.Errorf("%d inline SVG figures; want 3", n)
	}
	if strings.Contains(p, "alert(") || strings.Contains(p, "onload") {
		t.Error("the page has the given figure's script in it")
	}
	if strings.Contains(p, "<?xml") {
		t.Error("the page has an SVG file's XML prolog inside")
	}
	for _, bad := range []string{"https://", "<link", "src=\"http"} {
		if strings.Contains(p, bad) {
			t.Errorf("the page has %q: it must need no network", bad)
		}
	}
	again := filepath.Join(dir, "again.html")
	if code, _, stderr := runCLI("report", filepath.Join(dir, "data"), "-o", again); code != 0 {
		t.Fatalf("report again: %s", stderr)
	}
	if b, _ := os.ReadFile(again); string(b) != p {
		t.Error("the same inputs gave other bytes")
	}
	// A folder named through a symbolic link is read as the folder itself.
	link := filepath.Join(dir, "linked")
	if err := os.Symlink(filepath.Join(dir, "data"), link); err != nil {
		t.Fatal(err)
	}
	viaLink := filepath.Join(dir, "via-link.html")
	if code, _, stderr := runCLI("report", link, "-o", viaLink); code != 0 {
		t.Fatalf("report of a linked folder: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(viaLink); strings.Count(string(b), "<figure><svg") != 3 {
		t.Errorf("report of a linked folder: %d figures, want 3", strings.Count(string(b), "<figure><svg"))
	}
}

// TestReportRefusals: bad input is a usage error (exit 2, nothing on stdout) naming the
// file, and leaves no page.
func TestReportRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, "bad.csv", []byte("a,b\n1\n"))
	txt := writeFile(t, "notes.txt", []byte("x"))
	empty := t.TempDir()
	out := filepath.Join(dir, "r.html")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"report", bad}, "-o report.html is required"},
		{"missing file", []string{"report", filepath.Join(dir, "none.csv"), "-o", out}, "none.csv"},
		{"not results", []string{"report", txt, "-o", out}, txt + ": want a .csv, .jsonl, .ndjson or .svg file"},
		{"bad CSV", []string{"report", bad, "-o", out}, bad + ":2"},
		{"empty folder", []string{"report", empty, "-o", out}, "no results files"},
		{"no input", []string{"report", "-o", out}, "requires at least 1 arg"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(c.args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a page was left behind")
			}
		})
	}
}

// TestReportBrowser runs scripts/report-browser-test.sh, which loads a report in headless
// Chromium: no console errors, a table sorts, the figures are there. It skips where no
// Chromium is installed (the script installs it only in CI: .ci/run runs it).
func TestReportBrowser(t *testing.T) {
	found := false
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if _, err := exec.LookPath(b); err == nil {
			found = true
		}
	}
	if !found {
		t.Skip("no Chromium on PATH: the browser test runs in CI (scripts/report-browser-test.sh installs it there)")
	}
	cmd := exec.Command("../scripts/report-browser-test.sh")
	cmd.Env = append(os.Environ(), "CI=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "report-browser-test: ok") {
		t.Errorf("scripts/report-browser-test.sh: %v\n%s", err, out)
	}
}

// TestFileHref: a raw-data link is a path, never a scheme a file's name could make it.
func TestFileHref(t *testing.T) {
	for _, tc := range []struct{ name, path, want string }{
		{"plain", "data/s.csv", "data/s.csv"},
		{"parent", "../r/s.csv", "../r/s.csv"},
		{"absolute", "/home/u/s.csv", "/home/u/s.csv"},
		{"a scheme's look", "javascript:alert(1).jsonl", "./javascript:alert%281%29.jsonl"},
		{"a scheme's look in a folder", "a:b/s.csv", "./a:b/s.csv"},
		{"space, hash, question mark", "x y#z?.csv", "x%20y%23z%3F.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fileHref(tc.path); got != tc.want {
				t.Errorf("fileHref(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}
