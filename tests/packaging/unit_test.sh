#!/usr/bin/env bash
# Fast checks of what the Debian package installs, from the build tree (no package needed):
#   - `systemd-analyze verify` passes on contrib/systemd/callvault.service, alone and with the
#     passive-mode drop-in (ExecStart pointed at the built binary; man pages checked in the
#     package root by deb_install_test.sh instead);
#   - TimeoutStopSec is above 2 x server.drain_timeout_s + 30 (the default from the key table);
#   - the packaged config (`config-reference --format toml --set node.data_dir=...`) passes
#     `check-config`, and every key of the table is in it;
#   - both man pages render without a groff/man warning.
# Usage: unit_test.sh PATH/callvault      (exit 0 = pass; prints one line per check)
set -uo pipefail

bin="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
unit="$root/contrib/systemd/callvault.service"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
check() {  # check "what" command...
  local what="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    echo "  ok   $what"
  else
    echo "  FAIL $what"; echo "$out" | sed 's/^/       /'; failed=$((failed + 1))
  fi
}

# The unit, with ExecStart/ExecStartPre/ExecReload on the built binary.
mkdir -p "$tmp/units/callvault.service.d"
sed "s#/usr/bin/callvault#$bin#g" "$unit" > "$tmp/units/callvault.service"
check "systemd-analyze verify callvault.service" \
  systemd-analyze verify --man=no "$tmp/units/callvault.service"
cp "$root/contrib/systemd/passive.conf" "$tmp/units/callvault.service.d/passive.conf"
check "systemd-analyze verify with the passive-mode drop-in" \
  env SYSTEMD_UNIT_PATH="$tmp/units:" systemd-analyze verify --man=no callvault.service

# Unit settings the issue asks for.
for setting in Type=notify KillSignal=SIGTERM 'ExecReload=/bin/kill -HUP $MAINPID' \
    AmbientCapabilities=CAP_NET_BIND_SERVICE ProtectSystem=strict \
    ReadWritePaths=/var/lib/callvault PrivateTmp=yes NoNewPrivileges=yes ProtectHome=yes \
    User=callvault; do
  check "unit sets $setting" grep -qxF "$setting" "$unit"
done
check "unit has no CAP_NET_RAW (only the passive drop-in adds it)" \
  bash -c "! grep -v '^#' '$unit' | grep -q CAP_NET_RAW && grep -q '^AmbientCapabilities=.*CAP_NET_RAW' '$root/contrib/systemd/passive.conf'"
drain="$("$bin" config-reference --format toml | sed -n 's/^#drain_timeout_s = \([0-9]*\).*/\1/p')"
stop="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")"
check "TimeoutStopSec=$stop > 2 x drain_timeout_s ($drain) + 30" test "$stop" -gt $((2 * drain + 30))
nofile="$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$unit")"
check "LimitNOFILE=$nofile holds the default RTP port range's 5,000 calls (4 fds each + 1,024)" \
  test "$nofile" -ge $((5000 * 4 + 1024))

# The packaged config file.
"$bin" config-reference --format toml --set 'node.data_dir="/var/lib/callvault"' > "$tmp/callvault.toml"
check "packaged callvault.toml passes check-config" "$bin" check-config "$tmp/callvault.toml"
check "packaged callvault.toml sets only node.data_dir" \
  bash -c "[ \"\$(grep -Ev '^(#|\\[|\$)' '$tmp/callvault.toml')\" = 'data_dir = \"/var/lib/callvault\"' ]"
keys="$("$bin" config-reference | grep -c '^| `')"
commented="$(grep -cE '^#[a-z0-9_]+ = ' "$tmp/callvault.toml")"
check "every key of the table is in it ($commented commented + 1 set, $keys in the table)" \
  test $((commented + 1)) -eq "$keys"

# Man pages.
"$bin" config-reference --format man8 > "$tmp/callvault.8"
"$bin" config-reference --format man5 > "$tmp/callvault.toml.5"
for page in callvault.8 callvault.toml.5; do
  check "man $page renders without warnings" bash -c \
    "out=\$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l '$tmp/$page' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
check "callvault(8) names every subcommand" bash -c \
  "for c in serve 'check\\\\-config' version 'config\\\\-reference' 'user add' 'token create' 'retention run'; do grep -q \"^\\.B callvault \$c\" '$tmp/callvault.8' || { echo missing \$c; exit 1; }; done"

echo "$failed failed"
[ "$failed" -eq 0 ]
