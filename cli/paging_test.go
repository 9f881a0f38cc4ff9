package cli

import (
	"strings"
	"testing"
)

// TestPagingFlagsRefused: every paging flag of run, given to a scheme that does not page
// (or, for --pte-bytes, --vbits and --cow, to none), is a usage error naming the flag and
// the scheme: exit 2, nothing on standard output. So are --pte-bytes and --memory
// volatile where they change nothing.
func TestPagingFlagsRefused(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n3000 W\n"))
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"frames for remus", []string{"--scheme", "remus", "--frames", "16"}, "--frames 16: scheme remus models no paging"},
		{"replace for undo", []string{"--scheme", "undo", "--replace", "lru"}, "--replace lru: scheme undo models no paging"},
		{"steal for snaplog", []string{"--scheme", "snaplog", "--steal", "policy"}, "--steal policy: scheme snaplog models no paging"},
		{"initial for incremental", []string{"--scheme", "incremental", "--initial", "zero"}, "--initial zero: scheme incremental models no paging"},
		{"pte-bytes for cacheline", []string{"--scheme", "cacheline", "--pte-bytes", "8"}, "--pte-bytes 8: scheme cacheline writes no page-table pages"},
		{"pte-bytes for none", []string{"--scheme", "none", "--pte-bytes", "8"}, "--pte-bytes 8: scheme none writes no page-table pages, and --pte-bytes applies only to dualmap"},
		{"vbits for remus", []string{"--scheme", "remus", "--vbits", "4"}, "--vbits 4: scheme remus keeps no virtual checkpoints"},
		{"cow for none", []string{"--scheme", "none", "--cow", "remap"}, "--cow remap: scheme none keeps no virtual checkpoints, and --cow applies only to dualmap"},
		{"pte-bytes for dualmap without volatile memory", []string{"--pte-bytes", "8"}, "--pte-bytes 8: scheme dualmap writes page-table pages only at the checkpoints of volatile memory"},
		{"volatile memory for none", []string{"--scheme", "none", "--memory", "volatile"}, "--memory volatile: scheme none keeps no checkpoints"},
		{"volatile memory for remus without crashes", []string{"--scheme", "remus", "--memory", "volatile"}, "--memory volatile: volatile memory changes scheme remus only in a crash"},
		{"bad steal", []string{"--steal", "never"}, `--steal "never": want one of [obsolete-first policy]`},
		{"bad memory", []string{"--memory", "flash"}, `--memory "flash": want one of [nonvolatile volatile]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append(append([]string{"run", "--json"}, tt.args...), trace)...)
			if code != exitBad || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q: want exit 2, nothing on stdout and %q", code, stdout, stderr, tt.want)
			}
		})
	}
	for _, args := range [][]string{
		{"--pte-bytes", "8", "--memory", "volatile"},
		{"--scheme", "remus", "--memory", "volatile", "--failure", "crash"},
		{"--scheme", "none", "--frames", "2", "--replace", "opt", "--steal", "policy", "--initial", "zero"},
	} {
		if code, _, stderr := runCLI(append(append([]string{"run", "--json"}, args...), trace)...); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}

// TestPagingFlagsHelp: the paging flags keep their choices in run's help, which come from
// the schemes that declare them, and vmsim schemes lists --pte-bytes with dualmap's own
// settings.
func TestPagingFlagsHelp(t *testing.T) {
	_, out, _ := runCLI("run", "--help")
	for _, want := range []string{"(clock|lru|fifo|opt|random)", "(obsolete-first|policy)", "(image|zero)", "(copy|remap)", "(nonvolatile|volatile)"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help lacks %s", want)
		}
	}
	_, out, _ = runCLI("schemes")
	if !strings.Contains(out, "  --pte-bytes (default 16; sweep key pte_bytes): ") || strings.Contains(out, "  --frames (default") {
		t.Errorf("vmsim schemes:\n%s", out)
	}
}
