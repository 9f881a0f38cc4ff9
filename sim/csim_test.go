package sim

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// TestAgainstCMemsim compares the demand-paging counts of scheme none with those of
// scripts/csim/memsim.c, a C simulator that shares no code with vmsim, on random rw
// traces; it skips where no C compiler is installed.
func TestAgainstCMemsim(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) on PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "memsim")
	if out, err := exec.Command(cc, "-O2", "-o", bin, filepath.Join("..", "scripts", "csim", "memsim.c")).CombinedOutput(); err != nil {
		t.Fatalf("building memsim: %v\n%s", err, out)
	}
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 99))
		pages := 8 + rng.IntN(300)
		path := filepath.Join(dir, fmt.Sprintf("t%d.rw", seed))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		hot := 1 + rng.IntN(pages)
		for range 50_000 {
			p := rng.IntN(pages)
			if rng.IntN(4) != 0 {
				p = rng.IntN(hot) // some locality, so that hits, misses and dirty evictions all occur
			}
			fmt.Fprintf(w, "%x %c\n", uint64(p)<<12|uint64(rng.IntN(4096)), "RW"[rng.IntN(2)])
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, policy := range []string{"lru", "clock"} {
			for _, frames := range []int{1, 7, 64} {
				t.Run(fmt.Sprintf("seed%d/%s/%d", seed, policy, frames), func(t *testing.T) {
					out, err := exec.Command(bin, path, fmt.Sprint(frames), policy).Output()
					if err != nil {
						t.Fatal(err)
					}
					cfg := DefaultConfig()
					cfg.Scheme, cfg.Frames, cfg.Replace = "none", frames, policy
					res, err := Run(cfg, func() (traces.Reader, error) { return traces.Open(path, traces.Options{}) })
					if err != nil {
						t.Fatal(err)
					}
					s := res.Stats
					got := fmt.Sprintf("refs %d\npage_faults %d\ndisk_writes %d\n", s.Refs, s.PageFaults, s.DiskWrites)
					if got != string(out) {
						t.Errorf("seed %d, %s, %d frames:\nvmsim\n%smemsim\n%s", seed, policy, frames, got, out)
					}
				})
			}
		}
	}
}
