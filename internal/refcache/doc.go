// Package refcache is a deliberately naive cache simulator, written independently of
// vmsim's cache package, for tests to compare against: each set is a list of lines, most
// recently used first, write-allocate and write-back. It is meant only for tests.
package refcache
