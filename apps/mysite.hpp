// `mysite`: the views of the Django 3.1 async article, as a router of mixed
// sync and async views, to reproduce and explain what happens to an async view
// that calls back into its own server.
//
//   /api/                  sync: blocks its thread for 1 s (?delay_ms=N), then
//                          {"message": "Hello World!", "task_id": ..., "served":
//                          {"pid", "thread", "received_us", "started_us",
//                          "finished_us"}}: where and when it ran (wall clock)
//   /api/async/            the same, async: awaits a 1 s timer instead
//   /api/aggregated/       async: calls /api/?task_id=0..9 on its own server, all
//                          at once (gather), and reports each call's timing
//   /api/aggregated/sync/  sync: the same ten calls one after another
//
// The aggregated views take ?n= (calls, default 10), ?delay_ms= (passed on to
// each call), ?timeout_ms= (the client's read timeout, default 5000, as httpx)
// and ?target=async (call /api/async/ instead of /api/). They find their own
// server from the request's Host header.
//
// WebSocket (apps/mysite_websocket.hpp): /ws/echo/, the chat room /ws/chat/,
// and /chat/, the page a browser opens to chat.
//
// `mysite-async` is the article's fix: the same site with /api/ async.
#pragma once

#include "gateway/app.hpp"

namespace csgi::apps {

Application mysite_app();
Application mysite_async_app();

}  // namespace csgi::apps
