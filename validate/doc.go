// Package validate measures real checkpointing, natively, on the machine it runs on, so
// that vmsim's modeled overheads can be checked against it.
//
// The measured side is C (README.md in this directory says more):
//
//   - ckpt.h, ckpt.c: a library that a program calls at its checkpoints, implementing on
//     Linux the mechanisms none (the baseline: nothing), wp (write protection with
//     mprotect and a SIGSEGV handler; a checkpoint copies the dirty pages to a staging
//     buffer and write-protects the region again: vmsim's remus and incremental),
//     softdirty (the same dirty pages from the kernel's soft-dirty bits, where the kernel
//     keeps them) and full (a copy of every touched page at each checkpoint: shadow);
//   - test_ckpt.c: the library's dirty tracking checked against a plain reference on
//     random write patterns;
//   - programs/: four programs that call the library every K iterations (stencil, sort,
//     kvstore, stream; Programs).
//
// This package embeds those sources, compiles them with gcc (or cc) into a fresh private
// directory (Build; PrivateDir), runs the programs with bounded run times (Build.Run) and
// measures each mechanism's overhead over the baseline from repeated runs: the median
// time and its spread, the interquartile range over the median (Build.Measure,
// Summarize).
//
// # The checkpoint client request
//
// Every ckpt_checkpoint call, whatever the mechanism, issues a valgrind client request
// (valgrind.h's VALGRIND_DO_CLIENT_REQUEST_STMT), so that a run recorded under valgrind
// can mark the checkpoint in the trace at exactly the point where the native run takes
// it:
//
//	request code  CKPT_VG_USERREQ_CHECKPOINT = VG_USERREQ_TOOL_BASE('V','M') + 1 = 0x564D0001
//	arg[1]        the checkpoint's number: 1 for the run's first, then 2, 3, ...
//	arg[2]        the mechanism: 0 none, 1 wp, 2 softdirty, 3 full
//	arg[3..5]     0
//	result        ignored (valgrind's default, 0)
//
// A valgrind tool that handles it (needs_client_requests, then in its handler
// `if (arg[0] == 0x564D0001)`) writes a checkpoint record (record.Checkpoint) between
// the accesses before the call and those after; natively, outside valgrind, the request
// is a few instructions that do nothing. Record with mechanism none, so that the trace
// holds the program's own accesses and the checkpoints, not the library's copies. A build
// without valgrind.h issues no request; a program's result line says which (valgrind=1).
package validate
