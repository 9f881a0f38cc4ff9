package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// stdin is what "-" reads; tests replace it.
var stdin io.Reader = os.Stdin

// stdinName is the name standard input goes by in messages and output.
const stdinName = "(standard input)"

// openInput opens the trace path names, "-" being standard input (which can be read
// once).
func openInput(path string, opt traces.Options) (*traces.File, error) {
	if path == "-" {
		return traces.NewFile(stdin, stdinName, opt)
	}
	return traces.Open(path, opt)
}

// errStdinTwice is returned when a run must read a trace on standard input again.
var errStdinTwice = errors.New("this run reads its trace more than once (--replace opt, or a replay reaching back past the replay buffer), which standard input cannot do: save the trace to a file and name it")

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print vmsim's version (the one written into its results)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(stdout, "vmsim %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

// registerCompletions makes shell completion offer the values of every enumerated flag
// (vmsim completion bash|zsh|fish|powershell prints the script): the sim.Choices of run
// and sweep, the values of the schemes' settings (scheme.Param.Choices) and the schemes of
// reg, the trace formats, and sweep's --set/--base/--cost
// keys and values.
func registerCompletions(root *cobra.Command, reg *scheme.Registry) {
	fixed := map[string][]string{"scheme": reg.Names()}
	for k, v := range paramValues(reg) {
		fixed[k] = v
	}
	for k, v := range sim.Choices {
		fixed[k] = v
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		local := map[string][]string{}
		switch c.CommandPath() {
		case "vmsim trace convert":
			local["to"] = formatNames(traces.WriterFormats)
			local["compress"] = compressionNames(convertCompressions)
		case "vmsim run":
			local["scheme"] = append(reg.Names(), coordNames()...)
		case "vmsim record":
			local["compress"] = compressionNames(recordCompressions)
		case "vmsim sweep":
			local["set"] = nil
			local["base"] = nil
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			vals, ok := local[f.Name]
			if !ok {
				vals, ok = fixed[f.Name]
			}
			if !ok {
				return
			}
			switch f.Name {
			case "set", "base":
				c.RegisterFlagCompletionFunc(f.Name, completeKV(configKeys(), fixed))
			default:
				vals := slices.Clone(vals)
				c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
			}
		})
		if c.CommandPath() == "vmsim sweep" || c.CommandPath() == "vmsim reproduce" {
			c.RegisterFlagCompletionFunc("cost", completeKV(strings.Split(costKeys(), ", "), nil))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeKV completes KEY=VALUE flags: the keys (with "=" and no space after) until an
// "=" is typed, then the key's values when it has a fixed set.
func completeKV(keys []string, values map[string][]string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if k, _, ok := strings.Cut(toComplete, "="); ok {
			var out []string
			for _, v := range values[k] {
				out = append(out, k+"="+v)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k + "="
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// configKeys lists the keys of vmsim run --json's "config", in the order of its fields.
func configKeys() []string {
	t := reflect.TypeOf(sim.Config{})
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

func formatNames(fs []traces.Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// runOutput is vmsim run --json's object: the run's result (config, stats) and what
// identifies its input.
type runOutput struct {
	*sim.Result
	// TraceFormat is the format the trace was read in (detected, with --format auto).
	TraceFormat string `json:"trace_format"`
	// TraceSHA256 is the sha256 of the trace's bytes as stored (compressed or not).
	TraceSHA256  string `json:"trace_sha256"`
	VMSimVersion string `json:"vmsim_version"`
	// Cost is the modeled time, the baseline's and the overhead, with the cost set.
	Cost *runCost `json:"cost"`
	// Host and WallSeconds, with run -o only: the machine and the run's wall time.
	Host        *hostInfo `json:"host,omitempty"`
	WallSeconds *float64  `json:"wall_seconds,omitempty"`
}

func (o runOutput) MarshalJSON() ([]byte, error) {
	// Result's fields first, then ours, in one object.
	res, err := json.Marshal(o.Result)
	if err != nil {
		return nil, err
	}
	extra, err := json.Marshal(struct {
		TraceFormat  string    `json:"trace_format"`
		TraceSHA256  string    `json:"trace_sha256"`
		VMSimVersion string    `json:"vmsim_version"`
		Cost         *runCost  `json:"cost"`
		Host         *hostInfo `json:"host,omitempty"`
		WallSeconds  *float64  `json:"wall_seconds,omitempty"`
	}{o.TraceFormat, o.TraceSHA256, o.VMSimVersion, o.Cost, o.Host, o.WallSeconds})
	if err != nil {
		return nil, err
	}
	if len(res) < 2 || res[len(res)-1] != '}' {
		return nil, fmt.Errorf("run result is not a JSON object")
	}
	if string(res) == "{}" {
		return extra, nil
	}
	return append(append(res[:len(res)-1], ','), extra[1:]...), nil
}

// traceHash computes the sha256 of a trace file's bytes, alongside the run.
type traceHash struct {
	done chan struct{}
	sum  string
	err  error
}

// hashingReader hashes what passes through it (standard input, read once).
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (t *hashingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.h.Write(p[:n])
	return n, err
}

func (h *traceHash) wait() (string, error) {
	<-h.done
	return h.sum, h.err
}

// progressReader counts the accesses read through it.
type progressReader struct {
	r traces.Reader
	n *atomic.Int64
}

func (p progressReader) Read(recs []traces.Record) (int, error) {
	n, err := p.r.Read(recs)
	k := 0
	for _, r := range recs[:n] {
		if r.Kind.IsAccess() {
			k++
		}
	}
	p.n.Add(int64(k))
	return n, err
}

// runProgress shows, on a terminal, how far a run has read its trace: every half second
// one line, rewritten, with the accesses read, the rate and, when the trace's length is
// known (a vmt file's index gives it), the fraction done and the time left at the rate
// so far. A trace read again (--replace opt's pre-pass, a replay that reopens it) starts
// the count again, and the line says which pass it is.
type runProgress struct {
	w         io.Writer
	start     time.Time
	n         atomic.Int64
	total     atomic.Int64 // accesses in the trace, 0 when unknown
	pass      atomic.Int64
	passAt    atomic.Int64 // time of the current pass's start, in ns since start
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newRunProgress(w io.Writer) *runProgress {
	p := &runProgress{w: w, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// wrap counts the accesses of a newly opened trace.
func (p *runProgress) wrap(f *traces.File) traces.Reader {
	p.n.Store(0)
	p.pass.Add(1)
	p.passAt.Store(int64(time.Since(p.start)))
	if v, ok := f.Reader.(*traces.VMTReader); ok {
		if _, acc, ok := v.Records(); ok {
			p.total.Store(int64(acc))
		}
	}
	return progressReader{r: f, n: &p.n}
}

func (p *runProgress) loop() {
	defer close(p.done)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	shown := false
	for {
		select {
		case <-p.stop:
			if shown {
				fmt.Fprintln(p.w)
			}
			return
		case <-t.C:
			fmt.Fprintf(p.w, "\r%s   ", p.line())
			shown = true
		}
	}
}

func (p *runProgress) line() string {
	el := time.Since(p.start)
	passEl := el - time.Duration(p.passAt.Load())
	n, total := p.n.Load(), p.total.Load()
	rate := float64(n) / max(passEl.Seconds(), 1e-9)
	s := fmt.Sprintf("run: %s accesses read", human(n))
	if p.pass.Load() > 1 {
		s = fmt.Sprintf("run (pass %d over the trace): %s accesses read", p.pass.Load(), human(n))
	}
	if total > 0 {
		s += fmt.Sprintf(" of %s (%.0f%%)", human(total), 100*float64(n)/float64(total))
	}
	s += fmt.Sprintf(", %s/s, %s elapsed", human(int64(rate)), el.Round(time.Second))
	if total > 0 && n > 0 && n <= total {
		left := time.Duration(float64(total-n) / rate * float64(time.Second))
		s += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return s
}

// close ends the progress line; it may be called more than once.
func (p *runProgress) close() {
	p.closeOnce.Do(func() { close(p.stop) })
	<-p.done
}

// human writes n with a k/M/G suffix.
func human(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
