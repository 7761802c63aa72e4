#!/usr/bin/env bash
# Highest sipp call rate (built-in `uac` scenario) that the SIP stack carries with 0 failed
# calls on this machine. Runs the test UAS (tests/sip_test_uas) and sipp on 127.0.0.1 at rising
# rates, each for a bounded number of calls, and prints one line per step plus the result.
#
# Usage: bench/sipp_rate.sh [BUILD_DIR] [u1|t1] [SECONDS_PER_STEP]
# Default: build/release, u1, 10 s per step. Needs sipp (scripts/install-deps.sh).
set -euo pipefail
build="${1:-build/release}"
transport="${2:-u1}"
step_s="${3:-10}"
uas="$build/tests/sip_test_uas"
driver="$(dirname "$0")/../tests/sipp/sipp_test.py"
[ -x "$uas" ] || { echo "missing $uas: build it first (cmake --build --preset release)"; exit 1; }

best=0
best_achieved=0
for rate in 500 1000 2000 4000 6000 8000 10000 12000 15000 20000; do
  calls=$((rate * step_s))
  out=$(python3 "$driver" --uas "$uas" --transport "$transport" --scenario builtin:uac \
        --calls "$calls" --rate "$rate" --limit $((rate * 2)) --timeout $((step_s * 4 + 30)) 2>&1) && rc=0 || rc=$?
  line=$(echo "$out" | grep -E "^sipp exit code" || true)
  cmd=$(echo "$out" | grep -E "^sipp command" || true)
  secs=$(echo "$line" | grep -oE "[0-9.]+ s$" | grep -oE "[0-9.]+" || echo 0)
  achieved=$(python3 -c "print(round($calls / $secs) if $secs > 0 else 0)")
  echo "rate=$rate calls=$calls transport=$transport rc=$rc achieved=${achieved}/s :: $line"
  if [ "$rc" -ne 0 ]; then break; fi
  if [ "$achieved" -gt "$best_achieved" ]; then best_achieved=$achieved; bestcmd=$cmd; best=$rate; fi
done
echo "RESULT highest achieved rate with 0 failed calls: $best_achieved calls/s (offered $best/s; transport $transport, $(nproc) cores shared by sipp and the UAS)"
echo "${bestcmd:-}"
