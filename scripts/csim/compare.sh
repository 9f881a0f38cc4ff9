#!/usr/bin/env bash
# Check vmsim's demand-paging counts against two independent C simulators and time the
# whole processes on the same traces.
#
#   bash scripts/csim/compare.sh TRACE...     (needs go, cc, gzip, awk)
#
# A TRACE is rw text or valgrind lackey output (valgrind --tool=lackey --trace-mem=yes),
# plain or gzip'd; a trace whose first line is a valgrind or lackey line is lackey. The
# peers: memsim.c (fscanf, LRU by timestamps, CLOCK; rw and lackey) and lrulist.c (LRU on
# a doubly linked list; rw). For every trace, LRU and CLOCK with 16, 64 and 256 frames:
# vmsim run --scheme none must report the refs, page_faults and disk_writes each peer
# prints, or the script fails. Then vmsim and each peer run 9 times, interleaved, on the
# same plain text with 64 frames (memsim with CLOCK on lackey traces, with LRU on rw;
# lrulist with LRU), and the script prints the median wall time of each and vmsim's over
# the peer's.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 TRACE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/memsim" "$here/memsim.c"
cc -O2 -o "$work/lrulist" "$here/lrulist.c"
(cd "$root" && CGO_ENABLED=0 go build -o "$work/vmsim" ./cmd/vmsim)
runs=9

# A run's wall time is read from bash's $EPOCHREALTIME (microseconds), a variable: taking
# it forks nothing, where $(date +%s%N) would fork and exec date inside the timed interval
# (3-5 ms on a small virtual machine, as long as a short run itself).
[[ -n ${EPOCHREALTIME:-} ]] || { echo "$0: needs bash 5 or later (\$EPOCHREALTIME)" >&2; exit 2; }

# median_us: the median of the numbers on standard input.
median_us() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# race PEER... -- VMSIM...: both commands $runs times, interleaved; prints the medians in
# microseconds, the peer's then vmsim's.
race() {
	local peer=() vm=()
	while [[ $1 != -- ]]; do peer+=("$1"); shift; done
	shift
	vm=("$@")
	local tp=() tv=() s e
	for ((i = 0; i < runs; i++)); do
		s=${EPOCHREALTIME//[!0-9]/}; "${peer[@]}" > /dev/null; e=${EPOCHREALTIME//[!0-9]/}; tp+=($((e - s)))
		s=${EPOCHREALTIME//[!0-9]/}; "${vm[@]}" > /dev/null; e=${EPOCHREALTIME//[!0-9]/}; tv+=($((e - s)))
	done
	echo "$(printf '%s\n' "${tp[@]}" | median_us) $(printf '%s\n' "${tv[@]}" | median_us)"
}

# check TRACE FORMAT POLICY FRAMES PEER...: the peer's counts must be vmsim's.
check() {
	local txt=$1 format=$2 policy=$3 frames=$4
	shift 4
	local want got json
	want=$("$@")
	json=$("$work/vmsim" run --scheme none --frames "$frames" --replace "$policy" --format "$format" --json "$txt")
	got=$(for k in refs page_faults disk_writes; do
		echo "$k $(grep -o "\"$k\":[0-9]*" <<< "$json" | head -1 | cut -d: -f2)"
	done)
	if [[ $want != "$got" ]]; then
		echo "$txt, $policy, $frames frames: $(basename "$1") and vmsim disagree" >&2
		paste <(echo "$want") <(echo "$got") >&2
		exit 1
	fi
}

printf '%-22s %-16s %9s %9s %7s\n' trace peer "peer ms" "vmsim ms" ratio
for tr in "$@"; do
	txt="$work/$(basename "$tr" .gz).txt"
	if [[ $tr == *.gz ]]; then gzip -dc "$tr" > "$txt"; else cp "$tr" "$txt"; fi
	format=rw
	if head -1 "$txt" | grep -qE '^(==[0-9]+==|--[0-9]+--|I  [0-9a-f]+,| [LSM] [0-9a-f]+,)'; then format=lackey; fi
	for frames in 16 64 256; do
		for policy in lru clock; do
			check "$txt" "$format" "$policy" "$frames" "$work/memsim" "$txt" "$frames" "$policy" "$format"
		done
		if [[ $format == rw ]]; then
			check "$txt" rw lru "$frames" "$work/lrulist" "$txt" "$frames"
		fi
	done
	if [[ $format == lackey ]]; then
		peers=("memsim CLOCK 64:$work/memsim $txt 64 clock lackey:clock")
	else
		peers=("lrulist LRU 64:$work/lrulist $txt 64:lru" "memsim LRU 64:$work/memsim $txt 64 lru:lru")
	fi
	for p in "${peers[@]}"; do
		IFS=: read -r label cmd policy <<< "$p"
		read -r c v <<< "$(race $cmd -- "$work/vmsim" run --scheme none --frames 64 --replace "$policy" --format "$format" "$txt")"
		printf '%-22s %-16s %9.1f %9.1f %7.3f\n' "$(basename "$tr")" "$label" "$(awk "BEGIN { print $c / 1000 }")" "$(awk "BEGIN { print $v / 1000 }")" "$(awk "BEGIN { print $v / $c }")"
	done
done
