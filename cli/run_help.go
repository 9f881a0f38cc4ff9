package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

func choices(name, help string) string {
	return fmt.Sprintf("%s (%s)", help, strings.Join(sim.Choices[name], "|"))
}

// paramChoices is choices for a setting the driver passes on to the schemes of reg that
// declare it (sim.MachineParams): its values are theirs (scheme.Param.Choices).
func paramChoices(reg *scheme.Registry, name, help string) string {
	return fmt.Sprintf("%s (%s)", help, strings.Join(paramValues(reg)[name], "|"))
}

// paramValues returns the values of the settings of reg's schemes that take one of a few
// (scheme.Param.Choices), by name, each value once, in the order the schemes give them.
func paramValues(reg *scheme.Registry) map[string][]string {
	out := map[string][]string{}
	for _, s := range reg.All() {
		for _, p := range s.Params {
			for _, c := range p.Choices {
				if !slices.Contains(out[p.Name], c) {
					out[p.Name] = append(out[p.Name], c)
				}
			}
		}
	}
	return out
}

func runLong() string {
	var b strings.Builder
	b.WriteString(`Replay TRACE (or, with no argument, a small real trace embedded in vmsim) through the
emulated MMU and print exact counts.

TRACE is a file in the rw, lackey, din (Dinero), pin (pinatrace), champsim,
champsim-cloudsuite or vmt format, plain or compressed with gzip, zstd or xz (the
compression is detected from the content, and the format too with --format auto); "-" is
standard input. A directory is a drmemtrace trace (DynamoRIO's, one file a thread; a .zip
file is one thread's): its threads replay interleaved as the trace orders them, each
fetched instruction, load and store an access, read as a stream. An access of size s at address a touches every page overlapping [a, a+s)
unless --ignore-size. Accesses are numbered from 1 (--fail-at N strikes just after access
N, as vmsim trace head numbers them). Progress shows on a terminal only.

--skip N reads past the trace's first N accesses without simulating them (a vmt file jumps
past them with its index): no counter sees them, and access numbers (--fail-at, --warmup,
--interval, --stats-every) count from the first access after them. --max-refs N ends the
run after N accesses, as if the trace ended there (the records after access N are not
read). --warmup N, by contrast, simulates its N accesses and leaves them out of the
counters. Every pass over the trace (opt's pre-pass, replays, the baseline) sees the same
window.

--stats-every N writes one JSON line per interval of N accesses (after --warmup's) to
--stats-out FILE ('-': standard output, before the run's output): "from" and "to" (the
interval is the accesses numbered from+1 to to, and the checkpoints and failures after
them up to access to), "checkpoints" and "failures" (recovered) in the interval, "delta"
(every counter's change over the interval: for a total the difference, for a peak or end
value its value at the interval's end) and "time_ns" (the modeled time of the run so far,
by the cost set: the model's time of the counts so far, as --no-baseline prints it, its
terms not raised to the baseline's by the overhead rule). The last line ends with the run; the lines' totals add up to the run's.
The file appears only when the run succeeds.

-o FILE writes the output (the table, or with --json the JSON object) to FILE atomically
instead of standard output. The file also carries what identifies the run: the text
begins with lines "vmsim VERSION", "config {...}" (the whole configuration as JSON),
"trace sha256 ...", "cost set NAME {...}", "host ..." (hostname, OS/architecture, CPU model,
cores) and "wall time"; the JSON object gains "host" and "wall_seconds".

A failure strikes just after its access, before a checkpoint due at the same access; the
domain is recovered and the accesses since its last checkpoint are replayed. --mtbf is 0
(none) or at least 1. A warning at the start tells when replays will be long: failures with
no --interval, or --mtbf below half of it.

Some settings apply only to the schemes that model them ('vmsim schemes' lists them under
"models"): --frames, --replace, --steal and --initial to the schemes that page, --vbits and
--cow to virtual checkpoints (dualmap), --granule to block-granular schemes,
--tlb-checkpoint to schemes that write-protect through the translation. Given to another
scheme, such a setting is a usage error. A setting counts as given when it differs from its
default, here as in a sweep, so a flag repeating its default is accepted.

--cores N above 1 (with a --cache-size) gives each of N cores a private write-back cache of
the --cache-* geometry, kept coherent by an MSI directory (docs/coherence.md, section 9):
each access runs on its thread's core, the threads dealt to the cores in turn and moved to
the next core every --quantum accesses (--schedule round-robin), or on the cpu the trace
recorded (--schedule recorded: drmemtrace traces only). A replayed access runs on its
thread's last core. The cache_* counters are then sums over the cores, and coh_* count what
passes between them; --schedule and --quantum apply only with more than one core.

--scheme global and --scheme rebound are coordinated checkpoints of the multi-core machine
(docs/coordinated.md), run by their own engine: global checkpoints every core together
every --interval accesses and rolls every core back; rebound checkpoints a core (every
--interval accesses of its own, or when its work is --max-age old) with the cores it read
from, and rolls back the failed core (--fail-core, or one drawn by --seed) with the cores
that read from it. They take the cache, cores, schedule, interval, failure and --verify
flags (--verify also checks for orphans after every rollback); the other settings of the
machine are refused. Their overhead is over the same run without checkpoints or failures,
priced by the default cost set.

The table shows the counters that apply to the run; --all shows every one. A counter that
is not zero is shown; so are, zero or not, refs, reads, writes, pages_touched,
pages_written, checkpoints and the scheme's own counters (scheme.*), and the counters of a
feature the run has: replayed_refs, rollbacks, crashes and recovery_bytes with failures
(--fail-at, --mtbf); first_writes to wrap_sweeps for a scheme that pages (takes
--frames); skipped_lines with --lenient; verify_* with --verify; cache_* with a cache;
coh_* with --cores above 1; tlb_* with a TLB (tlb_stale_writes under --tlb-checkpoint
tag); io_* under --io hold. The other channels (bytes_copied to mem_overhead_peak_bytes)
show when not zero. --json always has every counter.

Counters (all totals over the run):
`)
	w := 0
	for _, c := range sim.CounterDefs() {
		w = max(w, len(c.Key))
	}
	for _, c := range sim.CounterDefs() {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, c.Key, c.Doc)
	}
	b.WriteString(`
After the counters, run prints the modeled time of the run by the cost model (docs/counters.md,
"Cost model"; --cost FILE and --cost KEY=V set its values, as for vmsim sweep), the
modeled time of its baseline, scheme none on the same trace, machine, paging and cache
without checkpoints or failures (a second pass over the trace, except for a run of none
that is its own baseline; --no-baseline skips it, and a trace on standard input, read
once, has none), and the overhead by the overhead rule:
every term of the run's time charged at least the baseline's, so never negative. With
--json these are the "cost" object: "set" (the cost set's name and values), "time" and
"baseline" (each term in ns) and "overhead" (null without a baseline).

Exit status: 0 on success, 1 when --verify found a mismatch, 2 for a usage error or bad input.`)
	return b.String()
}
