// Package grow appends to the slices of a simulation's tables (page-table entries, the
// page index's keys, a domain's pages, the frames) without clearing the spare room of
// each new array.
//
// The built-in append clears an array's spare room when it grows one (runtime.growslice),
// writing to every memory page of it at once; a table that grows by doubling so touches
// up to twice the memory it will use, and on a virtual machine each first touch of a page
// is a fault that costs microseconds (14-16 µs on the AMD EPYC VM of the README, where a
// run of SPEC gcc behind a cache took 1,027 faults with Append, 1,074 with append).
// Append allocates with make, which clears nothing when the memory comes fresh from the
// system (it is zero), so that a page is touched when an element is written to it.
package grow

// Append returns s with v appended, as the built-in append does, growing a full s to
// twice its capacity (at least 64 elements). Meant for element types without pointers, whose
// new arrays make clears only when their memory is not fresh.
func Append[T any](s []T, v T) []T {
	if len(s) < cap(s) {
		return append(s, v)
	}
	t := make([]T, len(s), max(2*cap(s), 64))
	copy(t, s)
	return append(t, v)
}
