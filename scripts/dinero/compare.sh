#!/usr/bin/env bash
# Check vmsim's cache model against Dinero IV, the classic trace-driven cache simulator,
# and time the two whole processes on the same din trace.
#
#   bash scripts/dinero/compare.sh [DINERO_DIR_OR_BINARY] [TRACE...]
#
# DINERO_DIR_OR_BINARY is a dineroIV binary, or a directory holding one or Dinero IV's
# source (configure and make run in a copy); without it, $DINERO or dineroIV on the PATH.
# Dinero IV is not part of vmsim (its source is public: atos-tools/dineroIV): without it
# the script says so and exits 0. Each TRACE is any trace vmsim reads, converted to din
# first (vmsim trace convert --to din --lossy); without a TRACE the script generates one,
# 1,000,000 accesses from a fixed seed (genDin below), the same on every machine.
#
# For every trace and three geometries (32 KiB 8-way 64-byte lines, the issue's; 8 KiB
# direct-mapped 32-byte lines; 256 KiB 16-way 64-byte lines), unified, LRU, write-allocate,
# write-back, the counters must agree or the script fails:
#
#   Dinero IV "Demand Fetches"   = vmsim cache_refs   (a din record is one word: one line)
#   Dinero IV "Demand Misses"    = vmsim cache_misses
#   Dinero IV "Bytes From Memory" = cache_misses × line
#   Dinero IV "Bytes To Memory"  = (cache_writebacks + cache_dirty_at_end) × line: Dinero IV
#                                  writes every dirty line back when the trace ends, vmsim
#                                  counts those apart (cache_dirty_at_end)
#
# Then both run 9 times, interleaved, on the first geometry, vmsim exactly as the issue
# measured it (vmsim run --scheme none --cache-size 32K --cache-ways 8 --format din
# --interval 0 TRACE, which also runs its baseline, the same configuration, for the
# overhead) and with --no-baseline, and the script prints the median wall time of each
# and the ratios vmsim / Dinero IV.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dinero=""
if [[ $# -ge 1 && ( -d $1 || -x $1 ) ]]; then
	dinero=$1
	shift
elif [[ -n ${DINERO:-} ]]; then
	dinero=$DINERO
elif command -v dineroIV > /dev/null; then
	dinero=$(command -v dineroIV)
fi
if [[ -d $dinero ]]; then
	if [[ -x $dinero/dineroIV ]]; then
		dinero=$dinero/dineroIV
	elif [[ -x $dinero/configure ]]; then
		cp -r "$dinero" "$work/dinero-src"
		(cd "$work/dinero-src" && ./configure > /dev/null && make > /dev/null 2>&1) || {
			echo "$0: building Dinero IV in a copy of $dinero failed" >&2
			exit 1
		}
		dinero=$work/dinero-src/dineroIV
	else
		echo "$0: $dinero holds neither dineroIV nor Dinero IV's source (configure)" >&2
		exit 1
	fi
fi
if [[ -z $dinero || ! -x $dinero ]]; then
	echo "Dinero IV not found (give its binary or source directory, \$DINERO, or dineroIV on the PATH): nothing compared"
	exit 0
fi
(cd "$root" && CGO_ENABLED=0 go build -o "$work/vmsim" ./cmd/vmsim)

# genDin: 1,000,000 din records from a fixed seed (an LCG exact in awk's doubles): reads,
# writes and instruction fetches, 40% of them walking sequentially through a 64 KiB
# region, half in a hot set of 256 lines, the rest anywhere in 16 MiB.
genDin() {
	awk 'BEGIN {
		x = 12345; seq = 268435456
		for (i = 0; i < 1000000; i++) {
			x = (x * 69069 + 1) % 4294967296; r = x % 100
			x = (x * 69069 + 1) % 4294967296; k = x % 1000
			if (r < 40) { seq += 4; if (seq >= 268435456 + 65536) seq = 268435456; a = seq }
			else if (r < 90) a = 268435456 + 1048576 + (k % 256) * 64 + (x % 16) * 4
			else a = 268435456 + 2097152 + (x % 4194304) * 4
			t = (r % 10 < 7) ? 0 : (r % 10 < 9) ? 1 : 2
			printf "%d %x\n", t, a
		}
	}'
}

# field JSON KEY: the number KEY has in vmsim's JSON.
field() { grep -o "\"$2\":[0-9]*" <<< "$1" | head -1 | cut -d: -f2; }
# runMs CMD...: one run's wall time in µs, from bash's $EPOCHREALTIME, which forks nothing
# ($(date +%s%N) would fork and exec date inside the timed interval: 3-5 ms on a small
# virtual machine); median: the median of those on stdin, in ms.
[[ -n ${EPOCHREALTIME:-} ]] || { echo "$0: needs bash 5 or later (\$EPOCHREALTIME)" >&2; exit 2; }
runMs() {
	local s e
	s=${EPOCHREALTIME//[!0-9]/}
	"$@" > /dev/null
	e=${EPOCHREALTIME//[!0-9]/}
	echo $((e - s))
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }

traces=("$@")
if [[ ${#traces[@]} -eq 0 ]]; then
	genDin > "$work/generated.din"
	traces=("$work/generated.din")
fi
geoms=("32K 8 64" "8K 1 32" "256K 16 64")
printf '%-16s %10s %10s %10s %12s\n' trace geometry refs misses "to memory"
for tr in "${traces[@]}"; do
	din="$work/$(basename "$tr").din"
	"$work/vmsim" trace convert --to din --lossy "$tr" "$din" 2> /dev/null
	for g in "${geoms[@]}"; do
		read -r size ways line <<< "$g"
		out=$("$dinero" -l1-usize "$size" -l1-ubsize "$line" -l1-uassoc "$ways" -l1-urepl l \
			-l1-uwalloc a -l1-uwback a -informat d < "$din")
		fetches=$(awk '/^ Demand Fetches/ { print $3; exit }' <<< "$out")
		dmisses=$(awk '/^ Demand Misses/ { print $3; exit }' <<< "$out")
		from=$(awk '/^ Bytes From Memory/ { print $4; exit }' <<< "$out")
		to=$(awk '/^ Bytes To Memory/ { print $4; exit }' <<< "$out")
		json=$("$work/vmsim" run --scheme none --cache-size "$size" --cache-ways "$ways" --cache-line "$line" \
			--format din --interval 0 --no-baseline --json "$din")
		refs=$(field "$json" cache_refs)
		misses=$(field "$json" cache_misses)
		wbs=$(field "$json" cache_writebacks)
		atEnd=$(field "$json" cache_dirty_at_end)
		if [[ $fetches != "$refs" || $dmisses != "$misses" || $from != $((misses * line)) || $to != $(((wbs + atEnd) * line)) ]]; then
			echo "$tr, $g: Dinero IV and vmsim disagree" >&2
			echo "Dinero IV: fetches $fetches, misses $dmisses, bytes from memory $from, to memory $to" >&2
			echo "vmsim: cache_refs $refs, cache_misses $misses, cache_writebacks $wbs, cache_dirty_at_end $atEnd" >&2
			exit 1
		fi
		printf '%-16s %10s %10s %10s %12s\n' "$(basename "$tr")" "$size/$ways/$line" "$refs" "$misses" "$to"
	done
	d=() v=() vn=()
	for _ in 1 2 3 4 5 6 7 8 9; do
		d+=("$(runMs "$dinero" -l1-usize 32K -l1-ubsize 64 -l1-uassoc 8 -l1-urepl l -l1-uwalloc a -l1-uwback a -informat d < "$din")")
		v+=("$(runMs "$work/vmsim" run --scheme none --cache-size 32K --cache-ways 8 --format din --interval 0 "$din")")
		vn+=("$(runMs "$work/vmsim" run --scheme none --cache-size 32K --cache-ways 8 --format din --interval 0 --no-baseline "$din")")
	done
	dm=$(printf '%s\n' "${d[@]}" | median)
	vm=$(printf '%s\n' "${v[@]}" | median)
	vnm=$(printf '%s\n' "${vn[@]}" | median)
	printf '%-16s Dinero IV %s ms; vmsim %s ms (%.2fx), with --no-baseline %s ms (%.2fx); medians of 9\n' \
		"$(basename "$tr")" "$dm" "$vm" "$(awk "BEGIN { print $vm / $dm }")" "$vnm" "$(awk "BEGIN { print $vnm / $dm }")"
done
