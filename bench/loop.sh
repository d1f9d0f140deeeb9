#!/usr/bin/env bash
# The loop server against nginx and uvicorn, in one run.
#
#   bench/loop.sh            ROUNDS=3 DURATION=5 by default
#
# csgi `hello` and `hello-sync` on the loop server (`hello-sync` twice: with the
# default scheduling of its sync thread, and with --sync-batch-scheduling,
# which matters here because the loop and the sync thread share CPU 0), nginx
# (one worker, `return
# 200` with the same JSON) and uvicorn (one worker, httptools, and uvloop as
# `uvicorn[standard]` would pick: the fastest Python set-up here) each pinned to
# CPU 0, wrk pinned to CPU 1; rounds interleaved; medians reported. Then the
# 10,000-connection burst and the memory per idle keep-alive connection.
source "$(dirname "$0")/lib.sh"
install_peers
ulimit -n "$(ulimit -Hn)"

CSGI_PORT=8101 SYNC_PORT=8102 NGINX_PORT=8103 UVICORN_PORT=8104 BATCH_PORT=8105
start_csgi $CSGI_PORT hello
start_csgi $SYNC_PORT hello-sync
start_csgi $BATCH_PORT hello-sync --sync-batch-scheduling
start_nginx $NGINX_PORT 1
start_uvicorn $UVICORN_PORT

declare -A PORT=([csgi]=$CSGI_PORT [csgi-sync]=$SYNC_PORT [csgi-batch]=$BATCH_PORT
                 [nginx]=$NGINX_PORT [uvicorn]=$UVICORN_PORT)
SERVERS=(nginx csgi csgi-sync csgi-batch uvicorn)
declare -A MODE_FLAGS=([c64]="-c64" [c256]="-c256" [c64-close]="-c64 close")
MODES=(c64 c256 c64-close)
declare -A RPS P50 P99

print_setting "$@"
measure_rounds
stop_all

echo
echo "medians of $ROUNDS rounds"
print_medians nginx
for mode in "${MODES[@]}"; do
  echo "$mode csgi/uvicorn rps: $(ratio "$(median_rps "$mode" csgi)" "$(median_rps "$mode" uvicorn)")"
done
echo
check_target "hello rps / nginx at -c64" "$(ratio "$(median_rps c64 csgi)" "$(median_rps c64 nginx)")" ">=" 1.0
check_target "hello p99 / nginx at -c64" "$(ratio "$(median_p99 c64 csgi)" "$(median_p99 c64 nginx)")" "<=" 1.5
check_target "hello-sync rps / nginx at -c64" \
  "$(ratio "$(median_rps c64 csgi-sync)" "$(median_rps c64 nginx)")" ">=" 0.9
check_target "hello-sync --sync-batch-scheduling rps / nginx at -c64" \
  "$(ratio "$(median_rps c64 csgi-batch)" "$(median_rps c64 nginx)")" ">=" 0.9
check_target "hello rps / uvicorn at -c64" "$(ratio "$(median_rps c64 csgi)" "$(median_rps c64 uvicorn)")" ">=" 2.5

echo
echo "burst: 10,000 connections at once, each GET /?delay_ms=1000, on the one loop thread"
start_csgi $CSGI_PORT hello
taskset -c "$LOAD_CPU" "$BURST" burst --port $CSGI_PORT --connections 10000 --target "/?delay_ms=1000" \
  | tee "$WORK/burst.out" || true
ok=$(grep -o 'ok=[0-9]*' "$WORK/burst.out" | cut -d= -f2)
slowest=$(grep -o 'slowest=[0-9.]*' "$WORK/burst.out" | cut -d= -f2)
longest=$(grep -o 'longest=[0-9.]*' "$WORK/burst.out" | cut -d= -f2)
opened=$(grep -o 'last_connected=[0-9.]*' "$WORK/burst.out" | cut -d= -f2)
check_target "burst: connections answered 200" "${ok:-0}" ">=" 10000
# From the start of the burst, the slowest answer includes the time the load
# generator needs to open 10,000 connections on its one core ($opened s here);
# from each connection's connect to its answer is what the server controls.
check_target "burst: slowest answer, from its connect (s)" "${longest:-99}" "<=" 1.5
check_target "burst: slowest answer, from the start of the burst (s)" "${slowest:-99}" "<=" 1.5
stop_all

echo
echo "memory per idle keep-alive connection (5,000 connections)"
start_csgi $CSGI_PORT hello --timeout-keep-alive 120
pid=${PIDS[-1]}
before=$(rss_kib "$pid")
taskset -c "$LOAD_CPU" "$BURST" hold --port $CSGI_PORT --connections 5000 --seconds 6 >"$WORK/hold.out" &
holder=$!
for _ in $(seq 1 200); do grep -q holding "$WORK/hold.out" 2>/dev/null && break; sleep 0.05; done
sleep 0.5
after=$(rss_kib "$pid")
cat "$WORK/hold.out"
per_connection=$(awk -v b="$before" -v a="$after" 'BEGIN { printf "%.2f", (a - b) / 5000 }')
echo "rss before=$before KiB after=$after KiB per connection=$per_connection KiB"
check_target "KiB per idle keep-alive connection" "$per_connection" "<=" 8
wait $holder || true
stop_all
