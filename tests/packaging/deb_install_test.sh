#!/usr/bin/env bash
# The Debian package in a clean Debian 12 root (issue 20's acceptance; run by hand, as root, with
# the network: ~5 min the first time (debootstrap), ~1 min after: the base root is cached).
#
#   tests/packaging/deb_install_test.sh OLD.deb NEW.deb [--keep]
#
# OLD.deb and NEW.deb are two builds of callvault with different versions (scripts/package.sh,
# then scripts/package.sh --version <higher> --out build/deb-next). Steps, each checked:
#  1. a fresh copy of a minbase bookworm root (debootstrap'd once into /var/tmp/cv-pkgroot-base,
#     the host's Debian sources) at /var/tmp/cv-pkgroot, /proc /sys /dev bind-mounted;
#  2. `apt-get install ./callvault_*.deb` there (dependencies from Debian): user, data dir,
#     conffile, unit, man pages; then systemd and man-db for `systemd-analyze verify` and
#     `security` on the installed unit, sip-tester and curl for the test;
#  3. the config edited (loopback ports free on the host: the root shares its network);
#  4. the daemon started as the unit starts it: ExecStartPre then ExecStart read from the
#     installed unit, as User/Group with only the AmbientCapabilities (setpriv, no_new_privs),
#     LimitNOFILE (prlimit), UMask, and NOTIFY_SOCKET (READY=1 must arrive);
#  5. OPTIONS → 200 (sipp), /readyz → 200, one SIPREC call (sipp, tests/catalog/siprec_uac.xml)
#     → a recording and a catalog entry; SIGTERM → STOPPING=1, exit 0;
#  6. upgrade to NEW.deb → new version; the config edit, the recording (same SHA-256) and the
#     catalog entry are still there; the daemon starts again and is ready;
#  7. purge → every file the package listed is gone, /etc/callvault too; the data directory
#     (holding the recording) and the user are kept with a message; a second install purged
#     before any start removes its empty data directory and the user.
set -uo pipefail

if [ "$(id -u)" -ne 0 ]; then echo "deb_install_test.sh: run as root" >&2; exit 2; fi
if [ $# -lt 2 ]; then sed -n '2,26p' "$0"; exit 2; fi
old_deb="$(realpath "$1")"
new_deb="$(realpath "$2")"
keep=0
[ "${3:-}" = "--keep" ] && keep=1
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
base=/var/tmp/cv-pkgroot-base
root=/var/tmp/cv-pkgroot
failed=0
passed=0

check() {  # check "what" command...
  local what="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    echo "  ok   $what"; passed=$((passed + 1))
  else
    echo "  FAIL $what"; echo "$out" | tail -20 | sed 's/^/       /'; failed=$((failed + 1))
  fi
}
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive http_proxy="${http_proxy:-}" \
  https_proxy="${https_proxy:-}" "$@"; }
unmount_all() {
  for m in dev/pts dev sys proc; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
}
daemon_pid=""
notify_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
  [ -n "$notify_pid" ] && kill "$notify_pid" 2>/dev/null
  unmount_all
  if [ "$keep" = 0 ] && [ "$failed" = 0 ]; then rm -rf "$root"; else echo "kept $root"; fi
}
trap cleanup EXIT

