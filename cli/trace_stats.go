package cli

// vmsim trace stats.

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/textable"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

func newStatsCmd(stdout io.Writer) *cobra.Command {
	var in inputFlags
	var opt traces.SummaryOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats [flags] TRACE",
		Short: "Describe a trace: accesses by kind, pages touched and written, writes per interval",
		Long: `Describe TRACE: records and accesses by kind, address spaces, distinct pages touched
and written at --page-size (distinct (address space, page) pairs, as vmsim run counts
pages_touched and pages_written), the write fraction ((writes+modifies)/accesses), the
footprint (pages touched × page size), and for each interval in --intervals the distinct
pages written per interval: the number of intervals (the last may be partial), the sum of
distinct pages written over them (equal to vmsim run's first_writes with that --interval,
no failures, scope system), their mean and their maximum.

A trace that marks the kernel's writes into the program's memory (version 3 vmt, as vmsim
record writes with vmtrace) also gets the number of kernel writes (counted among the
writes), the distinct pages the kernel wrote, and those the program itself never wrote:
the pages a recording without the kernel's writes would not show as written (--json:
kernel_writes, kernel_pages_written, kernel_only_pages).

A trace with thread ids (drmemtrace, version 2 or 3 vmt) is also described per thread: each
(address space, thread) pair's accesses, reads, writes, modifies, fetches, and the
distinct pages it touched and wrote (a page two threads touch counts for each). A
drmemtrace trace also gets the counts DynamoRIO's basic_counts tool prints, those of
what vmsim drops included (non-fetched instructions, prefetches, flushes, markers), and
the cpus each thread ran on, as its cpu markers name them (--json: "thread_cpus", thread
id to cpus; -1 stands for a marker's value that is no cpu number).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := in.open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			s, err := traces.Summarize(f, opt)
			if err != nil {
				return err
			}
			var dr *traces.DrmemtraceCounts
			var cpus map[traces.TID][]int
			if d, ok := f.Reader.(*traces.DrmemtraceReader); ok {
				c := d.Counts()
				dr = &c
				cpus = d.ThreadCPUs()
			}
			if asJSON {
				out, err := json.Marshal(struct {
					Trace  string `json:"trace"`
					Format string `json:"format"`
					*traces.Summary
					Drmemtrace *traces.DrmemtraceCounts `json:"drmemtrace,omitempty"`
					ThreadCPUs map[traces.TID][]int     `json:"thread_cpus,omitempty"`
				}{args[0], string(f.Format), s, dr, cpus})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "%s\n", out)
				return err
			}
			return printSummary(stdout, args[0], f, s, dr, cpus)
		},
	}
	in.add(cmd)
	fl := cmd.Flags()
	fl.Uint64Var(&opt.PageSize, "page-size", 4096, "page size in bytes, a power of two")
	fl.BoolVar(&opt.IgnoreSize, "ignore-size", false, "an access touches only the page of its address")
	countsVar(fl, &opt.Intervals, "intervals", []int64{100, 1000, 10000, 100000, 1000000, 10000000}, "checkpoint intervals in accesses (comma-separated; 1e6 works)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	fl.IntVar(&opt.MaxPages, "max-pages", sim.DefaultMaxPages, "stop with an error when the trace touches more than this many distinct pages (0: no limit)")
	return cmd
}

func printSummary(w io.Writer, name string, f *traces.File, s *traces.Summary, dr *traces.DrmemtraceCounts, cpus map[traces.TID][]int) error {
	fmt.Fprintf(w, "trace %s (format %s, compression %s)\n", name, f.Format, f.Compression)
	t := textable.New(w, textable.Left, textable.Right)
	t.Header("measure", "value")
	rows := [][2]string{
		{"records", itoa(s.Records)}, {"accesses", itoa(s.Accesses)},
		{"reads", itoa(s.Reads)}, {"writes", itoa(s.Writes)}, {"modifies", itoa(s.Modifies)}, {"fetches", itoa(s.Fetches)},
		{"checkpoint records", itoa(s.Checkpoints)}, {"fail records", itoa(s.Fails)},
		{"input records", itoa(s.Inputs)}, {"output records", itoa(s.Outputs)},
		{"address spaces", strconv.Itoa(s.AddressSpaces)},
	}
	if s.Threads != nil {
		rows = append(rows, [2]string{"threads", strconv.Itoa(len(s.Threads))})
	}
	if f.Kernel() || s.KernelWrites > 0 {
		// A trace that marks the kernel's writes (vmsim record): how many, and the pages
		// only they wrote.
		rows = append(rows, [][2]string{
			{"kernel writes", itoa(s.KernelWrites)},
			{"pages the kernel wrote", itoa(s.KernelPagesWritten)},
			{"pages only the kernel wrote", itoa(s.KernelOnlyPages)},
		}...)
	}
	rows = append(rows, [][2]string{
		{"page size", fmt.Sprintf("%d B", s.PageSize)},
		{"pages touched", itoa(s.PagesTouched)}, {"pages written", itoa(s.PagesWritten)},
		{"write fraction", strconv.FormatFloat(s.WriteFraction, 'f', 4, 64)},
		{"footprint", fmt.Sprintf("%d B (%.1f MiB)", s.FootprintBytes, float64(s.FootprintBytes)/(1<<20))},
	}...)
	for _, r := range rows {
		t.Append(r[0], r[1])
	}
	if err := t.Render(); err != nil {
		return err
	}
	if err := printThreads(w, s.Threads); err != nil {
		return err
	}
	if err := printDrmemtrace(w, dr); err != nil {
		return err
	}
	if err := printThreadCPUs(w, cpus); err != nil {
		return err
	}
	if len(s.Intervals) == 0 {
		return nil
	}
	fmt.Fprintln(w, "distinct pages written per checkpoint interval")
	t = textable.New(w, textable.Right, textable.Right, textable.Right, textable.Right, textable.Right)
	t.Header("interval", "intervals", "page writes", "mean", "max")
	for _, iw := range s.Intervals {
		t.Append(itoa(iw.Interval), itoa(iw.Count), itoa(iw.PageWrites), strconv.FormatFloat(iw.Mean, 'f', 2, 64), itoa(iw.Max))
	}
	return t.Render()
}

// printThreads prints the per-thread table of a trace with thread ids.
func printThreads(w io.Writer, ts []traces.ThreadSummary) error {
	if len(ts) == 0 {
		return nil
	}
	fmt.Fprintln(w, "per thread")
	right := []textable.Align{}
	for range 9 {
		right = append(right, textable.Right)
	}
	t := textable.New(w, right...)
	t.Header("asid", "thread", "accesses", "reads", "writes", "modifies", "fetches", "pages touched", "pages written")
	for _, x := range ts {
		t.Append(strconv.FormatUint(uint64(x.ASID), 10), strconv.FormatUint(uint64(x.Thread), 10), itoa(x.Accesses), itoa(x.Reads),
			itoa(x.Writes), itoa(x.Modifies), itoa(x.Fetches), itoa(x.PagesTouched), itoa(x.PagesWritten))
	}
	return t.Render()
}

// printDrmemtrace prints a drmemtrace trace's counts, as DynamoRIO's basic_counts names
// them.
func printDrmemtrace(w io.Writer, c *traces.DrmemtraceCounts) error {
	if c == nil {
		return nil
	}
	fmt.Fprintln(w, "drmemtrace counts (as DynamoRIO's basic_counts; dropped: not records of vmsim's)")
	t := textable.New(w, textable.Left, textable.Right)
	t.Header("count", "value")
	for _, r := range [][2]string{
		{"threads", itoa(c.Threads)},
		{"fetched instructions", itoa(c.Fetches)},
		{"non-fetched instructions (dropped)", itoa(c.NonFetched)},
		{"data loads", itoa(c.Loads)},
		{"data stores", itoa(c.Stores)},
		{"prefetches (dropped)", itoa(c.Prefetches)},
		{"icache flushes (dropped)", itoa(c.ICFlushes)},
		{"dcache flushes (dropped)", itoa(c.DCFlushes)},
		{"scheduling markers", itoa(c.SchedMarks)},
		{"transfer markers", itoa(c.XferMarks)},
		{"system call markers", itoa(c.Syscalls)},
		{"other markers", itoa(c.OtherMarks)},
		{"records (12 bytes)", itoa(c.RecordCount)},
	} {
		t.Append(r[0], r[1])
	}
	return t.Render()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// printThreadCPUs prints the cpus each thread of a drmemtrace trace ran on, by its cpu
// markers.
func printThreadCPUs(w io.Writer, cpus map[traces.TID][]int) error {
	if len(cpus) == 0 {
		return nil
	}
	fmt.Fprintln(w, "cpus per thread (drmemtrace's cpu markers)")
	t := textable.New(w, textable.Right, textable.Right, textable.Left)
	t.Header("thread", "cpus", "which")
	tids := slices.Sorted(maps.Keys(cpus))
	for _, tid := range tids {
		t.Append(strconv.FormatUint(uint64(tid), 10), strconv.Itoa(len(cpus[tid])), cpuRanges(cpus[tid]))
	}
	return t.Render()
}

// cpuRanges writes increasing cpu numbers as runs: "0-3,7".
func cpuRanges(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j] >= 0 && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
