#!/usr/bin/env bash
# The web portal benchmark (issue 16): the call list in headless Chromium over N catalogued
# calls (SQLite and PostgreSQL), cold and warm, against the API alone; the waveform of one-hour
# WAV and Opus calls. What it measures and how: bench/portal_bench.mjs. Results:
# docs/performance.md ("Web portal").
#
# Usage: bench/portal_bench.sh [--build DIR] [--calls N] [--backends sqlite,postgresql]
#          [--loads 50] [--warmups 5] [--cases first,week_caller,rare_text] [--out FILE] [--keep]
#          [--compare-encoding "gzip, deflate"]  (each page also with the browser offering this)
#          [--waveform-runs 3]  (uncached waveform requests per one-hour call; 0 = none)
#   --build: the CMake build dir holding src/app/callvault and bench/portal_fill
#            (default build/release; `cmake --build build/release --target callvault portal_fill`).
# Needs Node ≥ 20 and playwright-core (`npm ci --prefix tests`), Debian's chromium, and for
# PostgreSQL the postgresql package (scripts/install-deps.sh). Run it under `nice -n 10` on a
# shared machine. The work dir (/tmp/cv-portal-bench-*) is removed after a successful run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build/release"
if [ "${1:-}" = "--build" ]; then build="$(cd "$2" && pwd)"; shift 2; fi

node="$root/tests/node_modules/node/bin/node"
if [ ! -x "$node" ]; then
  node="$(command -v node || true)"
  major="$("${node:-false}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ -z "$node" ] || [ "$major" -lt 20 ]; then
    echo "portal_bench: Node >= 20 not found: run \`npm ci --prefix tests\`" >&2
    exit 1
  fi
fi
[ -d "$root/tests/node_modules/playwright-core" ] ||
  { echo "portal_bench: playwright-core not installed: run \`npm ci --prefix tests\`" >&2; exit 1; }
for f in "$build/src/app/callvault" "$build/bench/portal_fill"; do
  [ -x "$f" ] || { echo "portal_bench: $f missing: cmake --build $build --target callvault portal_fill" >&2; exit 1; }
done
export CALLVAULT_BIN="$build/src/app/callvault" PORTAL_FILL="$build/bench/portal_fill"
exec "$node" "$here/portal_bench.mjs" "$@"
