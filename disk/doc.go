// Package disk emulates the backing store: page-sized slots, their contents (as stamps,
// when verification is on) and the accounting of every page-sized I/O.
//
// The disk has as many slots as are asked for: a slot is allocated the first time a
// version is written out and freed when that version is discarded. Every read and write
// of a page, every page-table page written and every commit record is counted in [IO].
package disk
