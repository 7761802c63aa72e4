#!/usr/bin/env bash
# passive_bench.sh — passive recording's media path against the active recorder's, in one run
# (issue 19).
#
#   P = passive CPU µs/packet ÷ active CPU µs/packet at 2,000 calls (4,000 streams × 50 pps =
#       200 k packets/s of 172 bytes), both recording the same packets at the same time
#   R = passive capture's highest zero-drop rate (paced steps), packets/s
#
# Topology: two network namespaces made here, `gen` (rtp_load) and `rec`, joined by a veth pair
# (MTU 1500, like the NIC a SPAN port feeds). In `rec`: the active receiver media_engine_bench
# binds 10.90.0.2 and its sockets receive the packets; passive_engine_bench captures rec's eth0
# (libpcap, the [passive] default ring, TPACKET_V3 blocks as serve opens it) and, bound to the same endpoints as
# the follower would bind them from the primary's 2xx, records the same packets through
# MediaRouter → PassiveEngineSink → MediaEngine::Inject into passive streams. CPU is each
# process's utime+stime (/proc/<pid>/stat) over the run plus 1 s of drain, divided by the
# packets it recorded.
# Zero-drop rate: paced steps (RAMP pps per stream); a step counts when the passive side
# recorded every packet sent and libpcap reports no drop (ring or interface), and the generator
# kept ≥ 95 % of the offered rate (otherwise the step is "generator-bound": the box is the limit,
# and the ramp stops there).
# Every command line is printed (+ ...). Bounded: about 2 min. Needs root (namespaces, capture).
#
# Env: BUILD (release build dir, default build/release), STREAMS (4000), PPS (50), E_SECONDS
# (10), STEP_SECONDS (5), RAMP ("50 75 100 150 200" pps per stream), THREADS (2), BUFFER_MB (64,
# the [passive] default).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
STREAMS=${STREAMS:-4000}
PPS=${PPS:-50}
E_SECONDS=${E_SECONDS:-10}
STEP_SECONDS=${STEP_SECONDS:-5}
RAMP=${RAMP:-"50 75 100 150 200"}
THREADS=${THREADS:-2}
BUFFER_MB=${BUFFER_MB:-64}
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/passive_bench.XXXXXX)
chmod 755 "$TMP"
NS_GEN=cvpb$$-gen
NS_REC=cvpb$$-rec
GEN_IP=10.90.0.1
REC_IP=10.90.0.2
declare -A PIDS
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  ip netns del "$NS_GEN" 2>/dev/null || true
  ip netns del "$NS_REC" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

for b in rtp_load media_engine_bench passive_engine_bench; do
  [[ -x $BUILD/bench/$b ]] || { echo "missing $BUILD/bench/$b (build the release tree with CALLVAULT_BENCH=ON)"; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces, capture)"; exit 1; }
ulimit -n "$(ulimit -Hn)"

run() { echo "+ $*"; "$@"; }
run ip netns add "$NS_GEN"
run ip netns add "$NS_REC"
run ip link add eth0 netns "$NS_GEN" type veth peer name eth0 netns "$NS_REC"
run ip -n "$NS_GEN" addr add "$GEN_IP/24" dev eth0
run ip -n "$NS_REC" addr add "$REC_IP/24" dev eth0
for ns in "$NS_GEN" "$NS_REC"; do
  run ip -n "$ns" link set lo up
  run ip -n "$ns" link set eth0 up
done

echo "== passive_bench $(date -u +%FT%TZ) on $(nproc) cores; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== NOTE: generator and both receivers share these $(nproc) cores (and whatever else runs on the box)."

cpu_us() { awk -v hz="$HZ" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }

