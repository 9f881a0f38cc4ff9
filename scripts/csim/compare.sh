#!/usr/bin/env bash
# Check vmsim's demand-paging counts against memsim.c, an independent C simulator, and time
# the two whole processes on the same traces.
#
#   bash scripts/csim/compare.sh TRACE...     (rw traces, plain or gzip'd; needs go, cc, gzip, awk)
#
# For every trace, LRU and CLOCK with 16, 64 and 256 frames: vmsim run --scheme none must
# report the refs, page_faults and disk_writes memsim prints, or the script fails. Then
# both run 5 times, interleaved, on the same plain text (LRU, 64 frames), and the script
# prints the best wall time of each and their ratio.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 TRACE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/memsim" "$here/memsim.c"
(cd "$root" && go build -o "$work/vmsim" ./cmd/vmsim)

# best CMD...: the least wall time of 5 runs, in ms.
best() {
	local b=""
	for _ in 1 2 3 4 5; do
		local s e t
		s=$(date +%s%N)
		"$@" > /dev/null
		e=$(date +%s%N)
		t=$(((e - s) / 1000))
		if [[ -z $b || $t -lt $b ]]; then b=$t; fi
	done
	printf '%d.%03d' $((b / 1000)) $((b % 1000))
}

printf '%-12s %10s %10s %7s\n' trace "memsim ms" "vmsim ms" ratio
for tr in "$@"; do
	txt="$work/$(basename "$tr").txt"
	if [[ $tr == *.gz ]]; then gzip -dc "$tr" > "$txt"; else cp "$tr" "$txt"; fi
	for policy in lru clock; do
		for frames in 16 64 256; do
			want=$("$work/memsim" "$txt" "$frames" "$policy")
			json=$("$work/vmsim" run --scheme none --frames "$frames" --replace "$policy" --format rw --json "$txt")
			got=$(for k in refs page_faults disk_writes; do
				echo "$k $(grep -o "\"$k\":[0-9]*" <<< "$json" | head -1 | cut -d: -f2)"
			done)
			if [[ $want != "$got" ]]; then
				echo "$tr, $policy, $frames frames: memsim and vmsim disagree" >&2
				paste <(echo "$want") <(echo "$got") >&2
				exit 1
			fi
		done
	done
	c=$(best "$work/memsim" "$txt" 64 lru)
	v=$(best "$work/vmsim" run --scheme none --frames 64 --replace lru --format rw "$txt")
	printf '%-12s %10s %10s %7.3f\n' "$(basename "$tr")" "$c" "$v" "$(awk "BEGIN { print $v / $c }")"
done
