// Package testseed gives randomized tests their seed: $VMSIM_TEST_SEED when set, to rerun
// a failure, else a fresh random one, logged so that a failing test prints it. It imports
// nothing of vmsim's, so any package's tests can use it.
package testseed

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// Seed returns the seed of a randomized test and logs it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv("VMSIM_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("VMSIM_TEST_SEED=%q: want an unsigned integer", s)
		}
	}
	t.Logf("seed %d (rerun with VMSIM_TEST_SEED=%d)", seed, seed)
	return seed
}
