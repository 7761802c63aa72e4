#!/usr/bin/env bash
# The web portal's acceptance tests (issue 16) in headless Chromium: node --test on
# tests/web/*.test.mjs with Node ≥ 20 (tests/node_modules/node from `npm ci --prefix tests`, else
# the system node if it is 20 or newer) and playwright-core from the same node_modules.
#
# Usage: tests/web/run.sh --bin PATH/callvault [--artifacts DIR] [node --test options...]
#   --artifacts: where the screenshots go (default: a temp dir; the paths are printed).
# Missing tooling (node, playwright-core, Chromium, sipp) is a failure naming the install step,
# never a skip. Ends with `N passed, N failed`; exit code: node --test's (0 = every test passed).
# The work dir (server and sipp logs, data dirs) is removed after a passing run, kept otherwise.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tests="$(dirname "$here")"

bin="" artifacts=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --artifacts) artifacts="$2"; shift 2 ;;
    *) break ;;
  esac
done
fail() { echo "web_portal: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
[ -n "$bin" ] || fail "usage: $0 --bin PATH/callvault [--artifacts DIR]"
[ -x "$bin" ] || fail "$bin is not an executable"

node="$tests/node_modules/node/bin/node"
if [ ! -x "$node" ]; then
  node="$(command -v node || true)"
  major="$("${node:-false}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ -n "$node" ] && [ "$major" -ge 20 ] ||
    fail "Node >= 20 not found: run \`npm ci --prefix tests\` (scripts/test.sh does; it brings Node 20)"
fi
[ -d "$tests/node_modules/playwright-core" ] ||
  fail "playwright-core not installed: run \`npm ci --prefix tests\` (scripts/test.sh does)"
command -v sipp >/dev/null || fail "sipp not found (scripts/install-deps.sh installs sip-tester)"

export CALLVAULT_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -n "$artifacts" ] || artifacts="$(mktemp -d /tmp/cv-web-artifacts-XXXXXX)"
mkdir -p "$artifacts"
export CALLVAULT_WEB_ARTIFACTS="$(cd "$artifacts" && pwd)"
export CALLVAULT_WEB_WORK="$(mktemp -d /tmp/cv-web-XXXXXX)"
tap="$CALLVAULT_WEB_WORK/results.tap"
cd "$here"
rc=0
"$node" --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "$@" ./*.test.mjs || rc=$?
passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)"
failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)"
if [ "$rc" -eq 0 ]; then
  rm -rf "$CALLVAULT_WEB_WORK"
else
  echo "kept $CALLVAULT_WEB_WORK (server logs, sipp logs, data dirs)"
  [ "${failed:-0}" -gt 0 ] || failed=1
fi
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$rc"
