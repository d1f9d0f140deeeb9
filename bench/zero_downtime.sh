#!/usr/bin/env bash
# Restarts and upgrades under keep-alive load at full speed: how many
# requests each loses.
#
#   bench/zero_downtime.sh           RUNS=10 DURATION=5 by default
#
# For each of HUP (new workers), TERM to one worker, and USR2 (a new
# supervisor from the executable on disk): RUNS times, a fresh
# `csgi serve hello --workers 2`, `wrk -t1 -c64` over keep-alive connections
# for DURATION seconds, and the signal halfway through. A lost request is one
# wrk counts as a socket error (connect, read, write or timeout) or a non-2xx
# answer; a connection the server ends with `Connection: close` is not one
# (wrk opens another). Prints each run's requests and losses, then per signal
# the runs without a loss. The server is pinned to CPU 0 and wrk to CPU 1.
source "$(dirname "$0")/lib.sh"
install_peers

RUNS=${RUNS:-10}
PORT=${PORT:-8121}
SIGNALS=(hup term-worker usr2)

# lost_in WRK_OUTPUT: connect + read + write + timeout errors + non-2xx.
lost_in() {
  awk '/Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
       /Non-2xx or 3xx responses:/ { n += $5 }
       END { print n + 0 }' <<<"$1"
}

# The supervisor that serves PORT now: after USR2 it is a new process.
current_supervisor() {
  local log=$1 old=$2 new
  new=$(sed -n 's/.*New supervisor (pid:\([0-9]*\)) is ready.*/\1/p' "$log" | tail -n 1)
  echo "${new:-$old}"
}

# Stops a supervisor that is not this shell's child (after USR2) and waits.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null || true
}

# one_run SIGNAL: prints "requests lost".
one_run() {
  local signal=$1 log=$WORK/csgi.log
  taskset -c "$SERVER_CPU" "$CSGI" serve hello --host 127.0.0.1 --port "$PORT" \
    --workers 2 --no-access-log >"$log" 2>&1 &
  local supervisor=$!
  wait_port "$PORT"
  taskset -c "$LOAD_CPU" wrk -t1 -c64 -d"${DURATION}s" "http://127.0.0.1:$PORT/" >"$WORK/wrk.out" 2>&1 &
  local load=$!
  sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
  case $signal in
    hup) kill -HUP "$supervisor" ;;
    term-worker) kill -TERM "$(pgrep -P "$supervisor" | head -n 1)" ;;
    usr2) kill -USR2 "$supervisor" ;;
  esac
  wait "$load"
  local out requests
  out=$(cat "$WORK/wrk.out")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  stop_pid "$(current_supervisor "$log" "$supervisor")"
  stop_pid "$supervisor"
  wait "$supervisor" 2>/dev/null || true
  echo "$requests $(lost_in "$out")"
}

print_setting "$@"
echo "runs=$RUNS wrk -t1 -c64 -d${DURATION}s, hello --workers 2"
declare -A CLEAN
for signal in "${SIGNALS[@]}"; do
  CLEAN[$signal]=0
  for run in $(seq 1 "$RUNS"); do
    read -r requests lost < <(one_run "$signal")
    printf '%-12s run %2d: %8s requests, %d lost\n' "$signal" "$run" "$requests" "$lost"
    ((lost == 0)) && CLEAN[$signal]=$((CLEAN[$signal] + 1))
  done
done
echo
for signal in "${SIGNALS[@]}"; do
  printf '%-12s %d of %d runs lost no request\n' "$signal" "${CLEAN[$signal]}" "$RUNS"
done
