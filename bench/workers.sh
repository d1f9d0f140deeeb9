#!/usr/bin/env bash
# The multi-worker server against nginx, in one run.
#
#   bench/workers.sh            ROUNDS=3 DURATION=5 WORKERS=2 by default
#
# csgi `hello` with `--workers 2` (the supervisor and two loop-server workers on
# one shared socket) and nginx with `worker_processes 2` answering the same JSON
# with `return 200`. As in the other benchmarks, every server process is pinned
# to CPU 0 and wrk to CPU 1: both servers' two workers share one core, so the
# figure compares the per-request cost of the two designs, not how either
# scales across cores (the machine has two, and wrk needs one). Rounds are
# interleaved; medians and the csgi/nginx ratios are reported, for keep-alive
# at -c64 and -c256 and for a new connection per request.
source "$(dirname "$0")/lib.sh"
install_peers
ulimit -n "$(ulimit -Hn)"

WORKERS=${WORKERS:-2}
CSGI_PORT=8111 NGINX_PORT=8112
start_csgi $CSGI_PORT hello --workers "$WORKERS"
start_nginx $NGINX_PORT "$WORKERS"

declare -A PORT=([csgi]=$CSGI_PORT [nginx]=$NGINX_PORT)
SERVERS=(nginx csgi)
declare -A MODE_FLAGS=([c64]="-c64" [c256]="-c256" [c64-close]="-c64 close")
MODES=(c64 c256 c64-close)
declare -A RPS P50 P99

print_setting "$@"
echo "workers=$WORKERS"
measure_rounds
stop_all

echo
echo "medians of $ROUNDS rounds, $WORKERS workers each"
print_medians nginx
