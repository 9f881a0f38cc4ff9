package sim_test

// The tests of sim run the built-in schemes by name: package builtin registers them in
// the process-wide registry. Imported from the external test package, which shares the
// test binary with the internal one, so that no import cycle can arise even if a scheme
// package comes to import sim.
import _ "github.com/vmsim/vmsim/builtin"
