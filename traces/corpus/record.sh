#!/usr/bin/env bash
# Re-record the bundled corpus: traces/corpus/*.vmt and MANIFEST.json.
#
#   bash traces/corpus/record.sh [NAME...]   (from the repository root; needs go, valgrind,
#                                             gcc, sort, gzip, awk, sqlite3)
#
# With names, only those traces are recorded again; the manifest keeps the other entries.
#
# Each program runs under `vmsim record --tracer lackey` (valgrind lackey, every access,
# instruction fetches included; lackey, so that the corpus does not depend on where vmsim
# builds its own tool) in a scratch directory holding its input, with a clean environment,
# so that the arguments in the vmt metadata name no local paths; its standard input is
# /dev/null unless the trace names a file. The multi-threaded programs (src/*-mt.c) are
# recorded with `--tracer vmtrace` instead, which records thread ids (and the kernel's
# writes); lackey records no threads. vmtrace is built into the user's cache folder
# (XDG_CACHE_HOME, else ~/.cache), which the clean environment keeps, and valgrind's
# scheduler interleaves the threads: such a trace never repeats byte for byte. Inputs are generated here, deterministically. Valgrind's trace of a program is repeatable only up to a few
# stack addresses, so a re-recording matches the manifest's counts closely but its
# sha256 may differ; commit the new files and manifest together.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/vmsim" ./cmd/vmsim)
vmsim="$work/vmsim"

# Inputs.
seq 1 500 | shuf --random-source=<(yes) > "$work/nums.txt"
seq 1 1000 | awk '{print "line " $1 " of the input, the quick brown fox " $1*7 % 1000}' > "$work/lines.txt"
head -c 20000 "$work/lines.txt" > "$work/text.txt"
{
	echo "create table kv(k integer primary key, v text);"
	for i in $(seq 1 40); do
		echo "insert into kv values($i, 'v$((i * 7919 % 10007))');"
		echo "select count(*), max(v) from kv where k <= $i;"
	done
} > "$work/requests.sql"
gcc -O2 -o "$work/stencil" "$here/src/stencil.c"
gcc -O2 -pthread -o "$work/stencil-mt" "$here/src/stencil-mt.c"
gcc -O2 -pthread -o "$work/reduce-mt" "$here/src/reduce-mt.c"
cache=${XDG_CACHE_HOME:-$HOME/.cache}

json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

declare -A only=()
for n in "$@"; do only[$n]=1; done
declare -A entries=()
names=()
# record [--syscalls] [--threads] [--stdin FILE] NAME "VERSION" "INPUT" PROGRAM ARGS...
record() {
	local flags=(--tracer lackey) stdin=/dev/null env=()
	while [[ $1 == --* ]]; do
		case $1 in
		--syscalls) flags+=(--syscalls); shift ;;
		--threads) flags=(--tracer vmtrace "${flags[@]:2}"); env=(XDG_CACHE_HOME="$cache"); shift ;;
		--stdin) stdin=$work/$2; shift 2 ;;
		esac
	done
	local name=$1 version=$2 input=$3
	shift 3
	names+=("$name")
	if [[ ${#only[@]} -gt 0 && -z ${only[$name]:-} ]]; then
		entries[$name]=$(grep -F "{\"name\": \"$name\"," "$here/MANIFEST.json" | sed 's/,$//') ||
			{ echo "$name: not in MANIFEST.json; record it too" >&2; exit 1; }
		return
	fi
	local out="$here/$name.vmt"
	(cd "$work" && env -i PATH=/usr/bin:/bin "${env[@]}" "$vmsim" record "${flags[@]}" -o "$out" -- "$@" < "$stdin" > /dev/null 2> "$work/$name.log") ||
		{ cat "$work/$name.log"; exit 1; }
	local stats accesses pages sha threads args=""
	stats=$("$vmsim" trace stats --json --intervals 1000 "$out")
	# The trace's own counts come first; a threaded trace's per-thread counts follow.
	accesses=$(grep -o '"accesses":[0-9]*' <<< "$stats" | sed -n 1p | cut -d: -f2)
	threads=$(grep -o '"thread":' <<< "$stats" | wc -l || true)
	pages=$(grep -o '"pages_touched":[0-9]*' <<< "$stats" | sed -n 1p | cut -d: -f2)
	sha=$(sha256sum "$out" | cut -d' ' -f1)
	for a in "${@:2}"; do args+="${args:+, }\"$(printf '%s' "$a" | json_escape)\""; done
	local threaded=""
	[[ $threads -gt 0 ]] && threaded=", \"threads\": $threads"
	entries[$name]=$(printf '  {"name": "%s", "file": "%s.vmt", "program": "%s", "version": "%s", "args": [%s], "input": "%s", "accesses": %s, "pages_touched_4k": %s%s, "sha256": "%s"}' \
		"$name" "$name" "$1" "$(printf '%s' "$version" | json_escape)" "$args" "$(printf '%s' "$input" | json_escape)" "$accesses" "$pages" "$threaded" "$sha")
	echo "$name: $accesses accesses, $pages pages, $(stat -c %s "$out") bytes" >&2
}

record gzip "$(gzip --version | head -1)" "text.txt: 20000 bytes of generated text lines (see record.sh)" \
	gzip -6 -c text.txt
record sort "$(sort --version | head -1)" "nums.txt: 1..500 shuffled by shuf --random-source=<(yes)" \
	sort -n nums.txt
record awk "$(awk -W version 2>&1 | head -1)" "none: the program is in the arguments" \
	awk 'BEGIN { for (i = 0; i < 3000; i++) a[i % 211] += i * i; s = 0; for (k in a) s += a[k]; print s }'
record sqlite "sqlite3 $(sqlite3 --version | cut -d' ' -f1)" "none: an in-memory database built by the query" \
	sqlite3 :memory: "create table t(k integer primary key, v text); with recursive c(x) as (select 1 union all select x+1 from c where x<200) insert into t select x, printf('value %d', x*7919 % 10007) from c; create index iv on t(v); select count(*), max(v) from t where v like 'value 1%';"
record stencil "$(gcc --version | head -1) -O2, src/stencil.c" "none: a 512x512 grid of doubles built in the program" \
	./stencil
record --syscalls --stdin requests.sql requests "sqlite3 $(sqlite3 --version | cut -d' ' -f1)" \
	"standard input: requests.sql, a table created then 40 inserts each followed by a query (see record.sh); recorded with --syscalls" \
	sqlite3 :memory:
record --threads stencil-mt "$(gcc --version | head -1) -O2 -pthread, src/stencil-mt.c" \
	"none: a 128x128 grid of doubles shared by 4 threads, built in the program; recorded with vmtrace (thread ids, kernel writes)" \
	./stencil-mt
record --threads reduce-mt "$(gcc --version | head -1) -O2 -pthread, src/reduce-mt.c" \
	"none: 4 threads on private arrays of 16384 doubles and a mutex-guarded shared sum; recorded with vmtrace (thread ids, kernel writes)" \
	./reduce-mt

for n in "${!only[@]}"; do
	[[ " ${names[*]} " == *" $n "* ]] || { echo "no trace $n in record.sh" >&2; exit 1; }
done
{
	echo "["
	for i in "${!names[@]}"; do
		sep=","
		[[ $i -eq $((${#names[@]} - 1)) ]] && sep=""
		echo "${entries[${names[$i]}]}$sep"
	done
	echo "]"
} > "$here/MANIFEST.json"
echo "wrote $here/MANIFEST.json" >&2
