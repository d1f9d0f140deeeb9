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
declare -A MODE_FLAGS=([c$CONNECTIONS]="-c$CONNECTIONS")
MODES=(c$CONNECTIONS)
declare -A RPS P50 P99

print_setting "$@"
echo "threads=$THREADS"
measure_rounds
stop_all

echo
echo "medians of $ROUNDS rounds"
print_medians nginx
echo
for server in threaded-sync threaded-async; do
  check_target "$server rps / nginx at -c$CONNECTIONS" \
    "$(ratio "$(median_rps "c$CONNECTIONS" "$server")" "$(median_rps "c$CONNECTIONS" nginx)")" ">=" 0.5
done
