package main

import (
	"os"
	"os/exec"
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
func TestVersionStartup(t *testing.T) {
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
	inits := 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		inits++
		for _, heavy := range []string{
			"github.com/olekukonko/tablewriter", // an 8,192-entry cache, a regexp: internal/textable instead
		} {
			if strings.HasPrefix(f[1], heavy) {
				t.Errorf("vmsim version initialises %s: %s", f[1], line)
			}
		}
	}
	if inits == 0 {
		t.Fatalf("no init lines from GODEBUG=inittrace=1:\n%s", stderr.String())
	}
}
