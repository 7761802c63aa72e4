#!/usr/bin/env bash
# README command 1: install dependencies, build, and run `callvault serve` on embedded defaults
# (data directory ./data, SIP on port 5060 UDP/TCP). Extra arguments go to `callvault serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target callvault
exec build/release/src/app/callvault serve "$@"
