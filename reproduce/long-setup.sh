#!/bin/sh
# Install what `vmsim reproduce --long` needs on a fresh Debian or Ubuntu machine that has
# Go: valgrind (vmsim record runs programs under its lackey tool), gzip and GNU sort (the
# recorded programs; coreutils and gzip are part of every Debian install, listed for a
# minimal container). Then build vmsim and run the long study:
#
#   sh reproduce/long-setup.sh          (from the repository root; uses sudo if not root)
set -eu
need=""
command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
command -v gzip >/dev/null 2>&1 || need="$need gzip"
command -v sort >/dev/null 2>&1 || need="$need coreutils"
if [ -n "$need" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update
	# shellcheck disable=SC2086
	$sudo apt-get install -y --no-install-recommends $need
fi
go build -o vmsim ./cmd/vmsim
exec ./vmsim reproduce --long "$@"