# start_receiver NAME CMD... : starts it, waits for READY; sets PIDS[NAME].
start_receiver() {
  local name=$1; shift
  echo "+ $* > $TMP/$name.out"
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PIDS[$name]=$!
  for _ in $(seq 1 600); do
    grep -q READY "$TMP/$name.out" 2>/dev/null && { grep READY "$TMP/$name.out"; return 0; }
    kill -0 "${PIDS[$name]}" 2>/dev/null || { cat "$TMP/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "$name did not become ready"; exit 1
}

# counters NAME: asks the receiver for its counters; prints "received drops".
counters() {
  local name=$1 before line
  before=$(grep -c received= "$TMP/$name.out" || true)
  kill -USR1 "${PIDS[$name]}"
  for _ in $(seq 1 100); do
    [[ $(grep -c received= "$TMP/$name.out" || true) -gt $before ]] && break
    sleep 0.05
  done
  line=$(grep received= "$TMP/$name.out" | tail -1)
  echo "$(echo "$line" | sed 's/.*received=\([0-9]*\).*/\1/') $(echo "$line" | sed 's/.*socket_drops=\([0-9]*\).*/\1/')"
}

# load PPS SECONDS: the generator in `gen` towards the active receiver's ports; prints
# "sent sent_pps offered_pps".
load() {
  local pps=$1 secs=$2 out
  local cmd=(ip netns exec "$NS_GEN" "$BUILD/bench/rtp_load" --ports-file "$TMP/active.ports"
             --streams "$STREAMS" --pps "$pps" --size 172 --seconds "$secs" --dst "$REC_IP")
  echo "+ ${cmd[*]}" >&2
  out=$("${cmd[@]}")
  echo "  $out" >&2
  echo "$out" | sed 's/.*offered_pps=\([0-9]*\) sent=\([0-9]*\) sent_pps=\([0-9]*\).*/\2 \3 \1/'
}

mkdir -p "$TMP/active" "$TMP/passive"
start_receiver active ip netns exec "$NS_REC" "$BUILD/bench/media_engine_bench" --address "$REC_IP" \
  --port-base 20000 --streams "$STREAMS" --threads "$THREADS" --dir "$TMP/active" \
  --ports-out "$TMP/active.ports" --flush-ms 200 --sync-ms 1000 --rcvbuf 1048576
start_receiver passive ip netns exec "$NS_REC" "$BUILD/bench/passive_engine_bench" \
  --ports-in "$TMP/active.ports" --streams "$STREAMS" --threads "$THREADS" --dir "$TMP/passive" \
  --ports-out "$TMP/passive.ports" --interface eth0 --address "$REC_IP" --buffer-mb "$BUFFER_MB"

echo "-- P: active and passive side by side, $STREAMS streams × $PPS pps for ${E_SECONDS}s"
declare -A R0 R1 D0 D1 C0 C1 CPU_PER_PKT
for n in active passive; do read -r R0[$n] D0[$n] < <(counters $n); C0[$n]=$(cpu_us "${PIDS[$n]}"); done
read -r sent sent_pps offered < <(load "$PPS" "$E_SECONDS")
sleep 1
for n in active passive; do read -r R1[$n] D1[$n] < <(counters $n); C1[$n]=$(cpu_us "${PIDS[$n]}"); done
for n in active passive; do
  got=$(( R1[$n] - R0[$n] )); cpu=$(( ${C1[$n]%.*} - ${C0[$n]%.*} ))
  CPU_PER_PKT[$n]=$(awk -v c="$cpu" -v g="$got" 'BEGIN { printf "%.3f", g ? c / g : 0 }')
  echo "   $n: sent=$sent received=$got lost=$((sent - got)) drops=$(( D1[$n] - D0[$n] )) cpu=$((cpu / 1000)) ms => ${CPU_PER_PKT[$n]} µs/packet"
done
P_ACHIEVED=$sent_pps

echo "-- R: passive capture, paced steps (pps per stream: $RAMP), ${STEP_SECONDS}s each"
MAX_RATE=0
R_AT_LEAST=""
STOP="reached the top of the ramp"
for pps in $RAMP; do
  read -r r0 d0 < <(counters passive)
  read -r a0 _ < <(counters active)
  read -r sent sent_pps offered < <(load "$pps" "$STEP_SECONDS")
  sleep 1
  read -r r1 d1 < <(counters passive)
  read -r a1 _ < <(counters active)
  got=$((r1 - r0)); drops=$((d1 - d0))
  if (( sent_pps * 100 < offered * 95 )); then
    verdict="generator-bound (sent $sent_pps of $offered pps)"
    if (( got >= sent && drops == 0 )); then
      MAX_RATE=$sent_pps; R_AT_LEAST=">= "
      verdict+=", zero drop: the capture's limit is above what this box can generate"
    fi
  elif (( got >= sent && drops == 0 )); then
    verdict="zero drop"; MAX_RATE=$sent_pps
  else
    verdict="DROP: $((sent - got)) not recorded, $drops dropped by the capture"
  fi
  echo "   passive @ $offered pps offered: sent=$sent recorded=$got capture_drops=$drops (active recorded $((a1 - a0))) -> $verdict"
  if [[ $verdict != "zero drop" ]]; then STOP="stopped at $offered pps: $verdict"; break; fi
done

echo "== results ($(nproc) cores shared by generator + receivers; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "   P phase: $((STREAMS * PPS)) pps offered, $P_ACHIEVED pps achieved by the generator"
for n in active passive; do echo "   $n: ${CPU_PER_PKT[$n]} µs/packet"; done
awk -v p="${CPU_PER_PKT[passive]}" -v a="${CPU_PER_PKT[active]}" \
  'BEGIN { printf "   P = %.2f   passive CPU/packet ÷ active CPU/packet, same packets side by side\n", (a > 0 ? p / a : 0) }'
echo "   R = $R_AT_LEAST$MAX_RATE pps   passive capture's highest zero-drop paced rate ($STOP)"