# --- 1. a clean root ----------------------------------------------------------------------
mirror="$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)}"
if [ ! -x "$base/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
  echo "debootstrap --variant=minbase bookworm $base $mirror"
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$mirror" >/tmp/cv-debootstrap.log 2>&1 ||
    { echo "debootstrap failed: /tmp/cv-debootstrap.log"; exit 1; }
fi
unmount_all
rm -rf "$root"
cp -a "$base" "$root"
mount --bind /proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then   # updates and security, as the build host
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  rm -f "$root/etc/apt/sources.list"
  mkdir -p "$root/usr/share/keyrings"
  cp -n /usr/share/keyrings/debian-archive-keyring.gpg "$root/usr/share/keyrings/" 2>/dev/null
fi
echo "root: $root ($(cat "$root/etc/debian_version"))"
check "no callvault in the clean root" bash -c "! chroot '$root' dpkg -s callvault"
check "apt-get update" in_root apt-get update -q

# --- 2. install -----------------------------------------------------------------------------
mkdir -p "$root/root/debs/old" "$root/root/debs/new" "$root/root/test"
cp "$old_deb" "$root/root/debs/old/"
cp "$new_deb" "$root/root/debs/new/"
old_version="$(dpkg-deb -f "$old_deb" Version)"
new_version="$(dpkg-deb -f "$new_deb" Version)"
check "the two packages have different versions ($old_version, $new_version)" \
  dpkg --compare-versions "$new_version" gt "$old_version"
check "apt-get install ./callvault_*.deb (dependencies from Debian)" \
  in_root sh -c "cd /root/debs/old && apt-get install -y -q ./callvault_*.deb"
check "installed version is $old_version" \
  test "$(chroot "$root" dpkg-query -W -f='${Version}' callvault)" = "$old_version"
check "system user callvault" in_root sh -c 'getent passwd callvault | grep -q ":/var/lib/callvault:/usr/sbin/nologin$"'
check "/var/lib/callvault is callvault:callvault 0750" \
  test "$(chroot "$root" stat -c '%U:%G %a' /var/lib/callvault)" = "callvault:callvault 750"
check "/etc/callvault/callvault.toml is a conffile" \
  in_root sh -c "dpkg-query -W -f='\${Conffiles}' callvault | grep -q /etc/callvault/callvault.toml"
check "the packaged config passes check-config" \
  in_root /usr/bin/callvault check-config /etc/callvault/callvault.toml
check "man pages callvault(8), callvault.toml(5) installed" \
  test -f "$root/usr/share/man/man8/callvault.8.gz" -a -f "$root/usr/share/man/man5/callvault.toml.5.gz"
check "monitoring kit installed" \
  test -f "$root/usr/share/callvault/monitoring/callvault.rules.yml" -a \
       -f "$root/usr/share/callvault/monitoring/callvault-dashboard.json"
check "apt-get install systemd man-db sip-tester curl (test tools)" \
  in_root apt-get install -y -q --no-install-recommends systemd man-db sip-tester curl
unit=/lib/systemd/system/callvault.service
check "systemd-analyze verify $unit" in_root systemd-analyze verify "$unit"
echo "  systemd-analyze security --offline=true (in the root):"
in_root systemd-analyze security --offline=true --no-pager "$unit" 2>&1 | tail -1 | sed 's/^/       /'

# --- 3. config: loopback ports that are free on the host --------------------------------------
read -r sip_port http_port rtp_lo <<<"$(python3 - <<'PY'
import socket
def free(kind):
    s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
sip = free(socket.SOCK_DGRAM)
for lo in range(44000, 60000, 128):
    try:
        socks = []
        for p in range(lo, lo + 128):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); socks.append(s); s.bind(("127.0.0.1", p))
        break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
print(sip, free(socket.SOCK_STREAM), lo)
PY
)"
conf="$root/etc/callvault/callvault.toml"
sed -i \
  -e "s|^#listen = \[\"udp:0.0.0.0:5060\", \"tcp:0.0.0.0:5060\"\]|listen = [\"udp:127.0.0.1:$sip_port\", \"tcp:127.0.0.1:$sip_port\"]|" \
  -e "s|^#port = 8080$|port = $http_port|" \
  -e "s|^#ipv4_address = \"0.0.0.0\"$|ipv4_address = \"127.0.0.1\"|" \
  -e "s|^#port_min = 20000$|port_min = $rtp_lo|" \
  -e "s|^#port_max = 39999$|port_max = $((rtp_lo + 63))|" \
  -e "s|^#drain_timeout_s = 30$|drain_timeout_s = 5|" "$conf"
check "config edited: SIP 127.0.0.1:$sip_port, HTTP $http_port, RTP $rtp_lo-$((rtp_lo + 63))" \
  bash -c "grep -q '^port = $http_port\$' '$conf' && grep -q '^listen = \[\"udp:127.0.0.1:$sip_port\"' '$conf' && chroot '$root' callvault check-config /etc/callvault/callvault.toml"
conf_sum="$(sha256sum < "$conf")"

