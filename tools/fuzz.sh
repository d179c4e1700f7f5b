#!/usr/bin/env bash
# Full fuzz run of the public API, the core bindings and model files (>= 10,000 cases; model files
# get byte flips and structured JSON-header mutations with the SHA-256 recomputed, read by both
# loaders), each case in a
# worker subprocess (crash = failure, hang = 60 s timeout). Prints: cases, ok, clean errors, crashes,
# hangs, time, and the run's seed. Extra pytest arguments pass through, e.g. tools/fuzz.sh -x.
# The cases come from NNCORE_FUZZ_SEED when set (replay a failure with the seed it printed),
# else from a new random seed.
#   NNCORE_FUZZ_PROFILE=full PYTHONPATH=python python -m pytest tests/test_fuzz.py   (same thing)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
report="$(mktemp)"
start=$(date +%s)
seed="${NNCORE_FUZZ_SEED:-$(python3 -c 'import secrets; print(secrets.randbelow(2**32))')}"
echo "fuzz seed: $seed (replay: NNCORE_FUZZ_SEED=$seed tools/fuzz.sh)"
NNCORE_FUZZ_SEED="$seed" NNCORE_FUZZ_PROFILE=full NNCORE_FUZZ_REPORT="$report" \
  PYTHONPATH="${PYTHONPATH:-$root/python}" \
  python3 -m pytest -q -p no:cacheprovider "$root/tests/test_fuzz.py" "$@"
status=$?
cat "$report"
awk '{for (i = 1; i <= NF; i++) if ($i == "cases,") n += $(i-1)} END {print "total cases:", n}' "$report"
echo "wall time: $(( $(date +%s) - start )) s, pytest exit status $status, seed $seed"
rm -f "$report"
exit $status
