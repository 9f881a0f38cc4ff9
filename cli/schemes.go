package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/coord"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

func newSchemesCmd(reg *scheme.Registry, stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "schemes",
		Short: "List the checkpoint schemes --scheme accepts, with their settings and counters",
		Long: `List every registered checkpoint scheme: its name (what --scheme takes), what it
does, the traffic it sees (cpu: every access; memory: what reaches memory, behind the cache
model when --cache-size > 0), the failures it recovers from, the settings of the machine
that only some schemes model and it does ("models": --frames, --replace, --steal and
--initial for the schemes that page, --vbits and --cow for virtual checkpoints, --granule
for block-granular schemes, --tlb-checkpoint for those that write-protect through the
translation; given to a scheme that does not model them, they are a usage error), its own
settings (flags of 'vmsim run'; their keys in a sweep, --set, --base and run --config
take underscores for hyphens: --copy-rate is copy_rate) and its own counters (under "scheme" in a run's
stats). Every scheme also reports the common counters listed by 'vmsim run
--help'. Last come the coordinated multi-core schemes, global and rebound, which run by
their own engine (docs/coordinated.md) and are not in the JSON listing.

With --json, the same as one JSON array, a scheme an object, in the order of their names:
{"name", "doc", "level" (cpu or memory), "recovers" (the --failure kinds it recovers
from: transient, crash; empty for none), "models" (each {"flag", "without_cache"}: the
machine's settings it models, without_cache when only without a cache model), "params"
(each {"name", "default", "choices" (empty when any value), "doc", "sweep_key"}: every
setting it declares, the machine's it models included) and "counters" (each {"key",
"column", "kind" (total, peak or end), "doc"}: its own counters, under "scheme" in a run's
JSON stats and as the CSV column "column" of a sweep)}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return writeSchemesJSON(stdout, reg)
			}
			return writeSchemes(stdout, reg)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the schemes as one JSON array instead of text")
	return cmd
}

// schemeJSON is a scheme as vmsim schemes --json writes it.
type schemeJSON struct {
	Name     string        `json:"name"`
	Doc      string        `json:"doc"`
	Level    string        `json:"level"`
	Recovers []string      `json:"recovers"` // Invariant: values of --failure, never nil
	Models   []modelJSON   `json:"models"`   // Invariant: never nil
	Params   []paramJSON   `json:"params"`   // Invariant: never nil
	Counters []counterJSON `json:"counters"` // Invariant: never nil
}

// modelJSON is a setting of the machine that a scheme models (sim.SchemeSettings).
type modelJSON struct {
	Flag         string `json:"flag"`          // without the dashes
	WithoutCache bool   `json:"without_cache"` // it applies only without a cache model
}

// paramJSON is a scheme's setting (scheme.Param).
type paramJSON struct {
	Name     string   `json:"name"`
	Default  string   `json:"default"`
	Choices  []string `json:"choices"` // Invariant: never nil
	Doc      string   `json:"doc"`
	SweepKey string   `json:"sweep_key"` // its key in a sweep spec or --set
}

// counterJSON is a scheme's own counter (scheme.CounterDef).
type counterJSON struct {
	Key    string `json:"key"`
	Column string `json:"column"` // its CSV column in a sweep's output
	Kind   string `json:"kind"`
	Doc    string `json:"doc"`
}

// schemesJSON returns the schemes of reg as vmsim schemes --json describes them.
func schemesJSON(reg *scheme.Registry) []schemeJSON {
	out := []schemeJSON{}
	for _, s := range reg.All() {
		j := schemeJSON{Name: s.Name, Doc: s.Doc, Level: s.Level.String(),
			Recovers: []string{}, Models: []modelJSON{}, Params: []paramJSON{}, Counters: []counterJSON{}}
		if s.RecoversTransient {
			j.Recovers = append(j.Recovers, string(sim.FailureTransient))
		}
		if s.RecoversCrash {
			j.Recovers = append(j.Recovers, string(sim.FailureCrash))
		}
		for _, m := range sim.SchemeSettings(s) {
			flag, cut := strings.CutSuffix(strings.TrimPrefix(m, "--"), " (without a cache)")
			j.Models = append(j.Models, modelJSON{Flag: flag, WithoutCache: cut})
		}
		for _, p := range s.Params {
			key := strings.ReplaceAll(p.Name, "-", "_") // the one spelling of keys
			j.Params = append(j.Params, paramJSON{Name: p.Name, Default: p.Default,
				Choices: append([]string{}, p.Choices...), Doc: p.Doc, SweepKey: key})
		}
		for _, c := range s.OwnDefs() {
			kind := c.Kind.String()
			if c.Kind == scheme.Total {
				kind = "total" // CounterKind's String is "" for a total
			}
			j.Counters = append(j.Counters, counterJSON{Key: c.Key, Column: "scheme_" + c.Key, Kind: kind, Doc: c.Doc})
		}
		out = append(out, j)
	}
	return out
}

// writeSchemesJSON writes the schemes of reg on w as one indented JSON array.
func writeSchemesJSON(w io.Writer, reg *scheme.Registry) error {
	b, err := json.MarshalIndent(schemesJSON(reg), "", "  ")
	if err != nil {
		return fmt.Errorf("vmsim schemes --json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
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
			default:
				fmt.Fprintf(&b, "  --%s (default %s; sweep key %s): %s\n", p.Name, p.Default, strings.ReplaceAll(p.Name, "-", "_"), p.Doc)
			}
		}
		for _, c := range s.OwnDefs() {
			fmt.Fprintf(&b, "  counter %s: %s\n", c.Key, c.Doc)
		}
	}
	writeCoordSchemes(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCoordSchemes lists the coordinated multi-core schemes (package coord), which run
// by their own engine rather than from the registry.
func writeCoordSchemes(b *strings.Builder) {
	docs := map[coord.Scheme]string{
		coord.Global:  "coordinated: every core checkpoints together at a barrier (dirty lines written back, an undo log at the memory controller); a failure rolls every core back (ReVive, SafetyNet)",
		coord.Rebound: "coordinated: a core checkpoints with the cores it read from since its checkpoint; a failed core rolls back with the cores that read from it, transitively (Rebound)",
	}
	for _, s := range coord.Schemes {
		fmt.Fprintf(b, "\n%s\n  %s\n  level: memory, behind --cores private caches; recovers: transient failures of one core (--fail-core)\n", s, docs[s])
		fmt.Fprintf(b, "  takes: --cores, --schedule, --quantum, --cache-*, --interval, --fail-at, --mtbf, --fail-core, --seed, --verify, --verify-block")
		if s == coord.Rebound {
			b.WriteString(", --max-age")
		}
		b.WriteString(" (docs/coordinated.md)\n")
	}
	b.WriteString("  counters (both):")
	for _, c := range coord.CounterDefs() {
		b.WriteString(" " + c.Key)
	}
	b.WriteString("\n")
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
