// Command vmsim is the command-line interface of the vmsim virtual-checkpoint emulator.
//
//	vmsim run [flags] [TRACE]   replay a trace through the emulated MMU and print counts
//
// Run `vmsim help run` for every flag and every counter. Exit status: 0 on success, 1 when
// --verify found a mismatch, 2 for a usage error or bad input.
package main
