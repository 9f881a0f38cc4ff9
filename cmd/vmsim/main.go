package main

import (
	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/cli"
)

func main() { cli.Execute(builtin.Registry()) }
