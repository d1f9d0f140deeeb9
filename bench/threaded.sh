#!/usr/bin/env bash
# The threaded server against nginx, in one run.
#
#   bench/threaded.sh        ROUNDS=3 DURATION=5 THREADS=64 by default
#
# csgi `hello-sync` (a sync app on the connection's thread) and `hello` (an
# async app, a fresh event loop per request through asgi_to_wsgi) on the
# threaded server with --threads THREADS, so that all 64 wrk connections get a
# thread, and nginx (one worker, `return 200` with the same JSON); each server
# pinned to CPU 0, wrk to CPU 1; rounds interleaved; medians reported with the
# ratio to nginx (target: at least 0.5).
source "$(dirname "$0")/lib.sh"
install_peers
ulimit -n "$(ulimit -Hn)"

THREADS=${THREADS:-64}
CONNECTIONS=${CONNECTIONS:-64}
SYNC_PORT=8111 ASYNC_PORT=8112 NGINX_PORT=8113
start_csgi $SYNC_PORT hello-sync --server threaded --threads "$THREADS"
start_csgi $ASYNC_PORT hello --server threaded --threads "$THREADS"
start_nginx $NGINX_PORT 1

declare -A PORT=([nginx]=$NGINX_PORT [threaded-sync]=$SYNC_PORT [threaded-async]=$ASYNC_PORT)
SERVERS=(nginx threaded-sync threaded-async)
declare -A RPS P50 P99

echo "rounds=$ROUNDS duration=${DURATION}s connections=$CONNECTIONS threads=$THREADS" \
     "server cpu=$SERVER_CPU wrk cpu=$LOAD_CPU"
for round in $(seq 1 "$ROUNDS"); do
  for server in "${SERVERS[@]}"; do
    read -r rps p50 p99 errors < <(run_wrk "${PORT[$server]}" "$CONNECTIONS" /)
    printf 'round %d %-15s rps=%10.0f p50=%8.3fms p99=%8.3fms errors=%s\n' \
      "$round" "$server" "$rps" "$p50" "$p99" "$errors"
    RPS[$server]+="$rps "
    P50[$server]+="$p50 "
    P99[$server]+="$p99 "
  done
done
stop_all

echo
echo "medians of $ROUNDS rounds, -c$CONNECTIONS"
printf '%-15s %12s %10s %10s %10s\n' server rps p50_ms p99_ms rps/nginx
n_rps=$(median ${RPS[nginx]})
for server in "${SERVERS[@]}"; do
  rps=$(median ${RPS[$server]}) p50=$(median ${P50[$server]}) p99=$(median ${P99[$server]})
  printf '%-15s %12.0f %10.3f %10.3f %10s\n' "$server" "$rps" "$p50" "$p99" "$(ratio "$rps" "$n_rps")"
done
