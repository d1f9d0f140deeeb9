#!/usr/bin/env bash
# The HTTP client (one AsyncClient, one thread) against wrk, in one run.
#
#   bench/client_bench.sh          ROUNDS=3 DURATION=5 CONNECTIONS=100 by default
#
# csgi serves the `hello` app on the loop server pinned to CPU 0; wrk and
# bench_client_load take turns on CPU 1 against it. Reported per round and as
# medians: wrk's requests/s with CONNECTIONS connections; the client's batches
# of 1,000 concurrent GETs through a pool of CONNECTIONS connections; 10,000
# sequential keep-alive GETs on one connection. Target: concurrent >= 0.5 x wrk.
source "$(dirname "$0")/lib.sh"

CLIENT_LOAD=${CLIENT_LOAD:-$ROOT/build/bench/bench_client_load}
CONNECTIONS=${CONNECTIONS:-100}
PORT=${PORT:-8111}

if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
[ -x "$CSGI" ] || make -C "$ROOT" build >/dev/null
[ -x "$CLIENT_LOAD" ] || cmake --build "$ROOT/build" --target bench_client_load >/dev/null

start_csgi "$PORT" hello
URL="http://127.0.0.1:$PORT/"

field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'; }

declare -a WRK CONC SEQ
echo "rounds=$ROUNDS duration=${DURATION}s connections=$CONNECTIONS server cpu=$SERVER_CPU load cpu=$LOAD_CPU"
for round in $(seq 1 "$ROUNDS"); do
  read -r wrk_rps _ _ wrk_errors < <(run_wrk "$PORT" "$CONNECTIONS" /)
  out=$(taskset -c "$LOAD_CPU" "$CLIENT_LOAD" "$URL" --connections "$CONNECTIONS" \
        --concurrent 1000 --batches 20 --sequential 10000)
  conc=$(grep '^concurrent' <<<"$out")
  seq_line=$(grep '^sequential' <<<"$out")
  printf 'round %d wrk rps=%.0f (errors: %s)\n' "$round" "$wrk_rps" "$wrk_errors"
  echo "round $round client $conc"
  echo "round $round client $seq_line"
  WRK+=("$wrk_rps")
  CONC+=("$(field rps <<<"$conc")")
  SEQ+=("$(field rps <<<"$seq_line")")
done
stop_all

wrk_rps=$(median "${WRK[@]}") conc_rps=$(median "${CONC[@]}") seq_rps=$(median "${SEQ[@]}")
echo
echo "medians of $ROUNDS rounds"
printf '%-34s %10.0f rps\n' "wrk -c$CONNECTIONS" "$wrk_rps"
printf '%-34s %10.0f rps  %s x wrk\n' "client, 1,000 concurrent GETs" "$conc_rps" "$(ratio "$conc_rps" "$wrk_rps")"
printf '%-34s %10.0f rps  %s x wrk\n' "client, sequential keep-alive GETs" "$seq_rps" "$(ratio "$seq_rps" "$wrk_rps")"
awk -v c="$conc_rps" -v w="$wrk_rps" 'BEGIN { exit !(c >= 0.5 * w) }' &&
  echo "target met: concurrent >= 0.5 x wrk" || echo "target missed: concurrent < 0.5 x wrk"
