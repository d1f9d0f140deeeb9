# Shared pieces of the load benchmarks: peers, wrk runs, medians.
# Sourced by the bench/*.sh scripts; not run directly.
#
# Every server is pinned to CPU 0 (SERVER_CPU) and the load generator to CPU 1
# (LOAD_CPU), and every figure is reported next to a peer measured in the same
# run: these machines are shared and noisy, so ratios hold where absolute
# figures do not.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSGI=${CSGI:-$ROOT/build/bin/csgi}
BURST=${BURST:-$ROOT/build/bench/bench_burst}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Installs the load generator and the peers from Debian when missing.
install_peers() {
  local missing=()
  for p in wrk nginx-light python3-uvicorn python3-httptools python3-uvloop; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  [ -x "$CSGI" ] || make -C "$ROOT" build >/dev/null
}

# Waits until something accepts on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# start_nginx PORT WORKERS: nginx answering the hello JSON with `return 200`.
start_nginx() {
  local port=$1 workers=${2:-1} dir=$WORK/nginx-$1
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log stderr error;
worker_rlimit_nofile 20000;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      default_type application/json;
      return 200 '{"message": "Hello World!"}';
    }
  }
}
CONF
  taskset -c "$SERVER_CPU" nginx -c "$dir/nginx.conf" -p "$dir" &
  PIDS+=($!)
  wait_port "$port"
}

# start_uvicorn PORT: one uvicorn worker (httptools; uvloop when installed).
start_uvicorn() {
  local port=$1 loop=asyncio
  /usr/bin/python3 -c "import uvloop" 2>/dev/null && loop=uvloop
  taskset -c "$SERVER_CPU" /usr/bin/python3 -m uvicorn --app-dir "$ROOT/bench" uvicorn_hello:app \
    --host 127.0.0.1 --port "$port" --http httptools --loop "$loop" \
    --no-access-log --log-level warning &
  PIDS+=($!)
  wait_port "$port"
}

# start_csgi PORT APP [FLAGS...]: csgi serving APP.
start_csgi() {
  local port=$1 app=$2; shift 2
  taskset -c "$SERVER_CPU" "$CSGI" serve "$app" --host 127.0.0.1 --port "$port" \
    --no-access-log --log-level warning "$@" &
  PIDS+=($!)
  wait_port "$port"
}

stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

# to_ms VALUE: wrk's "1.23ms" / "456.00us" / "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# run_wrk PORT CONNECTIONS PATH [wrk flags...]: prints "rps p50_ms p99_ms errors".
run_wrk() {
  local port=$1 conns=$2 path=$3; shift 3
  local out
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$@" \
        "http://127.0.0.1:$port$path" 2>&1)
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errors=$(awk '/Non-2xx|Socket errors/ {s = s $0 "; "} END {print (s == "" ? "none" : s)}' <<<"$out")
  echo "${rps:-0} $p50 $p99 $errors"
}

# median VALUES...
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
    if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# rss_kib PID: resident set size of a process (and its children for nginx-like trees).
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# measure_rounds: $ROUNDS interleaved rounds of every mode in MODES against
# every server in SERVERS (arrays the caller sets, with PORT[server] and
# MODE_FLAGS[mode] = "-cN" or "-cN close"). Prints a line per run and appends
# the figures to the caller's associative arrays RPS, P50 and P99 ("mode,server").
measure_rounds() {
  local round mode server conns rps p50 p99 errors
  local -a flags extra
  for round in $(seq 1 "$ROUNDS"); do
    for mode in "${MODES[@]}"; do
      for server in "${SERVERS[@]}"; do
        read -r -a flags <<<"${MODE_FLAGS[$mode]}"
        conns=${flags[0]#-c}
        extra=()
        if ((${#flags[@]} > 1)); then extra=(-H "Connection: close"); fi
        read -r rps p50 p99 errors < <(run_wrk "${PORT[$server]}" "$conns" / "${extra[@]}")
        printf 'round %d %-10s %-10s rps=%10.0f p50=%8.3fms p99=%8.3fms errors=%s\n' \
          "$round" "$mode" "$server" "$rps" "$p50" "$p99" "$errors"
        RPS[$mode,$server]+="$rps "
        P50[$mode,$server]+="$p50 "
        P99[$mode,$server]+="$p99 "
      done
    done
  done
}

# print_medians PEER: the medians of measure_rounds, with each server's rps and
# p99 as ratios to PEER's.
print_medians() {
  local peer=$1 mode server peer_rps peer_p99 rps p50 p99
  printf '%-10s %-10s %12s %10s %10s %10s %10s\n' mode server rps p50_ms p99_ms "rps/$peer" "p99/$peer"
  for mode in "${MODES[@]}"; do
    peer_rps=$(median ${RPS[$mode,$peer]}) peer_p99=$(median ${P99[$mode,$peer]})
    for server in "${SERVERS[@]}"; do
      rps=$(median ${RPS[$mode,$server]}) p50=$(median ${P50[$mode,$server]})
      p99=$(median ${P99[$mode,$server]})
      printf '%-10s %-10s %12.0f %10.3f %10.3f %10s %10s\n' "$mode" "$server" "$rps" "$p50" "$p99" \
        "$(ratio "$rps" "$peer_rps")" "$(ratio "$p99" "$peer_p99")"
    done
  done
}

# check_target NAME VALUE OP LIMIT: prints whether VALUE OP LIMIT holds (OP is
# ">=" or "<="), as "target NAME: VALUE OP LIMIT met|MISSED".
check_target() {
  local name=$1 value=$2 op=$3 limit=$4 verdict
  verdict=$(awk -v v="$value" -v l="$limit" -v op="$op" \
    'BEGIN { ok = (op == ">=") ? (v >= l) : (v <= l); print (ok ? "met" : "MISSED") }')
  printf 'target %-44s %10s %s %-8s %s\n' "$name:" "$value" "$op" "$limit" "$verdict"
}

# median_rps, median_p99 MODE SERVER: medians of measure_rounds' runs.
median_rps() { median ${RPS[$1,$2]}; }
median_p99() { median ${P99[$1,$2]}; }

# print_setting: what the run was, so that a figure can be traced to its setting.
print_setting() {
  echo "command: $0 $* (ROUNDS=$ROUNDS DURATION=${DURATION}s)"
  echo "machine: $(nproc) cpus; servers on cpu $SERVER_CPU, load generator on cpu $LOAD_CPU;" \
       "somaxconn=$(cat /proc/sys/net/core/somaxconn) tcp_max_syn_backlog=$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog)"
}
