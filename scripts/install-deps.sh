#!/usr/bin/env bash
# Installs every Debian 12 package callvault builds, runs or tests with. Idempotent.
# Usage: scripts/install-deps.sh        (as root, or a user with sudo)
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang-16 libclang-rt-16-dev
  # libraries
  libssl-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libpugixml-dev libsrtp2-dev libspandsp-dev libopus-dev libsndfile1-dev libspeexdsp-dev
  libbcg729-dev  # G.729 decoder: GPL-3+, only linked when CALLVAULT_G729=ON (codec/)
  libsoci-dev libsqlite3-dev libpq-dev  # catalog/: SOCI over SQLite and PostgreSQL
  libsodium-dev libcpp-httplib-dev      # http/: Argon2id password hashes, the HTTP server
  libcurl4-openssl-dev                  # storage/s3/: S3 over libcurl (SigV4 signing)
  libpcap-dev                           # capture/: passive mode's packet capture (issue 19)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  sip-tester openssl procps iproute2 python3 sox
  curl        # tests/storage: signed S3 requests (curl --aws-sigv4) and the relocation benchmark
  postgresql  # the catalog tests start a private PostgreSQL server on loopback
  iptables    # tests/cluster: partitions are DROP rules inside the test's network namespaces
  dnsmasq-base python3-dnspython  # tests/cluster srv-failover, web-failover: SRV/A records, the SRC's resolver
  chromium fonts-dejavu-core      # tests/web: the portal in headless Chromium (playwright-core drives it), stable fonts
  prometheus systemd man-db       # tests/monitoring: promtool and a real Prometheus; tests/packaging: systemd-analyze, man
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# The S3 test server (tests/s3/) and the browser tests (tests/web/) run on npm packages: Node 20,
# s3rver and playwright-core (which drives Debian's chromium above and never downloads a
# browser), installed by `npm ci --prefix tests` (scripts/test.sh). Debian's npm conflicts with an
# already installed NodeSource node, so npm comes from apt only when there is none.
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
