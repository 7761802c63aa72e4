#!/usr/bin/env bash
# Smoke run of one libFuzzer target (registered by tests/CMakeLists.txt as fuzz_smoke_<name>).
# Usage: fuzz_smoke.sh FUZZER SECONDS SEED_DIR...   Missing seed dirs are skipped.
# Exits non-zero when the fuzzer finds a crash, leak, timeout or out-of-memory.
set -euo pipefail
fuzzer="$1"; seconds="$2"; shift 2
work=$(mktemp -d /tmp/cv-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
seeds=()
for d in "$@"; do [ -d "$d" ] && seeds+=("$d"); done
cd "$work"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
  -print_final_stats=1 "$work" "${seeds[@]}" 2>"$work/log" && rc=0 || rc=$?
grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done)" "$work/log" || true
if [ "$rc" -ne 0 ]; then
  tail -60 "$work/log"
  echo "fuzzer $(basename "$fuzzer") failed (exit $rc)"
  exit 1
fi
echo "fuzzer $(basename "$fuzzer"): 0 crashes in ${seconds}s"
