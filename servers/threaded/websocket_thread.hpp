// The threaded server's WebSocket path: the connection's thread runs an event
// loop of its own for as long as the WebSocket lives, and the shared
// WebSocketSession (servers/websocket_session.hpp) on it, with the app's
// async form. A sync app's async form refuses the websocket scope, so the
// handshake gets 403, as on the loop server (spec/websocket.md, "The sync
// interface").
#pragma once

#include <optional>

#include "protocol/server_connection.hpp"
#include "servers/request_head.hpp"
#include "servers/threaded/connection.hpp"

namespace csgi::servers::threaded {

// Serves the upgrade request `head` on the blocking socket `fd` (not closed
// here) until the WebSocket is closed. A graceful stop of `pool` closes it
// with 1001.
void serve_websocket(int fd, const ConnectionContext& context, const ConnectionPool& pool,
                     protocol::ServerConnection& conn, protocol::MessageHead& head,
                     const ConnectionScope& origin, const std::optional<Endpoint>& client);

}  // namespace csgi::servers::threaded
