#!/bin/sh
# Install what `vmsim reproduce` needs to record the study's workloads on a fresh Debian
# or Ubuntu machine that has Go, and build vmsim:
#
#   sh reproduce/setup.sh          (from the repository root; uses sudo if not root)
#
# valgrind (vmsim record runs the programs under it; its Debian package ships the headers
# vmsim's own tool, vmtrace, is built with) and the packages of reproduce.Workloads, one
# per workload (TestSetupInstallsWorkloads checks that every workload's is listed):
#   gzip, coreutils (sort), gcc libc6-dev (memkernel.c, and cc1), sqlite3, redis-server,
#   python3 (run as /usr/bin/python3), perl, xz-utils.
# Only the packages not installed yet are installed.
set -eu
packages="valgrind gcc libc6-dev gzip coreutils sqlite3 redis-server python3 perl xz-utils "
need=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi
go build -o vmsim ./cmd/vmsim
