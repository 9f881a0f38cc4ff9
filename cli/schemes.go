package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

func newSchemesCmd(reg *scheme.Registry, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "schemes",
		Short: "List the checkpoint schemes --scheme accepts, with their settings and counters",
		Long: `List every registered checkpoint scheme: its name (what --scheme takes), what it
does, the traffic it sees (cpu: every access; memory: what reaches memory, behind the cache
model when --cache-size > 0), the failures it recovers from, the settings of the machine
that only some schemes model and it does ("models": --frames, --replace, --steal and
--initial for the schemes that page, --vbits and --cow for virtual checkpoints, --granule
for block-granular schemes, --tlb-checkpoint for those that write-protect through the
translation; given to a scheme that does not model them, they are a usage error), its own
settings (flags of 'vmsim run', keys of sweep's --set; --pte-bytes, dualmap's with volatile
memory, has the sweep key pte_bytes) and its own counters (under "scheme" in a run's
stats). Every scheme also reports the common counters listed by 'vmsim run
--help'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeSchemes(stdout, reg)
		},
	}
}

// writeSchemes lists the schemes of reg on w.
func writeSchemes(w io.Writer, reg *scheme.Registry) error {
	var b strings.Builder
	for i, s := range reg.All() {
		if i > 0 {
			b.WriteByte('\n')
		}
		var rec []string
		if s.RecoversTransient {
			rec = append(rec, "transient failures")
		}
		if s.RecoversCrash {
			rec = append(rec, "crashes of volatile memory")
		}
		if len(rec) == 0 {
			rec = append(rec, "none (keeps no checkpoints)")
		}
		fmt.Fprintf(&b, "%s\n  %s\n  level: %s; recovers: %s\n", s.Name, s.Doc, s.Level, strings.Join(rec, ", "))
		models := sim.SchemeSettings(s)
		if len(models) > 0 {
			fmt.Fprintf(&b, "  models: %s\n", strings.Join(models, ", "))
		}
		for _, p := range s.Params {
			switch {
			case slices.Contains(models, "--"+p.Name):
				// Listed under models.
			case slices.Contains(sim.MachineParams(), p.Name):
				fmt.Fprintf(&b, "  --%s (default %s; sweep key %s): %s\n", p.Name, p.Default, strings.ReplaceAll(p.Name, "-", "_"), p.Doc)
			default:
				fmt.Fprintf(&b, "  --%s (default %s): %s\n", p.Name, p.Default, p.Doc)
			}
		}
		for _, c := range s.OwnDefs() {
			fmt.Fprintf(&b, "  counter %s: %s\n", c.Key, c.Doc)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// addSchemeParams adds a flag for the own setting of every scheme of reg, once per name;
// the paging settings the driver passes on (sim.MachineParams) are flags of run already.
func addSchemeParams(f *pflag.FlagSet, reg *scheme.Registry) {
	seen := map[string][]string{}
	docs := map[string]string{}
	defs := map[string]string{}
	var order []string
	machine := sim.MachineParams()
	for _, s := range reg.All() {
		for _, p := range s.Params {
			if slices.Contains(machine, p.Name) {
				continue
			}
			if _, ok := seen[p.Name]; !ok {
				order = append(order, p.Name)
				docs[p.Name], defs[p.Name] = p.Doc, p.Default
			}
			seen[p.Name] = append(seen[p.Name], s.Name)
		}
	}
	for _, name := range order {
		if f.Lookup(name) != nil {
			panic(fmt.Sprintf("vmsim: scheme setting --%s clashes with a flag of run", name))
		}
		f.String(name, defs[name], fmt.Sprintf("%s (scheme %s)", docs[name], strings.Join(seen[name], ", ")))
	}
}

// schemeParams returns the schemes' own settings the user set on the command line.
func schemeParams(f *pflag.FlagSet, reg *scheme.Registry) map[string]string {
	var out map[string]string
	for _, name := range sim.OwnParamNames(reg) {
		if fl := f.Lookup(name); fl != nil && fl.Changed {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = fl.Value.String()
		}
	}
	return out
}

// byteSize is a flag taking a size in bytes with an optional K, M or G suffix.
type byteSize uint64

func (b *byteSize) String() string { return sim.FormatBytes(uint64(*b)) }
func (b *byteSize) Type() string   { return "bytes" }
func (b *byteSize) Set(s string) error {
	v, err := sim.ParseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(v)
	return nil
}
