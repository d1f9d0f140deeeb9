#!/usr/bin/env bash
# WebSocket: csgi (mysite on the loop server) against uvicorn with websockets
# and Node.js with ws, each one process on CPU 0, the load generator
# (ws_load) on CPU 1, rounds interleaved, medians reported.
#
#   bench/websocket.sh            ROUNDS=3 DURATION=5 by default
#
# - echo round trips per second: 64 connections sending 32-byte text, and 4
#   connections sending 64 KiB binary messages;
# - a broadcast: one message to 1,000 connected chat members;
# - idle memory per open WebSocket: RSS growth with 1,000 idle connections.
# Every server runs without compression (ws_load does not offer it).
source "$(dirname "$0")/lib.sh"
install_peers
missing=()
for p in python3-websockets node-ws nodejs; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
ulimit -n "$(ulimit -Hn)"
LOAD=${LOAD:-$ROOT/build/bench/bench_ws_load}
[ -x "$LOAD" ] || cmake --build "$ROOT/build" --target bench_ws_load >/dev/null

CSGI_PORT=8201 UVICORN_PORT=8202 NODE_PORT=8203
declare -A PORT=([csgi]=$CSGI_PORT [uvicorn]=$UVICORN_PORT [node]=$NODE_PORT)
declare -A PID
SERVERS=(csgi uvicorn node)

start_servers() {
  taskset -c "$SERVER_CPU" "$CSGI" serve mysite --host 127.0.0.1 --port $CSGI_PORT \
    --no-access-log --log-level warning --no-ws-per-message-deflate --ws-ping-interval 0 &
  PID[csgi]=$!
  local loop=asyncio
  /usr/bin/python3 -c "import uvloop" 2>/dev/null && loop=uvloop
  taskset -c "$SERVER_CPU" /usr/bin/python3 -m uvicorn --app-dir "$ROOT/bench" uvicorn_ws:app \
    --host 127.0.0.1 --port $UVICORN_PORT --ws websockets --loop "$loop" \
    --ws-per-message-deflate false --ws-ping-interval 0 --no-access-log --log-level warning &
  PID[uvicorn]=$!
  NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs taskset -c "$SERVER_CPU" node "$ROOT/bench/node_ws.js" $NODE_PORT &
  PID[node]=$!
  PIDS=("${PID[@]}")
  for server in "${SERVERS[@]}"; do wait_port "${PORT[$server]}"; done
}

load() { taskset -c "$LOAD_CPU" "$LOAD" "$@"; }

print_setting "$@"
start_servers
declare -A SMALL LARGE BROADCAST
for round in $(seq 1 "$ROUNDS"); do
  for server in "${SERVERS[@]}"; do
    port=${PORT[$server]}
    small=$(load echo --port "$port" --connections 64 --size 32 --seconds "$DURATION" | cut -d= -f2)
    large=$(load echo --port "$port" --connections 4 --size 65536 --binary --seconds "$DURATION" | cut -d= -f2)
    fanout=$(load broadcast --port "$port" --connections 1000 | sed 's/broadcast_ms=\([0-9.]*\).*/\1/')
    printf 'round %d %-8s echo32=%9s/s echo64k=%8s/s broadcast1000=%8sms\n' \
      "$round" "$server" "$small" "$large" "$fanout"
    SMALL[$server]+="$small " LARGE[$server]+="$large " BROADCAST[$server]+="$fanout "
  done
done

# Fresh processes: a heap that already held the broadcast's 1,000
# connections would take idle ones without growing.
stop_all
start_servers
echo
echo "idle memory: RSS growth with 1,000 idle WebSockets, each server freshly started"
declare -A IDLE
for server in "${SERVERS[@]}"; do
  before=$(rss_kib "${PID[$server]}")
  coproc HOLD { load idle --port "${PORT[$server]}" --connections 1000; }
  read -r _ <&"${HOLD[0]}"   # "open 1000"
  sleep 1
  after=$(rss_kib "${PID[$server]}")
  exec {HOLD[1]}>&-
  wait "$HOLD_PID" 2>/dev/null || true
  IDLE[$server]=$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", (a - b) / 1000 }')
  echo "$server: ${IDLE[$server]} KiB per idle WebSocket ($before -> $after KiB)"
done
stop_all

echo
echo "medians of $ROUNDS rounds"
printf '%-8s %14s %14s %16s\n' server echo32/s echo64k/s broadcast_ms
for server in "${SERVERS[@]}"; do
  printf '%-8s %14.0f %14.0f %16.1f\n' "$server" "$(median ${SMALL[$server]})" \
    "$(median ${LARGE[$server]})" "$(median ${BROADCAST[$server]})"
done
echo
for peer in uvicorn node; do
  want=$([ $peer = uvicorn ] && echo 3 || echo 1.2)
  check_target "echo 32 B / $peer" "$(ratio "$(median ${SMALL[csgi]})" "$(median ${SMALL[$peer]})")" ">=" "$want"
  check_target "echo 64 KiB / $peer" "$(ratio "$(median ${LARGE[csgi]})" "$(median ${LARGE[$peer]})")" ">=" "$want"
done
check_target "KiB per idle WebSocket" "${IDLE[csgi]}" "<=" 8
