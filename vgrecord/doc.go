// Package vgrecord records a program's memory accesses by running it under valgrind, with
// vmsim's own valgrind tool, vmtrace (vgtool/vmtrace.c, built on first use against the
// installed valgrind by [BuildVMTrace]), or with valgrind's lackey, and streams them into
// a [traces.Writer]. It is what `vmsim record` runs.
//
// [RecordProgram] records one program: its own process through a pipe (pipe.go), or, with
// [RecordOptions.Children], every process it starts, each on a connection of its own to a
// Unix socket that only the user can reach (children.go, channel.go). valgrind runs in a
// process group of its own that a guard process kills if vmsim dies (process.go).
//
// Under vmtrace, a program's call of the checkpoint library of package validate
// (ckpt_checkpoint, valgrind client request 0x564D0001) becomes a checkpoint record in
// the trace, between the accesses made before the call and those after, so that a
// recorded run checkpoints at the same program points as the native one.
//
// Under vmtrace a recording can also carry the thread of every record
// ([RecordOptions.Threads]: threads numbered in their process's order of creation) and
// the kernel's writes into the program's memory ([RecordOptions.KernelWrites]: a system
// call's memory output, a signal frame), as writes marked as the kernel's
// (record.Record.Kernel); docs/recording.md specifies both.
//
// Package traces holds the trace readers and writers only and does not import this
// package.
package vgrecord
