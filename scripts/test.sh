#!/usr/bin/env bash
# README command 2: install dependencies, build everything, and run the whole test suite.
# Ends with ctest's summary line. Set CALLVAULT_JOBS to limit build parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="${CALLVAULT_JOBS:-$(nproc)}"

# Test tooling from npm (tests/package-lock.json): Node 20, s3rver for the S3 tests and
# playwright-core for the browser tests (tests/web/).
npm ci --prefix tests --no-audit --no-fund --loglevel=error >/dev/null

# libFuzzer targets (clang-16); their smoke runs are registered as tests of the release build.
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target sip_parser_fuzzer multipart_fuzzer codec_fuzzer sdp_fuzzer metadata_fuzzer \
  http_query_fuzzer outbox_entry_fuzzer manifest_fuzzer encrypted_header_fuzzer tenant_rules_fuzzer cisco_fuzzer \
  spool_fuzzer packet_decode_fuzzer tcp_reassembly_fuzzer

cmake --preset release -DCALLVAULT_FUZZ_BIN_DIR="$PWD/build/fuzz/fuzz" >/dev/null
cmake --build --preset release -j "$jobs"
cd build/release
exec ctest --output-on-failure -j "$jobs" "$@"
