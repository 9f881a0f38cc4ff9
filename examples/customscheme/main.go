// Command customscheme is vmsim with a scheme of its own, cowpage, beside the built-in
// ones: every command of vmsim (run, sweep, schemes, ...) takes --scheme cowpage and its
// setting --max-saved.
//
//	go run . run --scheme cowpage --verify --interval 20000 --mtbf 60000
//	go run . sweep --trace corpus:sort --set scheme=cowpage,remus --set interval=10000,100000 --csv out.csv
package main

import (
	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/cli"
	"github.com/vmsim/vmsim/scheme"

	"github.com/vmsim/vmsim/examples/customscheme/cowpage"
)

// registry returns the schemes of this vmsim: the built-in ones and cowpage.
func registry() *scheme.Registry {
	reg := builtin.NewRegistry()
	reg.Register(cowpage.Info())
	return reg
}

func main() { cli.Execute(registry()) }
