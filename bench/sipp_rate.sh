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
for rate in 250 500 1000 1500 2000 2500 3000 4000 5000 6000 8000; do
  calls=$((rate * step_s))
  out=$(python3 "$driver" --uas "$uas" --transport "$transport" --scenario builtin:uac \
        --calls "$calls" --rate "$rate" --limit $((rate * 2)) --timeout $((step_s * 4 + 30)) \
        --sipp-arg=-rate_period --sipp-arg=1000 2>&1) && rc=0 || rc=$?
  line=$(echo "$out" | grep -E "^sipp exit code" || true)
  cmd=$(echo "$out" | grep -E "^sipp command" || true)
  echo "rate=$rate calls=$calls transport=$transport rc=$rc :: $line"
  if [ "$rc" -ne 0 ]; then break; fi
  best=$rate
  bestcmd=$cmd
done
echo "RESULT highest rate with 0 failed calls: $best calls/s (transport $transport, $(nproc) cores)"
echo "${bestcmd:-}"
