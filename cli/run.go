package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/internal/textable"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
)

func newRunCmd(reg *scheme.Registry, stdout, stderr io.Writer) *cobra.Command {
	cfg := sim.DefaultConfig()
	var asJSON, check, noBaseline, all bool
	var costs []string
	var configPath, outPath, statsPath string
	var statsEvery int64
	var cf coordFlags
	cmd := &cobra.Command{
		Use:   "run [flags] [TRACE]",
		Short: "Replay a memory trace through the emulated MMU and print exact counts",
		Long:  runLong(),
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			if configPath != "" {
				if err := applyRunConfig(cmd.Flags(), configPath, reg, stderr); err != nil {
					return err
				}
			}
			cfg.Params = schemeParams(cmd.Flags(), reg)
			set, err := costSet(costs)
			if err != nil {
				return err
			}
			switch {
			case statsEvery > 0 && statsPath == "":
				return fmt.Errorf("--stats-every %d: give --stats-out FILE (or - for standard output) for its lines", statsEvery)
			case statsEvery == 0 && statsPath != "":
				return fmt.Errorf("--stats-out %s: give --stats-every N, the accesses of an interval", statsPath)
			}
			if err := checkOutputs(args, output{"-o", outPath}, output{"--stats-out", statsPath}); err != nil {
				return err
			}
			// The trace's hash goes in --json's object and in -o's file.
			hashed := asJSON || outPath != ""
			format, err := traces.ParseFormat(cfg.Format)
			if err != nil {
				return fmt.Errorf("--format %q: want one of %v", cfg.Format, sim.Choices["format"])
			}
			var progress *runProgress
			var detected traces.Format
			var hash *traceHash
			finishHash := func() {}
			openFile := func() (*traces.File, error) { return traces.OpenSample() }
			cfg.Trace = traces.SampleName
			if len(args) == 1 {
				cfg.Trace = args[0]
				opt := traces.Options{Format: format, Lenient: cfg.Lenient}
				switch {
				case args[0] == "-":
					cfg.Trace = "-"
					var in io.Reader = stdin
					if hashed {
						hr := &hashingReader{r: stdin, h: sha256.New()}
						in = hr
						hash = &traceHash{done: make(chan struct{})}
						// The run reads standard input to its end before the output.
						finishHash = func() { hash.sum = hex.EncodeToString(hr.h.Sum(nil)); close(hash.done) }
					}
					read := false
					openFile = func() (*traces.File, error) {
						if read {
							return nil, errStdinTwice
						}
						read = true
						return traces.NewFile(in, stdinName, opt)
					}
				default:
					// A pipe or device is spooled: every reopening (opt's pre-pass, long
					// replays) sees the same records from the start.
					src, err := traces.NewSource(args[0], opt)
					if err != nil {
						return err
					}
					defer src.Close()
					if hashed {
						hash = &traceHash{done: make(chan struct{})}
						// After the run, which read the input to its end (spooling it).
						finishHash = func() { hash.sum, hash.err = src.Hash(); close(hash.done) }
					}
					openFile = src.Open
				}
			} else if hashed {
				hash = &traceHash{done: make(chan struct{}), sum: traces.SampleSHA256()}
				close(hash.done)
			}
			_, registered := reg.Lookup(cfg.Scheme)
			if !registered && !isCoord(cfg.Scheme) {
				return fmt.Errorf("%w: --scheme %q: want one of %v, or a coordinated multi-core scheme (%v)", sim.ErrUsage, cfg.Scheme, reg.Names(), coordNames())
			}
			if !registered {
				cc, err := coordConfig(cfg, cf, cmd.Flags())
				if err != nil {
					return err
				}
				reopen := !noBaseline && cfg.Trace != "-"
				return runCoord(cc, cfg.Trace, openFile, reopen, hash, finishHash, asJSON, stdout)
			}
			// The warnings about the failure regime come first: such a run can take long.
			if cfg.ValidateIn(reg) == nil {
				for _, w := range cfg.Warnings() {
					fmt.Fprintf(stderr, "vmsim: warning: %s\n", w)
				}
			}
			if isTerminal(stderr) {
				progress = newRunProgress(stderr)
				defer progress.close()
			}
			open := func() (traces.Reader, error) {
				f, err := openFile()
				if err != nil {
					return nil, err
				}
				detected = f.Format
				if progress != nil {
					return &progressFile{Reader: progress.wrap(f), f: f, p: progress}, nil
				}
				return f, nil
			}
			opt := sim.Options{Registry: reg, CheckEvery: check}
			var so *statsOut
			if statsEvery > 0 {
				if so, err = openStatsOut(statsPath, stdout); err != nil {
					return err
				}
				defer so.abort()
				so.cfg, so.set = cfg, set
				opt.StatsEvery, opt.OnStats = statsEvery, so.write
			}
			res, err := sim.RunWith(cfg, open, opt)
			if progress != nil {
				progress.close()
			}
			if err != nil {
				return err
			}
			warnRun(stderr, res)
			rc := &runCost{Set: set}
			if noBaseline || cfg.Trace == "-" {
				if !noBaseline {
					fmt.Fprintf(stderr, "vmsim: note: standard input is read once: no baseline run, so no overhead (give the trace as a file, or --no-baseline)\n")
				}
				t := set.Model.Time(res.Stats, res.Config)
				rc.Time = &t
			} else {
				base, err := runBaseline(res, reg, func() (traces.Reader, error) {
					f, err := openFile()
					if err != nil {
						return nil, err
					}
					return f, nil
				})
				if err != nil {
					return fmt.Errorf("the baseline (scheme none on the same trace and machine, without checkpoints or failures): %w", err)
				}
				cmp := cost.Compare(set.Model, res.Stats, base, res.Config)
				rc.Time, rc.Baseline, rc.Overhead = &cmp.Run, &cmp.Baseline, &cmp.Overhead
			}
			// The lines of --stats-every, after the baseline (which may fail) and before
			// the output.
			if so != nil {
				if err := so.commit(); err != nil {
					return err
				}
			}
			info, _ := reg.Lookup(cfg.Scheme)
			if outPath != "" {
				finishHash()
				if err := writeRunFile(outPath, res, detected, hash, rc, info, asJSON, all, time.Since(start).Seconds()); err != nil {
					return err
				}
			} else if asJSON {
				finishHash()
				out, err := marshalRun(res, detected, hash, rc, nil, nil)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s\n", out)
			} else if err := printTable(stdout, res, rc, info, all); err != nil {
				return err
			}
			if res.Stats.VerifyMismatches > 0 {
				return fmt.Errorf("%w: %d of %d checks; first: %s", errMismatch,
					res.Stats.VerifyMismatches, res.Stats.VerifyChecks, res.FirstMismatch)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVarP(&outPath, "output", "o", "", "write the output (the table, or the JSON object with --json) to this file instead of standard output, atomically, with what identifies the run: the vmsim version, the configuration, the trace's sha256, the cost set, the host (hostname, OS/architecture, CPU model, cores) and the wall time")
	f.BoolVar(&all, "all", false, "show every counter in the table, not only those that apply to the scheme and the configuration (see below)")
	countVar(f, &statsEvery, "stats-every", "", 0, "write one JSON line per interval of N accesses to --stats-out: every counter's change over the interval (totals: the difference; peaks and end values: the value at its end), the checkpoints and failures in it, and the modeled time so far (time_ns); the lines' totals add up to the run's")
	f.StringVar(&statsPath, "stats-out", "", "the file for --stats-every's lines, written when the run succeeds ('-': standard output, before the run's output); nothing is written when the run fails; required with --stats-every")
	f.BoolVar(&asJSON, "json", false, `print one JSON object {"config": ..., "stats": ..., "trace_format": ..., "trace_sha256": ..., "vmsim_version": ..., "cost": ...} instead of a table`)
	f.StringArrayVar(&costs, "cost", nil, costFlagHelp)
	f.StringVar(&configPath, "config", "", runConfigHelp)
	f.BoolVar(&noBaseline, "no-baseline", false, "do not run the baseline (scheme none on the same trace and machine) for the overhead: report the modeled time only (one pass over the trace instead of two)")
	f.StringVar(&cfg.Scheme, "scheme", cfg.Scheme, "checkpoint scheme, one of "+strings.Join(reg.Names(), ", ")+", or a coordinated multi-core scheme, global or rebound (see 'vmsim schemes')")
	f.StringVar((*string)(&cfg.Memory), "memory", string(cfg.Memory), choices("memory", "nonvolatile: a checkpoint is V=V+1; volatile: a checkpoint also writes dirty modified pages, page-table pages and a commit record to disk (dualmap); for the other schemes volatile memory matters only to --failure crash, and is refused without it"))
	f.StringVar(&cfg.Cow, "cow", cfg.Cow, paramChoices(reg, "cow", "dualmap's first write: copy the page, or remap a clean resident frame and keep the checkpoint version on disk"))
	countVar(f, &cfg.Frames, "frames", "", cfg.Frames, "real frames, for the schemes that page; 0 for unlimited")
	f.StringVar(&cfg.Replace, "replace", cfg.Replace, paramChoices(reg, "replace", "replacement policy with finite frames (opt reads the trace twice)"))
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for --replace random and --mtbf")
	f.StringVar(&cfg.Steal, "steal", cfg.Steal, paramChoices(reg, "steal", "when stealing a frame, prefer frames holding obsolete versions, or follow the policy strictly"))
	f.StringVar(&cfg.Initial, "initial", cfg.Initial, paramChoices(reg, "initial", "a page's first touch reads its initial image from disk (one disk read) or zero-fills it (no I/O)"))
	f.IntVar(&cfg.VBits, "vbits", cfg.VBits, "bits k of dualmap's checkpoint numbers V and v (1..31); V cycles through 1..2^k-1")
	f.StringVar((*string)(&cfg.Scope), "scope", string(cfg.Scope), choices("scope", "checkpoint domain: the whole system, or each address space"))
	f.Uint64Var(&cfg.PTEBytes, "pte-bytes", cfg.PTEBytes, "bytes per PTE; a page-table page holds page-size/pte-bytes PTEs (dualmap with --memory volatile, whose checkpoints write page-table pages)")
	f.Uint64Var(&cfg.PageSize, "page-size", cfg.PageSize, "page size in bytes, a power of two")
	f.StringVar(&cfg.Format, "format", cfg.Format, choices("format", "trace format; auto sniffs it from the content"))
	f.BoolVar(&cfg.IgnoreSize, "ignore-size", cfg.IgnoreSize, "an access touches only the page of its address, not every page it overlaps")
	f.BoolVar(&cfg.Lenient, "lenient", cfg.Lenient, "lackey: skip and count malformed lines (skipped_lines) instead of failing")
	countVar(f, &cfg.Interval, "interval", "", cfg.Interval, "take a checkpoint after every N-th access of a domain; 0 for never")
	countVar(f, &cfg.Warmup, "warmup", "", cfg.Warmup, "exclude the first N accesses (numbered from 1) from every counter: each counts only what happens after access N (pages_touched: pages first touched after it); the peaks still cover the whole run. The N accesses are simulated (--skip reads past accesses without simulating them)")
	countVar(f, &cfg.Skip, "skip", "", cfg.Skip, "read past the first N accesses of the trace without simulating them (no counter sees them; a vmt file jumps past them with its index): access numbers, of --fail-at, --warmup, --interval and the others, count from the first access after them; --warmup, by contrast, simulates its accesses and only leaves them out of the counters")
	countVar(f, &cfg.MaxRefs, "max-refs", "", cfg.MaxRefs, "stop after N accesses (after --skip's): the run ends there as if the trace ended, the control records after access N unread; 0 for the whole trace")
	countsVar(f, &cfg.FailAt, "fail-at", cfg.FailAt, "inject a failure just after these accesses (comma-separated access numbers; the first access is 1)")
	f.Float64Var(&cfg.MTBF, "mtbf", cfg.MTBF, "inject failures with exponential inter-arrival times of this mean, in accesses, at least 1 (with --seed); 0 for none")
	f.StringVar((*string)(&cfg.Failure), "failure", string(cfg.Failure), choices("failure", "transient: roll back, memory intact; crash: volatile memory is lost (a rollback with non-volatile memory)"))
	f.StringVar((*string)(&cfg.IO), "io", string(cfg.IO), choices("io", "I/O records of the trace: none sends outputs at once and repeats outputs and inputs in replays; hold holds outputs until the domain's next checkpoint commits and logs inputs so that replays receive them again"))
	f.BoolVar(&cfg.Verify, "verify", cfg.Verify, "check every read and every recovery against an independent golden model; exit 1 on a mismatch")
	f.Uint64Var(&cfg.VerifyBlock, "verify-block", cfg.VerifyBlock, "block size in bytes that --verify tracks")
	f.BoolVar(&check, "check", false, "after every access, I/O record, checkpoint, failure, recovery and replayed record, check the scheme's and the driver's invariants from scratch; stop with an error (exit 2) naming the event and the access at the first one broken (slow: for debugging; the counts are the same)")
	f.Uint64Var(&cfg.Granule, "granule", cfg.Granule, "block size in bytes that block-granular schemes track: a power of two from 8 to the page size")
	f.Var((*byteSize)(&cfg.CacheSize), "cache-size", "write-back cache capacity in bytes, with an optional K, M or G suffix; 0 for no cache (every store reaches memory)")
	f.IntVar(&cfg.CacheWays, "cache-ways", cfg.CacheWays, "cache associativity (LRU within a set)")
	f.Uint64Var(&cfg.CacheLine, "cache-line", cfg.CacheLine, "cache line size in bytes, a power of two")
	f.StringVar((*string)(&cfg.CacheFlush), "cache-flush", string(cfg.CacheFlush), choices("cache-flush", "what a checkpoint does to the cache first: write back every dirty line and empty it, write them back and keep the lines, or nothing (CPU-level schemes only)"))
	f.IntVar(&cfg.Cores, "cores", cfg.Cores, fmt.Sprintf("cores, each with a private write-back cache of the --cache-* geometry, kept coherent by an MSI directory (1 to %d; above 1 needs --cache-size); 1 is the machine of one cache", coherence.MaxCores))
	f.StringVar((*string)(&cfg.Schedule), "schedule", string(cfg.Schedule), choices("schedule", "with --cores above 1, how threads go to cores: as the trace recorded their cpus (drmemtrace), or round-robin, every thread moving to the next core every --quantum accesses"))
	countVar(f, &cfg.Quantum, "quantum", "", cfg.Quantum, "with --cores above 1 and --schedule round-robin: the accesses (of the whole trace) after which every thread moves to the next core")
	f.IntVar(&cfg.TLBEntries, "tlb-entries", cfg.TLBEntries, "TLB entries; 0 for no TLB model")
	f.IntVar(&cfg.TLBWays, "tlb-ways", cfg.TLBWays, "TLB associativity (LRU within a set)")
	f.StringVar((*string)(&cfg.TLBCheckpoint), "tlb-checkpoint", string(cfg.TLBCheckpoint), choices("tlb-checkpoint", "for schemes that write-protect through the translation: drop the domain's TLB entries at each checkpoint, or tag entries with the checkpoint number so that a write through an older entry walks again"))
	cf.add(f)
	addSchemeParams(f, reg)
	f.IntVar(&cfg.MaxPages, "max-pages", cfg.MaxPages, "stop with an error (exit 2) when the trace touches more than this many distinct pages (0: no limit); the default, 2^25, keeps a run within a few GiB; with --verify, which costs about 56 bytes more a page per --verify-block in a page, the default shrinks to fit 12 GiB (about 3.3 M pages at 4 KiB pages and 64-byte blocks)")
	return cmd
}

// warnRun tells, on w, about settings that made the run measure less than it seems to,
// which only the run could tell (those known before it are sim.Config.Warnings).
func warnRun(w io.Writer, res *sim.Result) {
	c, s := res.Config, res.Stats
	if c.Interval > 0 && s.Checkpoints == 0 {
		fmt.Fprintf(w, "vmsim: warning: --interval %d is longer than the trace (%d accesses): no checkpoint was taken\n", c.Interval, s.Refs)
	}
}

// marshalRun is run --json's output; with -o, also the host and the wall time.
func marshalRun(res *sim.Result, format traces.Format, hash *traceHash, rc *runCost, host *hostInfo, wall *float64) ([]byte, error) {
	sum, err := hash.wait()
	if err != nil {
		return nil, err
	}
	return json.Marshal(runOutput{Result: res, TraceFormat: string(format), TraceSHA256: sum, VMSimVersion: version, Cost: rc, Host: host, WallSeconds: wall})
}

// writeRunFile writes run's output to path atomically (-o): the JSON object, with the
// host and the wall time, or the text table after runFileHeader's lines.
func writeRunFile(path string, res *sim.Result, format traces.Format, hash *traceHash, rc *runCost, info scheme.Info, asJSON, all bool, wall float64) error {
	host := describeHost()
	var data []byte
	if asJSON {
		out, err := marshalRun(res, format, hash, rc, host, &wall)
		if err != nil {
			return err
		}
		data = append(out, '\n')
	} else {
		sum, err := hash.wait()
		if err != nil {
			return err
		}
		var b strings.Builder
		if err := runFileHeader(&b, res, string(format), sum, rc.Set, host, wall); err != nil {
			return err
		}
		if err := printTable(&b, res, rc, info, all); err != nil {
			return err
		}
		data = []byte(b.String())
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	return nil
}

// runCost is run's modeled time: the "cost" object of --json, and the lines after the
// table.
type runCost struct {
	Set cost.Set `json:"set"` // the cost set used
	// Time is the run's modeled time: as the overhead rule charges it against the
	// baseline (cost.Compare), or, without a baseline, the model's (cost.Model.Time).
	Time *cost.Breakdown `json:"time"`
	// Baseline is the baseline's modeled time, and Overhead the overhead by the rule;
	// null without a baseline (--no-baseline, or a trace on standard input).
	Baseline *cost.Breakdown `json:"baseline"`
	Overhead *float64        `json:"overhead"`
}

// print writes the modeled times and the overhead as text.
func (rc *runCost) print(w io.Writer) {
	fmt.Fprintf(w, "modeled time %s (cost set %s)\n", fmtNs(rc.Time.Total), rc.Set.Name)
	if rc.Baseline != nil {
		fmt.Fprintf(w, "baseline (none) %s\noverhead %.4g%%\n", fmtNs(rc.Baseline.Total), 100**rc.Overhead)
	} else {
		fmt.Fprintf(w, "no baseline, no overhead\n")
	}
	if rc.Time.OutputWait > 0 {
		fmt.Fprintf(w, "output commit wait %s in all\n", fmtNs(rc.Time.OutputWait))
	}
}

// fmtNs writes nanoseconds with a unit that keeps 4 significant digits readable.
func fmtNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.4g s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.4g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.4g µs", ns/1e3)
	}
	return fmt.Sprintf("%.4g ns", ns)
}

// progressFile is a trace counted by a progress line that still closes, and seeks in,
// the file under it.
type progressFile struct {
	traces.Reader
	f *traces.File
	p *runProgress
}

func (r *progressFile) Close() error { return r.f.Close() }

// CPU is the file's (traces.File.CPU): the progress count reads through it, in step.
func (r *progressFile) CPU() int { return r.f.CPU() }

// SeekAccess jumps as traces.File.SeekAccess does, and moves the count along.
func (r *progressFile) SeekAccess(n uint64) error {
	if err := r.f.SeekAccess(n); err != nil {
		return err
	}
	r.p.n.Store(int64(n))
	return nil
}

// printTable writes run's text output: the configuration, the counters that apply
// (counterApplies; all: every counter) and the modeled times.
func printTable(w io.Writer, res *sim.Result, rc *runCost, info scheme.Info, all bool) error {
	c := res.Config
	frames := "unlimited"
	if c.Frames > 0 {
		frames = fmt.Sprintf("%d (%s, steal %s)", c.Frames, c.Replace, c.Steal)
	}
	fmt.Fprintf(w, "trace %s\nscheme %s, memory %s, cow %s, frames %s, page %d B, vbits %d, scope %s, interval %d\n",
		c.Trace, c.Scheme, c.Memory, c.Cow, frames, c.PageSize, c.VBits, c.Scope, c.Interval)
	if c.CacheSize > 0 {
		fmt.Fprintf(w, "cache %s, %d-way, %d B lines, flush %s\n", sim.FormatBytes(c.CacheSize), c.CacheWays, c.CacheLine, c.CacheFlush)
	}
	if c.Cores > 1 {
		sched := string(c.Schedule)
		if c.Schedule == schedule.RoundRobin {
			sched += fmt.Sprintf(", quantum %d", c.Quantum)
		}
		fmt.Fprintf(w, "cores %d, each with a private cache as above, schedule %s\n", c.Cores, sched)
	}
	if len(c.Params) > 0 {
		keys := make([]string, 0, len(c.Params))
		for k := range c.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = "--" + k + " " + c.Params[k]
		}
		fmt.Fprintf(w, "settings %s\n", strings.Join(keys, ", "))
	}
	t := textable.New(w, textable.Left, textable.Right)
	t.Header("counter", "value")
	for _, fv := range res.Stats.Fields() {
		if c.Cores <= 1 && strings.HasPrefix(fv.Key, "coh_") && !all {
			continue // one core has no coherence: the table is the one-cache machine's
		}
		if !all && !counterApplies(fv.Key, fv.Value, c, info) {
			continue
		}
		t.Append(fv.Key, strconv.FormatInt(fv.Value, 10))
	}
	if err := t.Render(); err != nil {
		return err
	}
	rc.print(w)
	return nil
}

// runBaseline returns the counters of the baseline of run res (sweep.RunBaseline), from
// the trace that open yields. A run that is its own baseline (scheme none, with the
// baseline's settings: no checkpoint interval, no failures, no --verify) is not run again:
// the baseline would read the same records (the run met no fail record, which scheme none
// refuses) through the same configuration and count the same.
func runBaseline(res *sim.Result, reg *scheme.Registry, open sim.Opener) (sim.Stats, error) {
	if sweep.OwnBaseline(res.Config) {
		return res.Stats, nil
	}
	base, err := sweep.RunBaseline(res.Config, reg, open)
	if err != nil {
		return sim.Stats{}, err
	}
	return base.Stats, nil
}
