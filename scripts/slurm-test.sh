#!/usr/bin/env bash
# Tests vmsim sweep on a real Slurm: installs Debian's slurm-wlm and munge (apt-get, as
# root), starts a one-node cluster on localhost (munged, slurmctld, slurmd, all under a
# scratch directory, with their own slurm.conf: nothing in /etc is changed), builds vmsim,
# writes a sweep's script with `vmsim sweep slurm`, submits it (an array job of shards and
# a merge job after it), waits for it (bounded), and compares the merged outputs with a
# one-machine sweep's byte for byte. Exits non-zero on any difference or failure; stops
# the daemons it started, whatever happens. Run from anywhere in the repository:
#
#     sudo scripts/slurm-test.sh
#
# Environment: SLURM_TEST_TIMEOUT (seconds to wait for the jobs, default 600),
# SLURM_TEST_KEEP=1 keeps the scratch directory (logs, outputs) for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
timeout=${SLURM_TEST_TIMEOUT:-600}
start=$(date +%s)
say() { echo "slurm-test: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	say "must run as root (it installs packages and runs the Slurm daemons)"
	exit 2
fi

# 1. Packages.
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
	say "slurm-wlm and munge already installed"
else
	say "installing slurm-wlm and munge"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends slurm-wlm munge >&2
fi
say "$(slurmctld -V), $(munged --version 2>&1 | head -1)"

# 2. A one-node cluster under a scratch directory.
work=$(mktemp -d /tmp/vmsim-slurm-test.XXXXXX)
chmod 755 "$work"
pids=()
# ours lists the processes whose environment names this cluster's slurm.conf (job
# steps and job scripts, which outlive a killed slurmd), but this shell.
ours() {
	local f pid
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" != $$ ] || continue
		if { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qxF "SLURM_CONF=$work/etc/slurm.conf"; then
			echo "$pid"
		fi
	done
}
# stop ends the processes given, TERM then, after 10 s, KILL.
stop() {
	local pid
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null || true
	for pid in "$@"; do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
}
cleanup() {
	status=$?
	# Jobs first, so that the daemons have nothing left to wait for.
	if [ -n "${SLURM_CONF:-}" ] && [ ${#pids[@]} -gt 1 ]; then
		jobs=$(squeue -h -o %A 2>/dev/null || true)
		if [ -n "$jobs" ]; then
			scancel $jobs 2>/dev/null || true
			for _ in $(seq 20); do
				[ -z "$(squeue -h -o %A 2>/dev/null || true)" ] && break
				sleep 1
			done
		fi
	fi
	# The daemons, the last started first.
	for ((k = ${#pids[@]} - 1; k >= 0; k--)); do
		stop "${pids[k]}"
	done
	stop $(ours)
	if [ "$status" -ne 0 ]; then
		for log in "$work"/log/*; do
			[ -f "$log" ] || continue
			say "--- last lines of $log"
			tail -n 20 "$log" >&2
		done
		for log in "$work"/sweep/slurm-*.out; do
			[ -f "$log" ] || continue
			say "--- $log"
			cat "$log" >&2
		done
	fi
	if [ "${SLURM_TEST_KEEP:-}" = 1 ]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"/{etc,munge,state,spool,log,run,bin,sweep,cache}
chmod 700 "$work/munge"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 6817 6818; do
	if ! port_free "$port"; then
		say "port $port is in use (another Slurm?): stop it first"
		exit 1
	fi
done

# munge: its own key, socket and files.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket.2
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$socket" \
	--pid-file="$work/run/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/munged.seed" \
	>"$work/log/munged.stderr" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	[ -S "$socket" ] && break
	sleep 0.1
done
munge --socket="$socket" -n | unmunge --socket="$socket" >/dev/null

cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
host=$(hostname -s)
export SLURM_CONF=$work/etc/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=vmsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
say "one node: $cpus CPUs, $mem_mb MB; config $SLURM_CONF"

slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.stderr" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$work/log/slurmd.stderr" 2>&1 &
pids+=($!)
for i in $(seq 60); do
	state=$(sinfo -h -N -n localhost -o %t 2>/dev/null || true)
	[ "$state" = idle ] && break
	if [ "$i" = 60 ]; then
		say "the node is not idle after 60 s (state: ${state:-none})"
		exit 1
	fi
	sleep 1
done
say "cluster up after $(($(date +%s) - start)) s"

# 3. vmsim, a sweep's script, and the one-machine sweep to compare with.
go build -o "$work/bin/vmsim" ./cmd/vmsim
vmsim=$work/bin/vmsim
# The corpus (in vmsim), and one trace file, which each node reads through its cache.
spec=(--trace corpus --trace "$repo/traces/corpus/sort.vmt" --base scheme=dualmap --set interval=10000,1000000 --set cow=copy,remap)
cd "$work/sweep"
"$vmsim" sweep slurm "${spec[@]}" --shards 3 --cpus 1 --time 0:10:00 --csv results.csv --jsonl results.jsonl \
	--vmsim "$vmsim" --trace-cache "$work/cache" -o sweep.sh
"$vmsim" sweep "${spec[@]}" --csv one.csv --jsonl one.jsonl

# 4. Submit, wait, compare.
submitted=$(date +%s)
out=$(bash sweep.sh)
say "$out"
merge=$(sed -n 's/.* merge job \([0-9]*\).*/\1/p' <<<"$out")
array=$(sed -n 's/.*array job \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$merge" ] && [ -n "$array" ] || {
	say "could not read the job IDs"
	exit 1
}
deadline=$(($(date +%s) + timeout))
while [ -n "$(squeue -h -j "$array,$merge" -o %i 2>/dev/null)" ]; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		say "jobs not done after $timeout s:"
		squeue >&2
		scancel "$array" "$merge" || true
		exit 1
	fi
	sleep 1
done
state=$(scontrol show job "$merge" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
if [ "$state" != COMPLETED ]; then
	say "merge job $merge ended $state"
	scontrol show job "$array" >&2 || true
	exit 1
fi
say "jobs done $(($(date +%s) - submitted)) s after submission"
for f in csv jsonl; do
	cmp "one.$f" "results.$f"
done
say "merged outputs identical to the one-machine sweep ($(($(wc -l <one.csv) - 1)) points, 3 shards); $(ls "$work/cache" | wc -l) traces cached"
say "passed in $(($(date +%s) - start)) s"