# --- 4. the daemon as the unit starts it ---------------------------------------------------
unit_value() { sed -n "s/^$1=//p" "$root$unit" | tail -1; }
user="$(unit_value User)"; group="$(unit_value Group)"
nofile="$(unit_value LimitNOFILE)"; umask_value="$(unit_value UMask)"
caps="$(unit_value AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g')"
exec_pre="$(unit_value ExecStartPre)"; exec_start="$(unit_value ExecStart)"
echo "  unit: User=$user Group=$group LimitNOFILE=$nofile UMask=$umask_value caps=+$caps"
# systemd (PID 1) may raise the hard limit; here the test cannot go above its own hard limit.
hard="$(ulimit -Hn)"
if [ "$hard" != unlimited ] && [ "$nofile" -gt "$hard" ]; then
  echo "        LimitNOFILE=$nofile is above this shell's hard limit $hard: applying $hard"
  nofile="$hard"
fi
echo "        ExecStartPre=$exec_pre"
echo "        ExecStart=$exec_start"
notify_sock=/run/cv-notify.sock
notify_log="$root/run/cv-notify.log"
start_notify_listener() {
  rm -f "$root$notify_sock" "$notify_log"
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$root$notify_sock" "$notify_log" &
  notify_pid=$!
  sleep 0.3
}
run_as_unit() {  # the unit's credentials, capabilities and limits around a command
  in_root /bin/sh -c "umask $umask_value; exec prlimit --nofile=$nofile:$nofile \
    setpriv --reuid=$user --regid=$group --init-groups --no-new-privs \
    --inh-caps=-all,+$caps --ambient-caps=-all,+$caps --bounding-set=-all,+$caps \
    /usr/bin/env NOTIFY_SOCKET=$notify_sock $*"
}
start_daemon() {
  start_notify_listener
  check "ExecStartPre as the unit runs it" run_as_unit "$exec_pre"
  run_as_unit "$exec_start" >"$root/run/cv-serve.log" 2>&1 &
  daemon_pid=$!
  check "READY=1 on NOTIFY_SOCKET" bash -c \
    "for i in \$(seq 100); do grep -q 'READY=1' '$notify_log' 2>/dev/null && exit 0; sleep 0.2; done; cat '$root/run/cv-serve.log'; exit 1"
}
stop_daemon() {
  local pid
  pid="$(pgrep -f "^/usr/bin/callvault serve -c /etc/callvault/callvault.toml" | head -1)"
  kill -TERM "$pid"
  wait "$daemon_pid"
  local rc=$?
  check "SIGTERM: drained, exit $rc" test "$rc" = 0
  check "STOPPING=1 on NOTIFY_SOCKET" grep -q 'STOPPING=1' "$notify_log"
  sed 's/^/       notify: /' "$notify_log"
  daemon_pid=""
  kill "$notify_pid" 2>/dev/null; wait "$notify_pid" 2>/dev/null; notify_pid=""
}
start_daemon
pid="$(pgrep -f "^/usr/bin/callvault serve -c /etc/callvault/callvault.toml" | head -1)"
check "runs as $user with only cap_net_bind_service, no_new_privs, nofile $nofile" bash -c "
  grep -q \"^Uid:.*\$(chroot '$root' id -u $user)\" /proc/$pid/status &&
  grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$pid/status &&
  test \"\$(grep ^CapEff /proc/$pid/status | awk '{print \$2}')\" = 0000000000000400 &&
  test \"\$(grep ^CapBnd /proc/$pid/status | awk '{print \$2}')\" = 0000000000000400 &&
  grep -q \"Max open files *$nofile\" /proc/$pid/limits"

# --- 5. OPTIONS, /readyz, one SIPREC call ---------------------------------------------------
cp "$repo/tests/sipp/options.xml" "$repo/tests/catalog/siprec_uac.xml" "$root/root/test/"
sox -n -r 8000 -c 1 -e a-law -t raw "$root/root/test/cv_tone.alaw" synth 5 sine 1000 vol 0.3 2>/dev/null ||
  head -c 40000 /dev/zero | tr '\0' '\325' > "$root/root/test/cv_tone.alaw"
check "OPTIONS → 200 (sipp)" in_root sh -c \
  "cd /root/test && sipp -sf options.xml -m 1 -i 127.0.0.1 -p 0 -timeout 10 -timeout_error -nostdin 127.0.0.1:$sip_port >/dev/null"
