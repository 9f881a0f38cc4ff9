// Package cli is vmsim's command line: every command of the vmsim program (run, schemes,
// trace, record, sweep, plot, diff, reproduce, interval, version, completion), for a
// registry of schemes. The vmsim program is cli.Execute(builtin.Registry()); a
// researcher's own main package runs the same commands on schemes of its own beside the
// built-in ones:
//
//	func main() {
//		reg := builtin.NewRegistry()
//		reg.Register(mypkg.Info())
//		cli.Execute(reg)
//	}
//
// Main runs a command line in-process and returns its exit status (for tests, which can
// make a registry, run it and throw it away). examples/customscheme in the repository is
// such a module.
package cli
