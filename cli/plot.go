package cli

import (
	"io"

	"github.com/spf13/cobra"
)

func newPlotCmd(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{Use: "plot", Hidden: true}
}
