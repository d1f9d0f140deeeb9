#!/usr/bin/env bash
# The loop server against nginx and uvicorn, in one run.
#
#   bench/loop.sh            ROUNDS=3 DURATION=5 by default
#
# csgi `hello` and `hello-sync` on the loop server, nginx (one worker, `return
# 200` with the same JSON) and uvicorn (one worker, httptools) each pinned to
# CPU 0, wrk pinned to CPU 1; rounds interleaved; medians reported. Then the
# 10,000-connection burst and the memory per idle keep-alive connection.
source "$(dirname "$0")/lib.sh"
install_peers
ulimit -n "$(ulimit -Hn)"

CSGI_PORT=8101 SYNC_PORT=8102 NGINX_PORT=8103 UVICORN_PORT=8104
start_csgi $CSGI_PORT hello
start_csgi $SYNC_PORT hello-sync
start_nginx $NGINX_PORT 1
start_uvicorn $UVICORN_PORT

declare -A PORT=([csgi]=$CSGI_PORT [csgi-sync]=$SYNC_PORT [nginx]=$NGINX_PORT [uvicorn]=$UVICORN_PORT)
SERVERS=(nginx csgi csgi-sync uvicorn)
declare -A MODE_FLAGS=([c64]="-c64" [c256]="-c256" [c64-close]="-c64 -H Connection:close")
MODES=(c64 c256 c64-close)
declare -A RPS P50 P99

echo "rounds=$ROUNDS duration=${DURATION}s server cpu=$SERVER_CPU wrk cpu=$LOAD_CPU"
for round in $(seq 1 "$ROUNDS"); do
  for mode in "${MODES[@]}"; do
    for server in "${SERVERS[@]}"; do
      read -r -a flags <<<"${MODE_FLAGS[$mode]}"
      conns=${flags[0]#-c}
      extra=("${flags[@]:1}")
      if ((${#extra[@]})); then extra=(-H "Connection: close"); fi
      read -r rps p50 p99 errors < <(run_wrk "${PORT[$server]}" "$conns" / "${extra[@]}")
      printf 'round %d %-10s %-8s rps=%10.0f p50=%8.3fms p99=%8.3fms errors=%s\n' \
        "$round" "$mode" "$server" "$rps" "$p50" "$p99" "$errors"
      RPS[$mode,$server]+="$rps "
      P50[$mode,$server]+="$p50 "
      P99[$mode,$server]+="$p99 "
    done
  done
done

echo
echo "medians of $ROUNDS rounds"
printf '%-10s %-10s %12s %10s %10s %14s %14s\n' mode server rps p50_ms p99_ms rps/nginx p99/nginx
for mode in "${MODES[@]}"; do
  n_rps=$(median ${RPS[$mode,nginx]}) n_p99=$(median ${P99[$mode,nginx]})
  for server in "${SERVERS[@]}"; do
    rps=$(median ${RPS[$mode,$server]}) p50=$(median ${P50[$mode,$server]}) p99=$(median ${P99[$mode,$server]})
    printf '%-10s %-10s %12.0f %10.3f %10.3f %14s %14s\n' "$mode" "$server" "$rps" "$p50" "$p99" \
      "$(ratio "$rps" "$n_rps")" "$(ratio "$p99" "$n_p99")"
  done
  echo "$mode csgi/uvicorn rps: $(ratio "$(median ${RPS[$mode,csgi]})" "$(median ${RPS[$mode,uvicorn]})")"
done
stop_all

echo
echo "burst: 10,000 connections at once, each GET /?delay_ms=1000, on the one loop thread"
start_csgi $CSGI_PORT hello
taskset -c "$LOAD_CPU" "$BURST" burst --port $CSGI_PORT --connections 10000 --target "/?delay_ms=1000" || true
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
awk -v b="$before" -v a="$after" 'BEGIN { printf "rss before=%d KiB after=%d KiB per connection=%.2f KiB\n", b, a, (a - b) / 5000 }'
wait $holder || true
stop_all
