// mysite's WebSocket endpoints (spec/websocket.md):
//
//   /ws/echo/   sends every message back as it came (text or binary)
//   /ws/chat/   a chat room: every text message goes to everyone connected,
//               its sender included
//   /chat/      a page that a browser opens to use the chat room
//
// The room lives in the process: with --workers N, each worker has its own.
// Each member's outgoing queue is bounded; a member that falls that far
// behind is closed with 1008, so that a slow reader costs the room nothing.
#pragma once

#include "gateway/app.hpp"
#include "web/router.hpp"

namespace csgi::apps {

// Adds /chat/ to `router`.
void add_chat_page(web::Router& router);

// `site` with /ws/echo/ and /ws/chat/ answered before it: websocket scopes on
// other paths, and every other scope, go to `site`.
Application with_websockets(Application site);

}  // namespace csgi::apps
