#!/usr/bin/env bash
# System calls and context switches per request of `csgi serve APP`, counted
# by the kernel's tracepoints (perf stat), on the load of bench/instructions.sh
# (64 keep-alive connections through bench_client_load).
#
#   bench/syscalls.sh [APP]        APP defaults to hello; REQUESTS=128000
#
# Like instructions, these are counts, not times: they repeat on a busy
# machine. On a virtual machine a system call costs far more than the code
# around it, so one more per request shows in the throughput before it shows
# anywhere else: a wait that re-armed epoll with an epoll_ctl on every request
# cost hello-sync 17% of its requests per second. Needs perf (Debian's
# linux-perf) and permission to read tracepoints (root).
source "$(dirname "$0")/lib.sh"
APP=${1:-hello}
REQUESTS=${REQUESTS:-128000}
LOAD=${LOAD:-$ROOT/build/bench/bench_client_load}
PORT=${PORT:-8132}
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)"; exit 1; }
[ -x "$LOAD" ] || cmake --build "$ROOT/build" --target bench_client_load >/dev/null

taskset -c "$SERVER_CPU" "$CSGI" serve "$APP" --host 127.0.0.1 --port "$PORT" --no-access-log \
  --log-level warning >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$PORT"
# A warm-up, so that start-up and the first connections stay out of the count.
taskset -c "$LOAD_CPU" "$LOAD" "http://127.0.0.1:$PORT/" --concurrent 64 --connections 64 \
  --batches 100 --sequential 0 >/dev/null

events=syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_recvfrom
events+=,syscalls:sys_enter_sendto,syscalls:sys_enter_futex,syscalls:sys_enter_read
events+=,syscalls:sys_enter_write,context-switches
perf stat -x, -e "$events" -p "${PIDS[0]}" -o "$WORK/counts" -- \
  taskset -c "$LOAD_CPU" "$LOAD" "http://127.0.0.1:$PORT/" --concurrent 64 --connections 64 \
  --batches $((REQUESTS / 64)) --sequential 0 >/dev/null
echo "$APP: per request, over $REQUESTS requests (64 keep-alive connections)"
awk -F, -v n="$REQUESTS" '$3 ~ /:|context/ && $1 ~ /^[0-9]+$/ {
  name = $3; sub(/^syscalls:sys_enter_/, "", name)
  printf "  %-18s %8.3f\n", name, $1 / n
}' "$WORK/counts"
