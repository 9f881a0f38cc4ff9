//go:build !linux

package calibrate

// fsType names the file system dir is on: unknown outside Linux.
func fsType(dir string) string { return "" }
