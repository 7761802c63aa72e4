#!/usr/bin/env bash
# media_bench.sh — callvault's MediaEngine against a bare epoll+recvmmsg receiver, in one run.
#
#   E = engine CPU µs/packet ÷ baseline CPU µs/packet at 2,000 calls (4,000 streams × 50 pps =
#       200 k packets/s of 172 bytes)                                           goal ≤ 1.3
#   C = engine's highest zero-loss rate ÷ baseline's                           goal ≥ 0.8
# E: both receivers run side by side and one generator sends STREAMS streams to each
# (interleaved), so both see the same packets at the same times and the same neighbours on the
# box; CPU is each process's utime+stime (/proc/<pid>/stat) over the run plus 1 s of drain,
# divided by the packets it counted.
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
# PORT_BASE (20000), BURST (100 packets per stream), DRAINS (3; the best drain rate counts: the
# least disturbed by whatever else runs on the box), BATCH_SYNC_MIN (unset: the engine's default
# media.spool_batch_sync_min, i.e. one syncfs per round at this many streams; 0: one fdatasync
# per file, as before 2026-11-25).
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
DRAINS=${DRAINS:-3}
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/media_bench.XXXXXX)
declare -A PIDS
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; rm -rf "$TMP"; }
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
# thread_cpu_us PID COMM: CPU of the process's threads named COMM.
thread_cpu_us() {
  local t sum=0
  for t in /proc/"$1"/task/*; do
    [[ $(cat "$t/comm" 2>/dev/null) == "$2" ]] || continue
    sum=$(awk -v s="$sum" -v hz="$HZ" '{ print s + ($14 + $15) * 1000000 / hz }' "$t/stat")
  done
  echo "${sum%.*}"
}

# start_receiver NAME CMD... : starts it, waits for READY; sets PIDS[NAME].
start_receiver() {
  local name=$1; shift
  echo "+ $* > $TMP/$name.out"
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PIDS[$name]=$!
  for _ in $(seq 1 600); do
    grep -q READY "$TMP/$name.out" 2>/dev/null && return 0
    kill -0 "${PIDS[$name]}" 2>/dev/null || { cat "$TMP/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "$name did not become ready"; exit 1
}

# received NAME: asks the receiver for its counter.
received() {
  local name=$1 before
  before=$(grep -c received= "$TMP/$name.out" || true)
  kill -USR1 "${PIDS[$name]}"
  for _ in $(seq 1 100); do
    [[ $(grep -c received= "$TMP/$name.out" || true) -gt $before ]] && break
    sleep 0.05
  done
  grep received= "$TMP/$name.out" | tail -1 | sed 's/.*received=\([0-9]*\).*/\1/'
}

# load PORTS_FILE STREAMS PPS SECONDS: runs the generator; prints "sent sent_pps offered_pps".
load() {
  local ports=$1 streams=$2 pps=$3 secs=$4 out
  echo "+ $BUILD/bench/rtp_load --ports-file $ports --streams $streams --pps $pps --size 172 --seconds $secs" >&2
  out=$("$BUILD/bench/rtp_load" --ports-file "$ports" --streams "$streams" --pps "$pps" \
        --size 172 --seconds "$secs")
  echo "  $out" >&2
  echo "$out" | sed 's/.*offered_pps=\([0-9]*\) sent=\([0-9]*\) sent_pps=\([0-9]*\).*/\2 \3 \1/'
}

declare -A CPU_PER_PKT LOSS_E MAX_RATE STOP DRAIN_RATE DRAIN_LOSS DRAIN_CPU
e_phase() {
  echo "-- E: baseline and engine side by side, $STREAMS streams × $PPS pps each for ${E_SECONDS}s"
  paste -d'\n' "$TMP/baseline.ports" "$TMP/engine.ports" > "$TMP/both.ports"
  local n r0b r0e c0b c0e r1b r1e c1b c1e sent sent_pps offered
  r0b=$(received baseline); r0e=$(received engine)
  c0b=$(cpu_us "${PIDS[baseline]}"); c0e=$(cpu_us "${PIDS[engine]}")
  local s0 s1; s0=$(thread_cpu_us "${PIDS[engine]}" cv-media-sync)
  read -r sent sent_pps offered < <(load "$TMP/both.ports" $((2 * STREAMS)) "$PPS" "$E_SECONDS")
  sleep 1
  c1b=$(cpu_us "${PIDS[baseline]}"); c1e=$(cpu_us "${PIDS[engine]}")
  s1=$(thread_cpu_us "${PIDS[engine]}" cv-media-sync)
  r1b=$(received baseline); r1e=$(received engine)
  E_ACHIEVED=$((sent_pps / 2))
  for n in baseline engine; do
    local got cpu
    if [[ $n == baseline ]]; then got=$((r1b - r0b)); cpu=$(( ${c1b%.*} - ${c0b%.*} ));
    else got=$((r1e - r0e)); cpu=$(( ${c1e%.*} - ${c0e%.*} )); fi
    CPU_PER_PKT[$n]=$(awk -v c="$cpu" -v g="$got" 'BEGIN { printf "%.3f", g ? c / g : 0 }')
    LOSS_E[$n]=$((sent / 2 - got))
    echo "   $n: sent=$((sent / 2)) received=$got lost=${LOSS_E[$n]} cpu=$((cpu / 1000)) ms => ${CPU_PER_PKT[$n]} µs/packet"
  done
  SYNC_PER_PKT=$(awk -v c=$((s1 - s0)) -v g=$((r1e - r0e)) 'BEGIN { printf "%.3f", g ? c / g : 0 }')
  echo "   engine's sync thread (syncfs, or fdatasync of every file, with new data each second): $(( (s1 - s0) / 1000 )) ms => $SYNC_PER_PKT µs/packet of the above"
}

