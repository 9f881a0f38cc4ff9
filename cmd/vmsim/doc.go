// Command vmsim is the command-line interface of the vmsim emulator of virtual checkpoints
// and the other ways of checkpointing memory.
//
//	vmsim run [flags] [TRACE]          replay a trace through a scheme and print exact counts
//	vmsim schemes                      list the schemes, their settings and counters
//	vmsim trace convert|stats|head     convert, describe and print traces
//	vmsim record -o OUT -- PROG ARGS   record a program's memory trace with valgrind
//	vmsim sweep                        run experiments over traces × settings on every core
//	vmsim reproduce                    regenerate results/ (the paper's study)
//	vmsim interval                     Young's and Daly's optimal checkpoint intervals
//	vmsim version, vmsim completion    the version; shell completion
//
// Run `vmsim help run` for every flag and every counter. Exit status: 0 on success, 1 when
// --verify found a mismatch, 2 for a usage error or bad input; vmsim record exits with the
// traced program's status.
//
// The commands are package cli's, run on the built-in schemes (package builtin): a main
// package of another module runs them on schemes of its own with cli.Execute (see
// examples/customscheme).
package main
