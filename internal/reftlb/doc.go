// Package reftlb is a deliberately naive TLB model, written independently of vmsim's tlb
// package, for tests to compare against: each set is a list of entries, most recently used
// first. It is meant only for tests.
package reftlb
