// Package refsim is a deliberately naive page-replacement simulator, written
// independently of vmsim's frames and mmu packages, for tests to compare against. Frames
// are an array filled lowest index first; every policy scans it. It is slow (OPT scans the
// future at every fault) and meant only for tests.
package refsim
