#!/usr/bin/env bash
# Prints, after a long test run, what failed and why: every "not ok" of the TAP log in $1 with its
# error block, capped in length. CI keeps only the end of a run's output, and a failure 40 minutes
# back would otherwise be out of sight.
log=$1
[ -s "$log" ] || exit 0
grep -qE '^[[:space:]]*not ok' "$log" || exit 0
echo "=== failures of this run (from $(basename "$log")) ==="
awk '
  /^[[:space:]]*not ok/ { if ($0 ~ /# (TODO|SKIP)/) next; inblock = 1; n = 0; count++; if (count > 15) exit; print; next }
  inblock && /^[[:space:]]*\.\.\.[[:space:]]*$/ { inblock = 0; print "---"; next }
  inblock { if (++n <= 30) print substr($0, 1, 400) }
' "$log"
