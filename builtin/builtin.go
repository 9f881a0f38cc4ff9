// Package builtin holds vmsim's built-in schemes: it imports every package that defines
// one, so that they are registered in the process-wide registry, and makes registries that
// hold them. The command line (package cli) and the tests that run schemes by name use it;
// the driver (package sim) does not, and imports no scheme.
package builtin

import (
	"slices"
	"strings"

	"github.com/vmsim/vmsim/incremental"
	"github.com/vmsim/vmsim/memctl"
	"github.com/vmsim/vmsim/mmu"
	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/snaplog"
)

// Infos returns the built-in schemes, sorted by name: a new copy at each call.
func Infos() []scheme.Info {
	out := []scheme.Info{mmu.NoneInfo(), mmu.DualMapInfo(), repl.RemusInfo(), repl.CachelineInfo(), incremental.Info(), snaplog.Info()}
	for _, s := range memctl.Strategies() {
		out = append(out, s.Info())
	}
	slices.SortFunc(out, func(a, b scheme.Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Register adds every built-in scheme to r. It panics if r holds a scheme of the same name
// already (scheme.Registry.Register).
func Register(r *scheme.Registry) {
	for _, i := range Infos() {
		r.Register(i)
	}
}

// NewRegistry returns a new registry holding the built-in schemes and nothing else, which
// a caller can add schemes of its own to and throw away (a test, or a main package that
// runs its own schemes beside the built-in ones: see package cli).
func NewRegistry() *scheme.Registry {
	r := scheme.NewRegistry()
	Register(r)
	return r
}

// Registry returns the process-wide registry (scheme.Default), which holds the built-in
// schemes, registered by their packages when they were loaded, and any scheme another
// package registered there (scheme.Register). It is what vmsim's own command runs.
func Registry() *scheme.Registry { return scheme.Default() }
