#!/bin/sh
# Install what the study's workloads need (reproduce/setup.sh: valgrind and the
# workloads' programs), build vmsim and run the long study alone (`vmsim reproduce`
# runs it with the others):
#
#   sh reproduce/long-setup.sh          (from the repository root; uses sudo if not root)
set -eu
sh "$(dirname "$0")/setup.sh"
exec ./vmsim reproduce --study long "$@"
