package reproduce

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The workloads' input generators: each writes the same bytes at every call.

// sqlRequests writes n inserts of random keys into a table, in transactions of 500, with
// an update and a range query after every 10 inserts.
func sqlRequests(name string, n int, seed uint64) func(string) error {
	return func(dir string) error {
		return writeBuffered(filepath.Join(dir, name), func(w *bufio.Writer) {
			x := newXorshift(seed)
			fmt.Fprintln(w, "PRAGMA cache_size=-65536;")
			fmt.Fprintln(w, "CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT, n INTEGER);")
			fmt.Fprintln(w, "CREATE INDEX kv_n ON kv(n);")
			for i := 0; i < n; i++ {
				if i%500 == 0 {
					if i > 0 {
						fmt.Fprintln(w, "COMMIT;")
					}
					fmt.Fprintln(w, "BEGIN;")
				}
				k := x.next() % 10_000_000
				fmt.Fprintf(w, "INSERT OR REPLACE INTO kv VALUES(%d, '%s', %d);\n", k, word(x, 40+int(x.next()%200)), x.next()%100_000)
				if i%10 == 9 {
					fmt.Fprintf(w, "UPDATE kv SET n = n + 1 WHERE k >= %d AND k < %d;\n", k, k+20_000)
					lo := x.next() % 100_000
					fmt.Fprintf(w, "SELECT count(*), sum(length(v)) FROM kv WHERE n BETWEEN %d AND %d;\n", lo, lo+500)
				}
			}
			fmt.Fprintln(w, "COMMIT;")
			fmt.Fprintln(w, "SELECT count(*), sum(n) FROM kv;")
		})
	}
}

// word returns n letters from x.
func word(x *xorshift, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(x.next()%26)
	}
	return string(b)
}

// redisRequests writes one request a line, its words separated by spaces: n SETs of keys
// with values of 64 to 4,096 bytes, then 2n requests at random among GET, INCR and DEL,
// and SHUTDOWN NOSAVE last.
func redisRequests(name string, n int, seed uint64) func(string) error {
	return func(dir string) error {
		return writeBuffered(filepath.Join(dir, name), func(w *bufio.Writer) {
			x := newXorshift(seed)
			for i := 0; i < n; i++ {
				fmt.Fprintf(w, "SET key:%d %s\n", i, word(x, 64<<(x.next()%7)))
			}
			for i := 0; i < 2*n; i++ {
				k := x.next() % uint64(n)
				switch r := x.next() % 10; {
				case r < 6:
					fmt.Fprintf(w, "GET key:%d\n", k)
				case r < 9:
					fmt.Fprintf(w, "INCR counter:%d\n", k%1000)
				default:
					fmt.Fprintf(w, "DEL key:%d\n", k)
				}
			}
			fmt.Fprintln(w, "SHUTDOWN NOSAVE")
		})
	}
}

func writeBuffered(path string, write func(*bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	write(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// pythonScript is a script building n records in a dict, then sorting, grouping and
// serialising them; its random numbers come from a linear congruential generator seeded
// with seed (not Python's random, whose algorithm could change between versions).
func pythonScript(n int, seed uint64) string {
	return fmt.Sprintf(`import json
x = %d
def rnd():
    global x
    x = (x * 6364136223846793005 + 1442695040888963407) %% (1 << 64)
    return x >> 33
recs = {}
for i in range(%d):
    k = "user%%d" %% rnd()
    recs[k] = {"id": i, "score": rnd() %% 1000, "tags": [rnd() %% 50 for _ in range(rnd() %% 6)], "name": k[::-1]}
groups = {}
for k, r in recs.items():
    for t in r["tags"]:
        groups.setdefault(t, []).append(r["id"])
ranked = sorted(recs.values(), key=lambda r: (r["score"], r["name"]))
out = json.dumps({"top": ranked[:100], "groups": {str(t): len(v) for t, v in groups.items()}})
print(len(recs), len(out), sum(len(v) for v in groups.values()))
`, seed, n)
}

// perlScript counts words and bigrams of its input and prints the 20 most frequent.
const perlScript = `use strict;
my (%w, %b);
while (my $l = <>) {
	my @t = split ' ', $l;
	for my $i (0 .. $#t) {
		$w{$t[$i]}++;
		$b{"$t[$i-1] $t[$i]"}++ if $i > 0;
	}
}
my @top = (sort { $b{$b} <=> $b{$a} || $a cmp $b } keys %b)[0 .. 19];
print scalar(keys %w), " words, ", scalar(keys %b), " bigrams\n";
print "$_ $b{$_}\n" for @top;
`

// cProgram writes n functions of loops, switches and arithmetic, and a main calling them
// (the functions call no other, and are not static: inlining them all into main would make
// cc1's work grow fast with n).
func cProgram(n int, seed uint64) string {
	x := newXorshift(seed)
	var b strings.Builder
	// No #include: cc1 run alone lacks the include folders gcc would give it.
	b.WriteString("int printf(const char *, ...);\n\n")
	ops := []string{"+", "-", "*", "^", "|", "&"}
	for f := 0; f < n; f++ {
		fmt.Fprintf(&b, "long f%d(long a, long b, const long *v, int n) {\n\tlong s = %d;\n", f, x.next()%100)
		for l := 0; l < 2+int(x.next()%4); l++ {
			fmt.Fprintf(&b, "\tfor (int i = 0; i < n; i++) {\n\t\tswitch ((v[i] %s a) & 7) {\n", ops[x.next()%uint64(len(ops))])
			for c := 0; c < 4; c++ {
				fmt.Fprintf(&b, "\t\tcase %d: s = s %s v[i] * %d + b; break;\n", c, ops[x.next()%uint64(len(ops))], x.next()%97+1)
			}
			fmt.Fprintf(&b, "\t\tdefault: s ^= (s << %d) | (a >> %d);\n\t\t}\n\t\ta = a * %d + s;\n\t}\n", x.next()%13+1, x.next()%7+1, x.next()%31+1)
		}
		b.WriteString("\treturn s;\n}\n\n")
	}
	b.WriteString("int main(void) {\n\tlong v[64], s = 0;\n\tfor (int i = 0; i < 64; i++)\n\t\tv[i] = i * 7919;\n")
	for f := 0; f < n; f++ {
		fmt.Fprintf(&b, "\ts += f%d(s, %d, v, 64);\n", f, f)
	}
	b.WriteString("\tprintf(\"%ld\\n\", s);\n\treturn 0;\n}\n")
	return b.String()
}
