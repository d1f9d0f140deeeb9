// The in-process test client's WebSocket: refusals and ordering as a server
// applies them (spec/websocket.md).
#include <gtest/gtest.h>

#include "gateway/testing/async_client.hpp"
#include "gateway/testing/async_test.hpp"

namespace csgi::testing {
namespace {

asgi::awaitable<void> deny_with_401(asgi::Scope, asgi::Receive receive, asgi::Send send) {
  co_await receive();
  co_await send(asgi::HttpResponseStart{401, {}});
  co_await send(asgi::HttpResponseBody{"no"});
}

asgi::awaitable<void> send_before_accept(asgi::Scope, asgi::Receive receive, asgi::Send send) {
  co_await receive();
  co_await send(asgi::WebSocketMessage{"too early"});
}

asgi::awaitable<void> accept_offered_then_close(asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  co_await receive();
  co_await send(asgi::WebSocketAccept{scope.subprotocols.back(), {}});
  co_await send(asgi::WebSocketClose{4001, "bye"});
}

CSGI_ASYNC_TEST(TestWebSocket, DenialResponseStatusIsTheRefusal) {
  AsyncClient client{asgi::App(deny_with_401)};
  try {
    co_await client.websocket_connect("/ws");
    ADD_FAILURE() << "accepted";
  } catch (const WebSocketRefused& refused) {
    EXPECT_EQ(refused.status, 401);
  }
}

CSGI_ASYNC_TEST(TestWebSocket, MessageBeforeAcceptIsAProtocolViolation) {
  AsyncClient client{asgi::App(send_before_accept)};
  EXPECT_THROW(co_await client.websocket_connect("/ws"), asgi::ProtocolViolation);
}

CSGI_ASYNC_TEST(TestWebSocket, AppChoosesSubprotocolAndCloses) {
  AsyncClient client{asgi::App(accept_offered_then_close)};
  auto ws = co_await client.websocket_connect("/ws", {"a", "b"});
  EXPECT_EQ(ws->subprotocol(), "b");
  EXPECT_FALSE(co_await ws->receive());
  EXPECT_EQ(ws->close_code(), 4001);
}

}  // namespace
}  // namespace csgi::testing