check "/readyz → 200" in_root curl -sf "http://127.0.0.1:$http_port/readyz"
check "one SIPREC call (sipp siprec_uac.xml, 2 s of RTP)" in_root sh -c \
  "cd /root/test && sipp -sf siprec_uac.xml -m 1 -d 2000 -i 127.0.0.1 -p 0 -mi 127.0.0.1 -mp $((rtp_lo + 64)) \
   -trace_logs -log_file calls.log -timeout 60 -timeout_error -nostdin 127.0.0.1:$sip_port >/dev/null && grep -q '^ended ' calls.log"
check "a recording: manifest + audio under /var/lib/callvault/recordings" bash -c \
  "for i in \$(seq 100); do n=\$(find '$root/var/lib/callvault/recordings' -name '*.json' | wc -l); [ \"\$n\" = 1 ] && exit 0; sleep 0.2; done; exit 1"
manifest="$(find "$root/var/lib/callvault/recordings" -name '*.json' | head -1)"
audio="$(find "$root/var/lib/callvault/recordings" -name '*.wav' | head -1)"
check "the audio is owned by callvault, mode 0640 (UMask)" \
  test "$(chroot "$root" stat -c '%U %a' "${audio#"$root"}")" = "callvault 640"
audio_sum="$(sha256sum < "$audio")"
echo 'a long test password' | run_as_unit /usr/bin/callvault user add --name admin --role admin \
  -c /etc/callvault/callvault.toml >/dev/null
token="$(run_as_unit /usr/bin/callvault token create --user admin -c /etc/callvault/callvault.toml)"
calls_in_catalog() {
  in_root curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$http_port/api/v1/calls" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))'
}
n=0
for _ in $(seq 50); do n="$(calls_in_catalog 2>/dev/null)"; [ "$n" = 1 ] && break; sleep 0.2; done
check "the call is in the catalog (GET /api/v1/calls: $n)" test "$n" = 1
stop_daemon

# --- 6. upgrade ----------------------------------------------------------------------------------
check "apt-get install ./callvault_<new>.deb (upgrade)" in_root sh -c \
  "cd /root/debs/new && apt-get install -y -q -o Dpkg::Options::=--force-confold ./callvault_*.deb"
check "installed version is now $new_version" \
  test "$(chroot "$root" dpkg-query -W -f='${Version}' callvault)" = "$new_version"
check "the edited config is kept" test "$(sha256sum < "$conf")" = "$conf_sum"
check "the recording is kept (same SHA-256)" test "$(sha256sum < "$audio" 2>/dev/null)" = "$audio_sum"
check "its manifest is kept" test -f "$manifest"
start_daemon
check "/readyz → 200 after the upgrade" in_root curl -sf "http://127.0.0.1:$http_port/readyz"
check "the call is still in the catalog" test "$(calls_in_catalog)" = 1
stop_daemon

# --- 7. purge ------------------------------------------------------------------------------------
dpkg-deb -c "$new_deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' > "$root/root/package-files"
in_root apt-get purge -y -q callvault >"$root/root/purge.log" 2>&1
check "apt-get purge asks nothing and succeeds" bash -c "! chroot '$root' dpkg -s callvault 2>/dev/null | grep -q '^Status: install'"
check "every file of the package is gone" bash -c \
  "left=0; while read -r f; do [ -e '$root'\"\$f\" ] && { echo \"left: \$f\"; left=1; }; done < '$root/root/package-files'; exit \$left"
check "/etc/callvault is gone" test ! -e "$root/etc/callvault"
check "dpkg forgot the package (no config-files state)" bash -c "! chroot '$root' dpkg-query -W callvault 2>/dev/null"
check "the data directory with the recording is kept, and said so" bash -c \
  "test -f '$audio' && grep -q 'kept /var/lib/callvault' '$root/root/purge.log'"
check "the user callvault is kept with it" in_root getent passwd callvault
# A package purged before it ever ran leaves nothing: its empty data dir and the user go.
rm -rf "$root/var/lib/callvault"
in_root deluser --system --quiet callvault >/dev/null 2>&1
check "reinstall, purge before any start" in_root sh -c \
  "cd /root/debs/new && apt-get install -y -q ./callvault_*.deb >/dev/null && apt-get purge -y -q callvault >/dev/null"
check "… removes the empty data directory and the user" bash -c \
  "test ! -e '$root/var/lib/callvault' && ! chroot '$root' getent passwd callvault"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
