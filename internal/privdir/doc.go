// Package privdir checks the folders in which vmsim keeps what it later trusts without
// reading it again (recorded workloads, the valgrind tool it built), so that another user
// of a shared machine cannot put bytes there under a name vmsim would reuse.
package privdir
