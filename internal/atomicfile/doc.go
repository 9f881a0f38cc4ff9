// Package atomicfile writes vmsim's outputs so that they appear whole or not at all, and
// cleans up after itself when vmsim is interrupted.
//
// [Create] writes a regular file under a temporary name in the target's directory and
// renames it over the target only on [File.Commit], after an fsync; a failed or
// interrupted write leaves the target as it was. A target that exists and is not a
// regular file (a device such as /dev/null, a fifo, a terminal) is written in place,
// never replaced; a symbolic link is followed to its target, which is what gets written
// (but a descriptor's link in /proc to a pipe or socket, as /dev/stdout is when piped, is
// opened as it is).
// Neither is trusted when another user may have planted it: a link, fifo or device in a
// sticky folder everyone can write to (/tmp), owned by neither the user nor the folder's
// owner, is refused (the rule of Linux's fs.protected_symlinks and fs.protected_fifos).
//
// Every temporary file is in a registry; [CatchSignals] installs the one SIGINT/SIGTERM
// handler of the process, which runs the hooks registered with [OnSignal] (say, to kill
// traced programs), removes the registered temporary files, and then dies of the signal
// it received, so that the exit status says what happened.
package atomicfile
