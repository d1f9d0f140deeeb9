#!/usr/bin/env bash
# Instructions per request of `csgi serve APP`, counted by callgrind.
#
#   bench/instructions.sh [APP]        APP defaults to hello
#
# callgrind counts instructions, not seconds, so the figure repeats whatever
# else the machine is doing. The server runs under callgrind twice, once for
# 6,400 and once for 19,200 requests (64 connections through
# bench_client_load, keep-alive); the difference of the two totals divided by
# 12,800 leaves out start-up, warm-up and shutdown.
source "$(dirname "$0")/lib.sh"
APP=${1:-hello}
LOAD=${LOAD:-$ROOT/build/bench/bench_client_load}
PORT=${PORT:-8131}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
[ -x "$LOAD" ] || cmake --build "$ROOT/build" --target bench_client_load >/dev/null
# Valgrind 3.19 cannot read clang-19's DWARF 5: count a copy without debug
# information (the symbol table still names the functions).
objcopy --strip-debug "$CSGI" "$WORK/csgi"

# total REQUESTS: the instructions the server executed while serving REQUESTS.
total() {
  local requests=$1 out="$WORK/callgrind.$1"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$WORK/csgi" serve "$APP" --host 127.0.0.1 --port "$PORT" --no-access-log --log-level warning \
    >/dev/null 2>"$WORK/valgrind.$1" &
  local pid=$!
  PIDS+=($pid)
  for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
  "$LOAD" "http://127.0.0.1:$PORT/" --concurrent 64 --connections 64 \
    --batches $((requests / 64)) --sequential 0 >/dev/null
  kill -INT "$pid"
  wait "$pid" || true
  PIDS=()
  awk '/^summary:/ {print $2}' "$out"
}

small=$(total 6400)
large=$(total 19200)
awk -v s="$small" -v l="$large" -v app="$APP" \
  'BEGIN { printf "%s: %.0f instructions per request (%d - %d over 12800 requests)\n", app, (l - s) / 12800, l, s }'
