#!/usr/bin/env bash
# media_instructions.sh — user-space instructions per received packet of MediaEngine and of the
# bare baseline receiver (epoll + recvmmsg + buffered write), counted by valgrind's callgrind:
# a deterministic complement to media_bench.sh's E and C, which time CPU on a shared, noisy box.
#
# For each receiver: two callgrind runs. Each queues a warm-up burst of STREAMS × BURST packets
# (172 bytes) while the receiver is SIGSTOPped (the socket buffers hold it; read after SIGCONT,
# like the drains of media_bench.sh: full recvmmsg batches, no loss), so start-up and the one-time
# growth of the buffers are behind it, then zeroes the counters (callgrind_control -z). One run
# then receives BURSTS more such bursts, the other none (idle ticks only). Then
#   instructions/packet = (Ir with bursts − Ir without) ÷ packets received after the zeroing.
# Counts the receiver's own instructions (every thread, libc included), not the kernel's.
# Every command line is printed (+ ...). Bounded: ~1-2 min.
#
# Env: BUILD (release build dir, default build/release), STREAMS (200), BURST (250 packets per
# stream and burst), BURSTS (2), THREADS (2), PORT_BASE (41000), KEEP (set: keep the callgrind
# files and print their directory, for callgrind_annotate), CALLGRIND_ARGS (extra callgrind
# options, e.g. "--cache-sim=yes": the summary line of every event is then printed too).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
STREAMS=${STREAMS:-200}
BURST=${BURST:-250}
BURSTS=${BURSTS:-2}
THREADS=${THREADS:-2}
PORT_BASE=${PORT_BASE:-41000}
TMP=$(mktemp -d /tmp/media_instructions.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null
  if [[ -n ${KEEP:-} ]]; then echo "== kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

command -v valgrind >/dev/null || { echo "valgrind is required"; exit 1; }
for b in rtp_load rtp_baseline_receiver media_engine_bench; do
  [[ -x $BUILD/bench/$b ]] || { echo "missing $BUILD/bench/$b"; exit 1; }
done
ulimit -n "$(ulimit -Hn)"
echo "== media_instructions $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
  "streams=$STREAMS burst=$BURST bursts=$BURSTS threads=$THREADS"

# received OUT: asks the receiver ($PID) for its counter.
received() {
  local out=$1 before
  before=$(grep -c received= "$out" || true)
  kill -USR1 "$PID"
  for _ in $(seq 1 600); do
    [[ $(grep -c received= "$out" || true) -gt $before ]] && break
    sleep 0.1
  done
  grep received= "$out" | tail -1 | sed 's/.*received=\([0-9]*\).*/\1/'
}

# burst RUN R0: queues STREAMS × BURST packets while the receiver is stopped, waits until its
# counter reaches R0 + what was sent; prints the new counter.
burst() {
  local run=$1 r0=$2 s r=0
  echo "+ kill -STOP $PID; $BUILD/bench/rtp_load --ports-file $run/ports --streams $STREAMS --pps $((BURST * 20)) --size 172 --seconds 0.05; kill -CONT $PID" >&2
  kill -STOP "$PID"
  s=$("$BUILD/bench/rtp_load" --ports-file "$run/ports" --streams "$STREAMS" \
      --pps $((BURST * 20)) --size 172 --seconds 0.05 | sed 's/.* sent=\([0-9]*\) .*/\1/')
  kill -CONT "$PID"
  for _ in $(seq 1 300); do
    r=$(received "$run/out")
    (( r >= r0 + s )) && break
    sleep 0.2
  done
  (( r >= r0 + s )) || { echo "received $((r - r0)) of $s" >&2; exit 1; }
  echo "$r"
}

# measure NAME BURSTS: prints "<Ir> <packets received>".
measure() {
  local name=$1 bursts=$2 run=$TMP/$1.$2 port_base
  port_base=$PORT_BASE
  [[ $name == engine ]] && port_base=$((PORT_BASE + 2 * STREAMS + 1000))
  mkdir -p "$run/dir"
  local cmd=(valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --callgrind-out-file="$run/callgrind.out"
             "$BUILD/bench/$( [[ $name == engine ]] && echo media_engine_bench || echo rtp_baseline_receiver)"
             --port-base "$port_base" --streams "$STREAMS" --threads "$THREADS" --dir "$run/dir"
             --ports-out "$run/ports" --flush-ms 200 --rcvbuf 4194304)
  echo "+ ${cmd[*]}" >&2
  "${cmd[@]}" > "$run/out" 2> "$run/err" &
  PID=$!
  for _ in $(seq 1 1200); do
    grep -q READY "$run/out" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || { cat "$run/err" >&2; exit 1; }
    sleep 0.1
  done
  grep -q READY "$run/out" || { echo "$name did not become ready" >&2; exit 1; }
  local r0 r
  r0=$(received "$run/out")
  burst "$run" "$r0" > /dev/null  # warm-up: buffers grow to their burst size once
  sleep 0.5
  echo "+ callgrind_control -z $PID" >&2
  callgrind_control -z "$PID" > /dev/null 2>&1
  local start; start=$(received "$run/out")
  r0=$start
  for _ in $(seq 1 "$bursts"); do r0=$(burst "$run" "$r0"); done
  sleep 0.5  # a flush tick writes what the last burst left buffered
  r=$(received "$run/out")
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
  local ir
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$run/callgrind.out")
  [[ -n ${CALLGRIND_ARGS:-} ]] && echo "   $name, $bursts bursts: $(grep -m1 '^events:' "$run/callgrind.out")" \
    "= $(grep -m1 -E '^(summary|totals):' "$run/callgrind.out")" >&2
  echo "$ir $((r - start))"
}

declare -A PER_PACKET
for name in baseline engine; do
  read -r ir0 _ < <(measure "$name" 0)
  read -r ir1 got < <(measure "$name" "$BURSTS")
  PER_PACKET[$name]=$(awk -v a="$ir1" -v b="$ir0" -v g="$got" 'BEGIN { printf "%.0f", (a - b) / g }')
  echo "   $name: Ir idle=$ir0 with packets=$ir1 received=$got => ${PER_PACKET[$name]} instructions/packet"
done
awk -v e="${PER_PACKET[engine]}" -v b="${PER_PACKET[baseline]}" \
  'BEGIN { printf "== instructions/packet: engine %d, baseline %d, ratio %.2f\n", e, b, e / b }'
