#!/usr/bin/env bash
# media_bench.sh — callvault's MediaEngine against a bare epoll+recvmmsg receiver, in one run.
#
#   E = engine CPU µs/packet ÷ baseline CPU µs/packet at 2,000 calls (4,000 streams × 50 pps =
#       200 k packets/s of 172 bytes)                                           goal ≤ 1.3
#   C = engine's highest zero-loss rate ÷ baseline's                           goal ≥ 0.8
# CPU is utime+stime of the receiver process (/proc/<pid>/stat) while the load runs plus 1 s of
# drain; packets are what the receiver counted.
# Highest zero-loss rate, two ways:
#   1. paced steps (RAMP pps per stream): a step counts when every packet sent was received
#      within 1 s of its end and the generator kept ≥ 95 % of the offered rate; otherwise the
#      step is "generator-bound" (the box, not the receiver, is the limit) and the ramp stops.
#      On loopback the sender pays most of the kernel's delivery work, so on a small box the
#      generator saturates first and this ramp cannot find the receiver's limit.
#   2. burst drain (the figure C uses when the ramp is generator-bound): the receiver is
#      SIGSTOPped, BURST packets per stream are queued in its socket buffers (no loss: the
#      buffers hold them), then it is SIGCONTed and times how long it takes to read them all —
#      its own throughput with the whole box, all packets accounted for (zero loss checked).
# Every command line is printed (+ ...). Bounded: ~2-3 min.
#
# Env: BUILD (release build dir, default build/h-media-rel), STREAMS (4000), PPS (50),
# E_SECONDS (10), STEP_SECONDS (5), RAMP ("50 75 100 150 200 300" pps per stream), THREADS (2),
# PORT_BASE (20000), BURST (100 packets per stream).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/h-media-rel}
STREAMS=${STREAMS:-4000}
PPS=${PPS:-50}
E_SECONDS=${E_SECONDS:-10}
STEP_SECONDS=${STEP_SECONDS:-5}
RAMP=${RAMP:-"50 75 100 150 200 300"}
THREADS=${THREADS:-2}
PORT_BASE=${PORT_BASE:-20000}
BURST=${BURST:-100}
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/media_bench.XXXXXX)
PID=""
cleanup() { [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

for b in rtp_load rtp_baseline_receiver media_engine_bench; do
  [[ -x $BUILD/bench/$b ]] || { echo "missing $BUILD/bench/$b (build the release tree with CALLVAULT_BENCH=ON)"; exit 1; }
done
ulimit -n "$(ulimit -Hn)"

echo "== media_bench $(date -u +%FT%TZ) on $(nproc) cores; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== NOTE: generator and receiver share these $(nproc) cores (and whatever else runs on the box);"
echo "==       loopback UDP charges most of the kernel's delivery work to the sender."
echo "== rmem_max=$(cat /proc/sys/net/core/rmem_max) fds=$(ulimit -n)"

cpu_us() { awk -v hz="$HZ" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }

# start_receiver NAME CMD... : starts it, waits for READY; sets PID.
start_receiver() {
  local name=$1; shift
  echo "+ $* > $TMP/$name.out"
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PID=$!
  for _ in $(seq 1 600); do
    grep -q READY "$TMP/$name.out" 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "$name did not become ready"; exit 1
}

# received NAME: asks the receiver for its counter.
received() {
  local name=$1 before
  before=$(grep -c received= "$TMP/$name.out" || true)
  kill -USR1 "$PID"
  for _ in $(seq 1 100); do
    [[ $(grep -c received= "$TMP/$name.out" || true) -gt $before ]] && break
    sleep 0.05
  done
  grep received= "$TMP/$name.out" | tail -1 | sed 's/.*received=\([0-9]*\).*/\1/'
}

# load NAME PPS SECONDS: runs the generator; prints "sent sent_pps offered_pps".
load() {
  local name=$1 pps=$2 secs=$3 out
  echo "+ $BUILD/bench/rtp_load --ports-file $TMP/$name.ports --streams $STREAMS --pps $pps --size 172 --seconds $secs" >&2
  out=$("$BUILD/bench/rtp_load" --ports-file "$TMP/$name.ports" --streams "$STREAMS" --pps "$pps" \
        --size 172 --seconds "$secs")
  echo "  $out" >&2
  echo "$out" | sed 's/.*offered_pps=\([0-9]*\) sent=\([0-9]*\) sent_pps=\([0-9]*\).*/\2 \3 \1/'
}

declare -A CPU_PER_PKT LOSS_E MAX_RATE STOP DRAIN_RATE DRAIN_LOSS RATE_E
measure() {
  local name=$1; shift
  start_receiver "$name" "$@"
  echo "-- $name: E phase, $STREAMS streams × $PPS pps for ${E_SECONDS}s"
  local r0 c0 r1 c1 sent sent_pps offered got
  r0=$(received "$name"); c0=$(cpu_us "$PID")
  read -r sent sent_pps offered < <(load "$name" "$PPS" "$E_SECONDS")
  sleep 1
  c1=$(cpu_us "$PID"); r1=$(received "$name")
  got=$((r1 - r0))
  CPU_PER_PKT[$name]=$(awk -v c=$((${c1%.*} - ${c0%.*})) -v n="$got" 'BEGIN { printf "%.3f", n ? c / n : 0 }')
  LOSS_E[$name]=$((sent - got))
  RATE_E[$name]=$sent_pps
  echo "   $name: sent=$sent received=$got lost=${LOSS_E[$name]} cpu=$(( (${c1%.*} - ${c0%.*}) / 1000 )) ms  => ${CPU_PER_PKT[$name]} µs/packet"
  MAX_RATE[$name]=0
  STOP[$name]="reached the top of the ramp"
  echo "-- $name: rate steps (pps per stream: $RAMP), ${STEP_SECONDS}s each"
  for pps in $RAMP; do
    r0=$(received "$name")
    read -r sent sent_pps offered < <(load "$name" "$pps" "$STEP_SECONDS")
    sleep 1
    r1=$(received "$name"); got=$((r1 - r0))
    local verdict
    if (( sent_pps * 100 < offered * 95 )); then
      verdict="generator-bound (sent $sent_pps of $offered pps)"
    elif (( got >= sent )); then
      verdict="zero loss"; MAX_RATE[$name]=$sent_pps
    else
      verdict="LOSS $((sent - got))"
    fi
    echo "   $name @ $offered pps offered: sent=$sent received=$got -> $verdict"
    if [[ $verdict != "zero loss" ]]; then STOP[$name]="stopped at $offered pps: $verdict"; break; fi
  done
  echo "-- $name: burst drain, $BURST packets per stream queued while stopped"
  r0=$(received "$name")
  echo "+ kill -STOP $PID"; kill -STOP "$PID"
  read -r sent sent_pps offered < <(load "$name" $((BURST * 20)) 0.05)
  echo $((r0 + sent)) > "$TMP/$name.ports.target"
  echo "+ kill -USR2 $PID; kill -CONT $PID"; kill -USR2 "$PID"; kill -CONT "$PID"
  for _ in $(seq 1 1400); do grep -q "^drain " "$TMP/$name.out" && break; sleep 0.05; done
  local line; line=$(grep "^drain " "$TMP/$name.out" | tail -1)
  echo "   $name: $line"
  DRAIN_RATE[$name]=$(echo "$line" | sed 's/.*rate_pps=\([0-9]*\).*/\1/')
  r1=$(received "$name"); DRAIN_LOSS[$name]=$((r0 + sent - r1))
  echo "   $name: queued=$sent received=$((r1 - r0)) lost=${DRAIN_LOSS[$name]} ($(grep received= "$TMP/$name.out" | tail -1))"
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

mkdir -p "$TMP/base" "$TMP/engine"
measure baseline "$BUILD/bench/rtp_baseline_receiver" --port-base "$PORT_BASE" --streams "$STREAMS" \
  --threads "$THREADS" --dir "$TMP/base" --ports-out "$TMP/baseline.ports" --flush-ms 200 --rcvbuf 1048576
measure engine "$BUILD/bench/media_engine_bench" --port-base "$PORT_BASE" --streams "$STREAMS" \
  --threads "$THREADS" --dir "$TMP/engine" --ports-out "$TMP/engine.ports" --flush-ms 200 --sync-ms 1000 --rcvbuf 1048576

echo "== results ($(nproc) cores shared by generator + receiver; load average $(cut -d' ' -f1-3 /proc/loadavg))"
for n in baseline engine; do
  echo "   $n: ${CPU_PER_PKT[$n]} µs/packet at $((STREAMS * PPS)) pps offered / ${RATE_E[$n]} pps achieved by the generator, lost ${LOSS_E[$n]}"
  echo "   $n: paced ramp max zero-loss ${MAX_RATE[$n]} pps (${STOP[$n]}); burst drain ${DRAIN_RATE[$n]} pps, lost ${DRAIN_LOSS[$n]}"
done
awk -v e="${CPU_PER_PKT[engine]}" -v b="${CPU_PER_PKT[baseline]}" \
  'BEGIN { printf "   E = %.2f (goal <= 1.3)   engine CPU/packet ÷ baseline CPU/packet\n", (b > 0 ? e / b : 0) }'
awk -v e="${MAX_RATE[engine]}" -v b="${MAX_RATE[baseline]}" \
  'BEGIN { if (b > 0) printf "   C(paced) = %.2f   engine ÷ baseline highest paced zero-loss rate\n", e / b; else print "   C(paced) = n/a: no paced step was receiver-bound (generator-bound first)" }'
awk -v e="${DRAIN_RATE[engine]:-0}" -v b="${DRAIN_RATE[baseline]:-0}" -v le="${DRAIN_LOSS[engine]}" -v lb="${DRAIN_LOSS[baseline]}" \
  'BEGIN { if (b > 0) printf "   C = %.2f (goal >= 0.8)   engine ÷ baseline zero-loss burst drain rate%s\n", e / b, (le + lb > 0 ? " — WARNING: loss in a drain" : ""); else print "   C = n/a" }'
