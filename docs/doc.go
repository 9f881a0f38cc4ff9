// Package docs holds vmsim's specification, as Markdown beside this file: the emulated
// machine (machine.md), the decisions the code makes where a reader could choose
// otherwise (decisions.md), the verifier (verification.md), and every counter and the
// cost model (counters.md); README.md is the index.
//
// The package has no code. Its tests keep the specification consistent with the code and
// the repository: every counter of sim.CounterDefs and every cost-model key is documented,
// the pages link to files that exist, every decision cited is defined, and no file of the
// repository refers to material that a clone does not have.
package docs

// The counter tables of counters.md and the README, from the counters' struct tags.
//go:generate go run ../internal/gendocs ..
