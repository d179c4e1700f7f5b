#!/usr/bin/env bash
# Full fuzz run of the public API, the core bindings and model files (>= 10,000 cases), each case in a
# worker subprocess (crash = failure, hang = 60 s timeout). Prints: cases, ok, clean errors, crashes,
# hangs, time. Extra pytest arguments pass through, e.g. tools/fuzz.sh -x.
#   NNCORE_FUZZ_PROFILE=full PYTHONPATH=python python -m pytest tests/test_fuzz.py   (same thing)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
report="$(mktemp)"
start=$(date +%s)
NNCORE_FUZZ_PROFILE=full NNCORE_FUZZ_REPORT="$report" PYTHONPATH="${PYTHONPATH:-$root/python}" \
  python3 -m pytest -q -p no:cacheprovider "$root/tests/test_fuzz.py" "$@"
status=$?
cat "$report"
awk '{for (i = 1; i <= NF; i++) if ($i == "cases,") n += $(i-1)} END {print "total cases:", n}' "$report"
echo "wall time: $(( $(date +%s) - start )) s, pytest exit status $status"
rm -f "$report"
exit $status