ramp() {
  local name=$1 r0 r1 got sent sent_pps offered verdict
  MAX_RATE[$name]=0
  STOP[$name]="reached the top of the ramp"
  echo "-- $name: paced steps (pps per stream: $RAMP), ${STEP_SECONDS}s each"
  for pps in $RAMP; do
    r0=$(received "$name")
    read -r sent sent_pps offered < <(load "$TMP/$name.ports" "$STREAMS" "$pps" "$STEP_SECONDS")
    sleep 1
    r1=$(received "$name"); got=$((r1 - r0))
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
}

drains() {
  local name=$1 pid=${PIDS[$1]} r0 r1 sent sent_pps offered
  DRAIN_RATE[$name]=0; DRAIN_LOSS[$name]=0; DRAIN_CPU[$name]=""
  for d in $(seq 1 "$DRAINS"); do
    echo "-- $name: burst drain $d/$DRAINS, $BURST packets per stream queued while stopped"
    r0=$(received "$name")
    echo "+ kill -STOP $pid"; kill -STOP "$pid"
    read -r sent sent_pps offered < <(load "$TMP/$name.ports" "$STREAMS" $((BURST * 20)) 0.05)
    echo $((r0 + sent)) > "$TMP/$name.ports.target"
    local before; before=$(grep -c "^drain " "$TMP/$name.out" || true)
    echo "+ kill -USR2 $pid; kill -CONT $pid"; kill -USR2 "$pid"; kill -CONT "$pid"
    for _ in $(seq 1 1400); do
      [[ $(grep -c "^drain " "$TMP/$name.out" || true) -gt $before ]] && break; sleep 0.05
    done
    local line rate; line=$(grep "^drain " "$TMP/$name.out" | tail -1)
    echo "   $name: $line"
    rate=$(echo "$line" | sed 's/.*rate_pps=\([0-9]*\).*/\1/')
    DRAIN_CPU[$name]+="$(echo "$line" | sed 's/.*cpu_us_per_packet=\([0-9.]*\).*/\1/') "
    r1=$(received "$name")
    DRAIN_LOSS[$name]=$((DRAIN_LOSS[$name] + r0 + sent - r1))
    (( rate > DRAIN_RATE[$name] )) && DRAIN_RATE[$name]=$rate
    echo "   $name: queued=$sent received=$((r1 - r0)) lost=$((r0 + sent - r1)) ($(grep received= "$TMP/$name.out" | tail -1))"
  done
}

mkdir -p "$TMP/base" "$TMP/engine"
start_receiver baseline "$BUILD/bench/rtp_baseline_receiver" --port-base "$PORT_BASE" --streams "$STREAMS" \
  --threads "$THREADS" --dir "$TMP/base" --ports-out "$TMP/baseline.ports" --flush-ms 200 --rcvbuf 1048576
start_receiver engine "$BUILD/bench/media_engine_bench" --port-base $((PORT_BASE + 2 * STREAMS + 1000)) \
  --streams "$STREAMS" --threads "$THREADS" --dir "$TMP/engine" --ports-out "$TMP/engine.ports" \
  --flush-ms 200 --sync-ms 1000 --rcvbuf 1048576 ${BATCH_SYNC_MIN:+--batch-sync-min "$BATCH_SYNC_MIN"}
e_phase
for n in baseline engine; do ramp "$n"; drains "$n"; done

echo "== results ($(nproc) cores shared by generator + receivers; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "   E phase: $((STREAMS * PPS)) pps offered to each receiver, $E_ACHIEVED pps each achieved by the generator"
for n in baseline engine; do
  echo "   $n: ${CPU_PER_PKT[$n]} µs/packet, lost ${LOSS_E[$n]}"
  echo "   $n: paced ramp max zero-loss ${MAX_RATE[$n]} pps (${STOP[$n]}); burst drain best ${DRAIN_RATE[$n]} pps of $DRAINS, lost ${DRAIN_LOSS[$n]}; drain CPU µs/packet: ${DRAIN_CPU[$n]}"
done
awk -v e="${CPU_PER_PKT[engine]}" -v b="${CPU_PER_PKT[baseline]}" \
  'BEGIN { printf "   E = %.2f (goal <= 1.3)   engine CPU/packet ÷ baseline CPU/packet, side by side\n", (b > 0 ? e / b : 0) }'
awk -v e="${CPU_PER_PKT[engine]}" -v s="$SYNC_PER_PKT" -v b="${CPU_PER_PKT[baseline]}" \
  'BEGIN { printf "   E without the sync thread = %.2f   (the baseline never syncs; %.3f µs/packet is durability)\n", (b > 0 ? (e - s) / b : 0), s }'
awk -v e="${MAX_RATE[engine]}" -v b="${MAX_RATE[baseline]}" \
  'BEGIN { if (b > 0) printf "   C(paced) = %.2f   engine ÷ baseline highest paced zero-loss rate\n", e / b; else print "   C(paced) = n/a: no paced step was receiver-bound (generator-bound first)" }'
awk -v e="${DRAIN_RATE[engine]:-0}" -v b="${DRAIN_RATE[baseline]:-0}" -v le="${DRAIN_LOSS[engine]}" -v lb="${DRAIN_LOSS[baseline]}" \
  'BEGIN { if (b > 0) printf "   C = %.2f (goal >= 0.8)   engine ÷ baseline best zero-loss burst drain rate%s\n", e / b, (le + lb > 0 ? " — WARNING: loss in a drain" : ""); else print "   C = n/a" }'
