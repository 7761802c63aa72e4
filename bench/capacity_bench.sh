#!/usr/bin/env bash
# capacity_bench.sh — concurrent calls recorded with zero loss: callvault's MediaEngine (two
# streams per call, one media.spool per call: issue 18) against the bare epoll+recvmmsg receiver
# (bench/rtp_baseline_receiver.cc), same generator (bench/rtp_load.cc), same run.
#
#   C = 2 × engine's highest zero-loss call count ÷ baseline's highest zero-loss stream count
#       (both in streams of G.711 20 ms: 50 packets/s of 172 bytes)
#
# Each receiver starts once with room for the largest step, one after the other on the same
# ports (the engine under `prlimit --nofile=NOFILE`, like the issue's box: its calls hold 3
# descriptors each here — two RTP sockets and the call's spool file; `callvault serve` adds the
# session log); each step sends to the first 2 × CALLS streams for STEP_SECONDS. A step counts when
# every packet sent was received within 1 s of its end and the generator kept ≥ 95 % of the
# offered rate; a step the generator could not keep up with is "generator-bound" — the box, not
# the receiver, is then the limit, and the ramp stops there for that receiver (the figure is a
# lower bound of its capacity; such a step is tried twice). Every command line is printed
# (+ ...). Bounded: ~1–3 min.
#
# Env: BUILD (release build dir, default build/release), CALL_STEPS ("500 1000 1500 2000 2500
# 3000 3500 4000 4500"), STEP_SECONDS (5), THREADS (2 I/O threads each), PORT_BASE (1100: below
# callvault's default RTP range and the kernel's ephemeral ports),
# NOFILE (20000).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
CALL_STEPS=${CALL_STEPS:-"500 1000 1500 2000 2500 3000 3500 4000 4500"}
STEP_SECONDS=${STEP_SECONDS:-5}
THREADS=${THREADS:-2}
PORT_BASE=${PORT_BASE:-1100}
NOFILE=${NOFILE:-20000}
TMP=$(mktemp -d /tmp/capacity_bench.XXXXXX)
declare -A PIDS
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

for b in rtp_load rtp_baseline_receiver media_engine_bench; do
  [[ -x $BUILD/bench/$b ]] || { echo "missing $BUILD/bench/$b (build the release tree with CALLVAULT_BENCH=ON)"; exit 1; }
done
command -v prlimit >/dev/null || { echo "prlimit (util-linux) is needed"; exit 1; }
MAX_CALLS=0
for c in $CALL_STEPS; do (( c > MAX_CALLS )) && MAX_CALLS=$c; done
STREAMS=$((2 * MAX_CALLS))
ulimit -n "$(ulimit -Hn)"
# The baseline holds 2 descriptors per stream (socket + file): it needs 2 × STREAMS + a few.
(( $(ulimit -n) >= 2 * STREAMS + 64 )) || { echo "ulimit -n $(ulimit -n) < $((2 * STREAMS + 64)) for the baseline"; exit 1; }

echo "== capacity_bench $(date -u +%FT%TZ) on $(nproc) cores; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== steps (calls): $CALL_STEPS; ${STEP_SECONDS}s each; engine under prlimit --nofile=$NOFILE"

start_receiver() {
  local name=$1; shift
  echo "+ $* > $TMP/$name.out"
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PIDS[$name]=$!
  for _ in $(seq 1 900); do
    grep -q READY "$TMP/$name.out" 2>/dev/null && return 0
    kill -0 "${PIDS[$name]}" 2>/dev/null || { cat "$TMP/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "$name did not become ready"; exit 1
}

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

# load PORTS_FILE STREAMS SECONDS: prints "sent sent_pps offered_pps".
load() {
  local ports=$1 streams=$2 secs=$3 out
  echo "+ $BUILD/bench/rtp_load --ports-file $ports --streams $streams --pps 50 --size 172 --seconds $secs" >&2
  out=$("$BUILD/bench/rtp_load" --ports-file "$ports" --streams "$streams" --pps 50 --size 172 \
        --seconds "$secs")
  echo "  $out" >&2
  echo "$out" | sed 's/.*offered_pps=\([0-9]*\) sent=\([0-9]*\) sent_pps=\([0-9]*\).*/\2 \3 \1/'
}

declare -A BEST STOP
ramp() {
  local name=$1 r0 r1 got sent sent_pps offered verdict
  BEST[$name]=0
  STOP[$name]="reached the top of the ramp"
  echo "-- $name"
  for calls in $CALL_STEPS; do
    for try in 1 2; do  # a generator-bound step is tried once more (neighbours on the box)
      r0=$(received "$name")
      read -r sent sent_pps offered < <(load "$TMP/$name.ports" $((2 * calls)) "$STEP_SECONDS")
      sleep 1
      r1=$(received "$name"); got=$((r1 - r0))
      (( sent_pps * 100 < offered * 95 )) || break
    done
    if (( sent_pps * 100 < offered * 95 )); then
      verdict="generator-bound (sent $sent_pps of $offered pps)"
    elif (( got >= sent )); then
      verdict="zero loss"; BEST[$name]=$calls
    else
      verdict="LOSS $((sent - got))"
    fi
    echo "   $name @ $calls calls ($((2 * calls)) streams, $offered pps): sent=$sent received=$got -> $verdict"
    if [[ $verdict != "zero loss" ]]; then STOP[$name]="stopped at $calls calls: $verdict"; break; fi
  done
}

fds() { ls "/proc/$1/fd" | wc -l; }

mkdir -p "$TMP/base" "$TMP/engine"
# One receiver at a time, on the same ports (a shared box has few free ranges of ~18,000 ports).
start_receiver baseline "$BUILD/bench/rtp_baseline_receiver" --port-base "$PORT_BASE" --streams "$STREAMS" \
  --threads "$THREADS" --dir "$TMP/base" --ports-out "$TMP/baseline.ports" --flush-ms 200 --rcvbuf 1048576
echo "   descriptors open with $MAX_CALLS calls: baseline $(fds "${PIDS[baseline]}") (socket + file per stream)"
ramp baseline
kill -TERM "${PIDS[baseline]}"; wait "${PIDS[baseline]}" 2>/dev/null || true; unset 'PIDS[baseline]'
start_receiver engine prlimit --nofile="$NOFILE:$NOFILE" "$BUILD/bench/media_engine_bench" \
  --port-base "$PORT_BASE" --streams "$STREAMS" --threads "$THREADS" \
  --dir "$TMP/engine" --ports-out "$TMP/engine.ports" --flush-ms 200 --sync-ms 1000 --rcvbuf 1048576
echo "   descriptors open with $MAX_CALLS calls: engine $(fds "${PIDS[engine]}") (limit $NOFILE)"
echo "   engine spool files: $(find "$TMP/engine" -name media.spool | wc -l) media.spool for $MAX_CALLS calls"
ramp engine

echo "== results ($(nproc) cores shared by the generator and the receiver under test; load average $(cut -d' ' -f1-3 /proc/loadavg))"
for n in baseline engine; do
  echo "   $n: highest zero-loss ${BEST[$n]} calls = $((2 * BEST[$n])) streams of 50 pps (${STOP[$n]})"
done
awk -v e="${BEST[engine]}" -v b="${BEST[baseline]}" \
  'BEGIN { if (b > 0) printf "   C = %.2f   2 × engine calls ÷ baseline streams at zero loss (1.00 = as many as the bare receiver)\n", e / b; else print "   C = n/a (the baseline lost packets at the first step)" }'
