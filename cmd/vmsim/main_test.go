package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestMain runs vmsim itself, instead of the tests, when VMSIM_TEST_MAIN is set: the
// test binary links the packages vmsim links, and initialises them as vmsim does.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("VMSIM_TEST_MAIN"); ok {
		os.Args = append([]string{"vmsim"}, strings.Fields(args)...)
		main()
		return
	}
	os.Exit(m.Run())
}

// TestVersionStartup: vmsim version initialises none of the packages that only some
// commands need and whose initialisation is heavy, listed by GODEBUG=inittrace=1 (issue
// 26, start-up). Go initialises every package a binary links: these must not be linked.
// And no package of vmsim's makes more than a few allocations as it initialises: what only
// some commands use (a template, regular expressions, a generated program, tables read by
// reflection) is made at first use (sync.OnceValue).
func TestVersionStartup(t *testing.T) {
	const maxInitAllocs = 100 // registering the schemes takes 79 (memctl); sweep's Slurm template took 763
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "VMSIM_TEST_MAIN=version", "GODEBUG=inittrace=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vmsim version: %v\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "vmsim ") {
		t.Errorf("vmsim version printed %q", stdout.String())
	}
	inits, ours := 0, 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		inits++
		// "init PKG @T ms, C ms clock, B bytes, A allocs"
		if len(f) == 11 && strings.HasPrefix(f[1], "github.com/vmsim/vmsim") {
			ours++
			if allocs, err := strconv.Atoi(f[9]); err != nil {
				t.Errorf("cannot read the allocations of %q", line)
			} else if allocs > maxInitAllocs {
				t.Errorf("%s's initialisation makes %d allocations (at most %d): make what it builds at first use", f[1], allocs, maxInitAllocs)
			}
		}
		for _, heavy := range []string{
			"github.com/olekukonko/tablewriter", // an 8,192-entry cache, a regexp: internal/textable instead
		} {
			if strings.HasPrefix(f[1], heavy) {
				t.Errorf("vmsim version initialises %s: %s", f[1], line)
			}
		}
	}
	if ours == 0 {
		t.Errorf("no init line of a vmsim package read from GODEBUG=inittrace=1:\n%s", stderr.String())
	}
	if inits == 0 {
		t.Fatalf("no init lines from GODEBUG=inittrace=1:\n%s", stderr.String())
	}
}
