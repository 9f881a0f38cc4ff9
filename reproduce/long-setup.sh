#!/bin/sh
# Install what `vmsim reproduce --long` needs (reproduce/setup.sh: valgrind and the
# workloads' programs), build vmsim and run the long study:
#
#   sh reproduce/long-setup.sh          (from the repository root; uses sudo if not root)
set -eu
sh "$(dirname "$0")/setup.sh"
exec ./vmsim reproduce --long "$@"
