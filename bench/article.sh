#!/usr/bin/env bash
# The article's scenario, for real: `make article`.
#
# An async view (/api/aggregated/) calls a sync view of its own server
# (/api/, which blocks for 1 s) ten times at once, with a 5 s read timeout.
# It is run on each server set-up that README.md's "The article's deadlock"
# names (one loop worker, ten workers, an async /api/, the threaded server),
# and each row prints when every call finished, so the reason shows, not only
# the outcome.
source "$(dirname "$0")/lib.sh"
[ -x "$CSGI" ] || make -C "$ROOT" build >/dev/null

PORT=${PORT:-8120}

# row TITLE APP VIEW FLAGS...: serve APP, ask VIEW once, print the outcome.
row() {
  local title=$1 app=$2 view=$3; shift 3
  "$CSGI" serve "$app" --host 127.0.0.1 --port "$PORT" --log-level warning --no-access-log "$@" &
  PIDS+=($!)
  wait_port "$PORT"
  sleep 0.3  # let every worker start, when there are several
  local code
  code=$(curl -s -o "$WORK/answer.json" -w '%{http_code}' "http://127.0.0.1:$PORT$view")
  /usr/bin/python3 - "$title" "$code" "$WORK/answer.json" <<'PY'
import json, sys
title, code, path = sys.argv[1], sys.argv[2], sys.argv[3]
answer = json.load(open(path))
calls = answer["calls"]
ok = sum(1 for c in calls if "status" in c)
print(f"\n{title}\n  HTTP {code}: {answer['debug_message']} {ok}/{len(calls)} calls answered")
line = "  finished at (s):"
for c in calls:
    mark = f"{c['finished_ms'] / 1000:.1f}" if "status" in c else f"{c['finished_ms'] / 1000:.1f}!"
    line += f" {mark}"
print(line + ("   (! = ReadTimeout)" if ok < len(calls) else ""))
PY
  stop_all
}

echo "csgi: the Django 3.1 async article's deadlock, reproduced (about 30 s)"
row "1. loop server, 1 worker, sync /api/ (uvicorn mysite.asgi:application)" \
  mysite /api/aggregated/
row "2. loop server, --workers 10 (uvicorn --workers 10)" \
  mysite /api/aggregated/ --workers 10
row "3. loop server, 1 worker, async /api/ (the article's fix)" \
  mysite-async /api/aggregated/
row "4. threaded server, sync /api/ (manage.py runserver)" \
  mysite /api/aggregated/ --server threaded --threads 32
row "5. threaded server, the sync aggregated view (ten calls in a row)" \
  mysite /api/aggregated/sync/ --server threaded --threads 32

cat <<'TEXT'

Why:
  1. The loop server runs async views on its one event loop and sync views on
     its sync executor, which has one thread by default (--threads 1, Django's
     "thread-sensitive" mode). The aggregated view sends ten requests to its own
     server at once; the loop accepts all ten, but each /api/ call must wait for
     the one sync thread: they finish 1 s apart, and those still waiting at 5 s
     fail with ReadTimeout. Nothing is stuck forever: it is a queue behind one
     thread, cut off by the client's timeout.
  2. Ten workers share the listening socket; the kernel hands each new
     connection to whichever worker accepts first, and that is not an even
     spread. A worker that gets two or three /api/ calls answers them one after
     another, so the fan-out takes 2-3 s, or times out when one worker gets more
     than five. Mostly fixed, not fixed.
  3. An async /api/ awaits a timer instead of blocking a thread: all ten calls
     wait together on the one loop, and the fan-out takes 1 s.
  4. The threaded server gives each connection its own thread, and runs the
     async aggregated view on a fresh event loop in its thread: the ten calls
     arrive on ten more threads and sleep in parallel: 1 s.
  5. A sync view making the calls one after another takes their sum: 10 s.
  The fixes, best first: make the called view async; or give sync code more
  threads (--threads 10); or more workers, which only spreads the queue.
TEXT
