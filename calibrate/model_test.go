package calibrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cost"
)

// TestLoadCosts: a calibration file sets every field its values stand for (doc.go) and
// leaves the others at their defaults; an object of cost keys sets those keys.
func TestLoadCosts(t *testing.T) {
	set, err := LoadCosts(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := cost.Default()
	want.CopyBytesPerSec, want.LogBytesPerSec, want.RecoveryBytesPerSec, want.CacheFlushLineNs = 5e9, 5e9, 5e9, 64/5e9*1e9
	want.FaultNs = 2000
	want.TrapNs, want.RestartNs = 5000, 5000
	want.MprotectNs = 1500
	want.DiskWriteNs, want.PTPageWriteNs, want.CommitNs = 150_000, 150_000, 150_000
	want.DiskReadNs = 60_000
	want.CacheMissNs = 110
	want.PageWalkNs = 30
	if set.Name != "golden.json" || set.Model != want {
		t.Errorf("set %q %+v,\nwant golden.json %+v", set.Name, set.Model, want)
	}

	dir := t.TempDir()
	flat := filepath.Join(dir, "flat.json")
	os.WriteFile(flat, []byte(`{"trap_ns": 69000, "copy_bytes_per_sec": 8.45e9}`), 0o644)
	set, err = LoadCosts(flat)
	if err != nil || set.Model.TrapNs != 69000 || set.Model.CopyBytesPerSec != 8.45e9 || set.Model.AccessNs != cost.Default().AccessNs {
		t.Errorf("flat: %+v, %v", set, err)
	}
}

// TestLoadCostsErrors: every bad file is an error naming it, and the key or the line.
func TestLoadCostsErrors(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, content, want string
	}{
		{"unknown cost key", `{"trap_ns": 1, "trapns": 2}`, `bad.json: unknown cost key "trapns"`},
		{"unknown calibration value", strings.Replace(string(golden), `"name": "page_walk_ns"`, `"name": "tlb_shootdown_ns"`, 1), `bad.json: value "tlb_shootdown_ns": not a cost vmsim knows`},
		{"unknown calibration field", strings.Replace(string(golden), `"repeats"`, `"repeat"`, 1), `bad.json: json: unknown field "repeat"`},
		{"broken JSON", "{\n  \"trap_ns\": ,\n}", "bad.json:2:"},
		{"bad value", `{"copy_bytes_per_sec": -1}`, "bad.json: cost copy_bytes_per_sec"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.json")
			os.WriteFile(p, []byte(tt.content), 0o644)
			if _, err := LoadCosts(p); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := LoadCosts(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}
