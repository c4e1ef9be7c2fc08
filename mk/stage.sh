#!/bin/sh
# mk/stage.sh - run one stage of `make check` and note how long it took.
#   usage: mk/stage.sh TIMES NAME COMMAND...
# Appends "NAME SECONDS STATUS" to TIMES (read by .ci/run and
# mk/check-isolated.sh), and exits with COMMAND's status.
set -u
times=$1 name=$2
shift 2
start=$(date +%s)
"$@"
status=$?
echo "$name $(($(date +%s) - start)) $status" >>"$times"
exit $status
