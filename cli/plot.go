package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/reproduce"
)

func newPlotCmd(stdout, stderr io.Writer) *cobra.Command {
	var o plotOptions
	cmd := &cobra.Command{
		Use:   "plot FILE.csv|FILE.jsonl --x KEY --y KEY [--series KEY] [--facet KEY] [--log x,y] -o OUT.svg|png|pdf",
		Short: "Plot results of your own sweeps (or runs) as a figure in the style of the study's",
		Long: `Plot the results in FILE, one point a row: --y against --x, a line for each value of
--series, a panel for each value of --facet (the panels' axes the same), in the style of
the figures of 'vmsim reproduce' (the legend to the right of the plot, log axes labelled
at powers of ten). The figure's format is OUT's extension: .svg, .png (150 dpi) or .pdf;
the same input gives the same bytes.

FILE is a CSV file with a header line (the --csv output of 'vmsim sweep', or any CSV with
one) or a JSON-lines file, .jsonl or .ndjson (the --jsonl output of 'vmsim sweep', or
outputs of 'vmsim run --json' one a line). A key is a CSV column, or for JSON lines the
key of a sweep's CSV column with the same value: the keys of "config" and "stats" as they
are, a scheme's own counter as scheme_KEY, the cost set as cost_set and model_KEY, the
modeled times as cost_KEY and baseline_KEY (run's "cost": "time" and "baseline"), and
overhead; any other nested key is its path joined with "_" (a list's values are joined
with ";").

--x and --y must be numbers in every row that has them; a row that lacks one (an empty
CSV field, a null, a counter of another scheme) is left out, and so is a point at or below
0 on a log axis (--log x, --log y or --log x,y), each with a note on standard error. The
points of a line are joined in the order of x; a note tells when a line has several points
at one x, and which settings differ between them (give one of them to --series or
--facet). Lines and panels are in the order of their values (numerically when every value
is a number), named KEY=VALUE. Markers of different lines that fall in one place (the same x, y
within a 200th of the axis) are drawn side by side along x, so that none hides another;
the values are unchanged.

An unknown key is an error listing the keys of FILE (for --x and --y, those with numbers).
Exit status: 0 on success, 2 for a usage error or bad input (the message names the file
and line); no figure is left behind then.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.in = args[0]
			if err := checkOutputs(args, output{"-o", o.out}); err != nil {
				return err
			}
			return runPlot(&o, stderr)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&o.x, "x", "", "key of the x axis (required)")
	f.StringVar(&o.y, "y", "", "key of the y axis (required)")
	f.StringVar(&o.series, "series", "", "key whose values make the lines (default: one line)")
	f.StringVar(&o.facet, "facet", "", "key whose values make the panels (default: one panel)")
	f.StringSliceVar(&o.log, "log", nil, "axes on a log scale: x, y or x,y")
	f.StringVarP(&o.out, "output", "o", "", "the figure's file: .svg, .png or .pdf (required)")
	f.StringVar(&o.title, "title", "", `the figure's title (default "Y against X")`)
	return cmd
}

// plotOptions are vmsim plot's arguments.
type plotOptions struct {
	in, out, title      string
	x, y, series, facet string
	log                 []string
	logX, logY          bool
	format              string   // svg, png or pdf
	inFormat            string   // csv or jsonl
	warnings            []string // notes for standard error
}

// check checks the options that do not need the input.
func (o *plotOptions) check() error {
	switch {
	case o.x == "":
		return errors.New("--x KEY is required")
	case o.y == "":
		return errors.New("--y KEY is required")
	case o.out == "":
		return errors.New("-o OUT.svg|png|pdf is required")
	}
	switch ext := strings.ToLower(filepath.Ext(o.out)); ext {
	case ".svg", ".png", ".pdf":
		o.format = ext[1:]
	default:
		return fmt.Errorf("-o %s: the figure's format is its extension, one of .svg, .png, .pdf", o.out)
	}
	switch ext := strings.ToLower(filepath.Ext(o.in)); ext {
	case ".csv":
		o.inFormat = "csv"
	case ".jsonl", ".ndjson":
		o.inFormat = "jsonl"
	default:
		return fmt.Errorf("%s: want a .csv file or a .jsonl (JSON lines) file", o.in)
	}
	for _, a := range o.log {
		switch a {
		case "x":
			o.logX = true
		case "y":
			o.logY = true
		default:
			return fmt.Errorf("--log %q: want x, y or x,y", a)
		}
	}
	return nil
}

func runPlot(o *plotOptions, stderr io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	data, err := os.ReadFile(o.in)
	if err != nil {
		return err
	}
	t, err := readTable(o.in, o.inFormat, data)
	if err != nil {
		return err
	}
	svg, png, pdf, err := plotTable(t, o)
	for _, w := range o.warnings {
		fmt.Fprintf(stderr, "vmsim: note: %s\n", w)
	}
	if err != nil {
		return err
	}
	out := map[string][]byte{"svg": svg, "png": png, "pdf": pdf}[o.format]
	if err := atomicfile.WriteFile(o.out, out); err != nil {
		return fmt.Errorf("writing the figure: %w", err)
	}
	return nil
}

// plotPoint is a point of a line, with its row.
type plotPoint struct {
	x, y float64
	row  *dataRow
}

// plotTable draws t as o says: the figure in the three formats.
func plotTable(t *dataTable, o *plotOptions) (svg, png, pdf []byte, err error) {
	figs, err := figures(t, o)
	if err != nil {
		return nil, nil, nil, err
	}
	if o.facet == "" {
		return figs[0].Render()
	}
	g := &reproduce.Facets{Title: o.title, Panels: figs}
	if g.Title == "" {
		g.Title = o.y + " against " + o.x
	}
	return g.Render()
}

// figures returns the panels of t's figure as o says, at least one, each with points
// to draw.
func figures(t *dataTable, o *plotOptions) ([]*reproduce.Figure, error) {
	numeric := t.numericKeys()
	for _, c := range []struct{ flag, key string }{{"--x", o.x}, {"--y", o.y}} {
		if err := t.checkKey(c.flag, c.key, numeric, "keys with numbers"); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct{ flag, key string }{{"--series", o.series}, {"--facet", o.facet}} {
		if c.key != "" {
			if err := t.checkKey(c.flag, c.key, t.keys, "keys"); err != nil {
				return nil, err
			}
		}
	}
	series, facets := []string{""}, []string{""}
	if o.series != "" {
		series = t.groups(o.series)
	}
	if o.facet != "" {
		facets = t.groups(o.facet)
	}
	// points[facet][series]
	points := make([][][]plotPoint, len(facets))
	for i := range points {
		points[i] = make([][]plotPoint, len(series))
	}
	var noX, noY, logX, logY int
	for i := range t.rows {
		r := &t.rows[i]
		x, okx, err := t.number(*r, "--x", o.x)
		if err != nil {
			return nil, err
		}
		y, oky, err := t.number(*r, "--y", o.y)
		if err != nil {
			return nil, err
		}
		switch {
		case !okx:
			noX++
			continue
		case !oky:
			noY++
			continue
		case o.logX && x <= 0:
			logX++
			continue
		case o.logY && y <= 0:
			logY++
			continue
		}
		fi, si := 0, 0
		if o.facet != "" {
			fi = slices.Index(facets, r.vals[o.facet])
		}
		if o.series != "" {
			si = slices.Index(series, r.vals[o.series])
		}
		points[fi][si] = append(points[fi][si], plotPoint{x, y, r})
	}
	note := func(n int, format string, a ...any) {
		if n > 0 {
			o.warnings = append(o.warnings, fmt.Sprintf("%d %s ", n, plural(n, "row", "rows"))+fmt.Sprintf(format, a...))
		}
	}
	note(noX, "without a value of %s (--x) left out", o.x)
	note(noY, "without a value of %s (--y) left out", o.y)
	note(logX, "with %s <= 0 left out of the log x axis", o.x)
	note(logY, "with %s <= 0 left out of the log y axis", o.y)
	// The settings that tell why two rows differ.
	cfg := append(configKeys(), "trace_sha256", "vmsim_version", "cost_set")
	var figs []*reproduce.Figure
	var dupLines, dupKeys []string // lines with several points at an x; the settings that differ
	for fi, fv := range facets {
		n := 0
		for _, ps := range points[fi] {
			n += len(ps)
		}
		if n == 0 {
			if o.facet != "" {
				o.warnings = append(o.warnings, fmt.Sprintf("no panel for %s: no points", groupName(o.facet, fv)))
			}
			continue
		}
		f := &reproduce.Figure{Name: strings.TrimSuffix(filepath.Base(o.out), filepath.Ext(o.out)),
			Title: o.title, XLabel: o.x, YLabel: o.y, LinX: !o.logX, LogY: o.logY}
		if f.Title == "" {
			f.Title = o.y + " against " + o.x
		}
		if o.facet != "" {
			f.Title = groupName(o.facet, fv)
		}
		for si, sv := range series {
			ps := points[fi][si]
			sort.SliceStable(ps, func(a, b int) bool {
				return ps[a].x < ps[b].x || ps[a].x == ps[b].x && ps[a].y < ps[b].y
			})
			name := o.y
			if o.series != "" {
				name = groupName(o.series, sv)
			}
			s := reproduce.Series{Name: name}
			dup := false
			for i := 0; i < len(ps); {
				j := i + 1
				for j < len(ps) && ps[j].x == ps[i].x {
					j++
				}
				if j-i > 1 { // one look at each group of points at one x
					dup = true
					for _, key := range differing(ps[i:j], cfg, o) {
						if !slices.Contains(dupKeys, key) {
							dupKeys = append(dupKeys, key)
						}
					}
				}
				for _, p := range ps[i:j] {
					s.X, s.Y = append(s.X, p.x), append(s.Y, p.y)
				}
				i = j
			}
			if dup {
				where := name
				if o.facet != "" {
					where = groupName(o.facet, fv) + ": " + name
				}
				dupLines = append(dupLines, where)
			}
			f.Series = append(f.Series, s)
		}
		figs = append(figs, f)
	}
	if len(dupLines) > 0 {
		why := ""
		if len(dupKeys) > 0 {
			why = fmt.Sprintf(" (their rows differ in %s: give one to --series or --facet)", strings.Join(dupKeys, ", "))
		}
		on := strings.Join(dupLines, ", ")
		switch {
		case len(dupLines) == len(facets)*len(series):
			on = "every line"
		case len(dupLines) > 4:
			on = fmt.Sprintf("%s and %d more", strings.Join(dupLines[:3], ", "), len(dupLines)-3)
		}
		o.warnings = append(o.warnings, fmt.Sprintf("several points at one %s on %s%s", o.x, on, why))
	}
	if len(figs) == 0 {
		return nil, fmt.Errorf("%s: no points to plot", t.path)
	}
	return figs, nil
}

// differing returns the settings that differ between the rows of ps (the keys of cfg
// other than those of o's axes, series and facet; trace_sha256 not when trace does).
func differing(ps []plotPoint, cfg []string, o *plotOptions) []string {
	at := make([]*dataRow, len(ps))
	for i, p := range ps {
		at[i] = p.row
	}
	var keys []string
	for _, k := range cfg {
		if k == o.x || k == o.y || k == o.series || k == o.facet || k == "trace_sha256" && slices.Contains(keys, "trace") {
			continue
		}
		for _, r := range at[1:] {
			if r.vals[k] != at[0].vals[k] {
				keys = append(keys, k)
				break
			}
		}
	}
	return keys
}
