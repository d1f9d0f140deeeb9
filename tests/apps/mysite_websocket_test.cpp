// mysite's WebSocket endpoints through the in-process test client: no socket.
#include <gtest/gtest.h>

#include "apps/mysite.hpp"
#include "gateway/testing/async_client.hpp"
#include "gateway/testing/async_test.hpp"
#include "runtime/executor.hpp"

namespace csgi::apps {
namespace {

using testing::AsyncClient;

struct Site {
  SyncExecutor executor{1};
  AsyncClient client{mysite_app(), executor};
};

CSGI_ASYNC_TEST(MysiteWebSocket, EchoSendsEachMessageBackAsItCame) {
  Site site;
  auto ws = co_await site.client.websocket_connect("/ws/echo/");
  co_await ws->send("hello");
  auto text = co_await ws->receive();
  EXPECT_EQ(text->data, "hello");
  EXPECT_EQ(text->type, asgi::MessageType::text);
  co_await ws->send_binary(std::string("\0\1", 2));
  auto bytes = co_await ws->receive();
  EXPECT_EQ(bytes->data, std::string("\0\1", 2));
  EXPECT_EQ(bytes->type, asgi::MessageType::binary);
  co_await ws->close();
}

CSGI_ASYNC_TEST(MysiteWebSocket, ChatMessageReachesEveryMember) {
  Site site;
  auto alice = co_await site.client.websocket_connect("/ws/chat/");
  EXPECT_EQ((co_await alice->receive())->data, "* someone joined (1 here)");
  auto bob = co_await site.client.websocket_connect("/ws/chat/");
  EXPECT_EQ((co_await alice->receive())->data, "* someone joined (2 here)");
  EXPECT_EQ((co_await bob->receive())->data, "* someone joined (2 here)");
  co_await alice->send("hi bob");
  EXPECT_EQ((co_await bob->receive())->data, "hi bob");
  EXPECT_EQ((co_await alice->receive())->data, "hi bob");
  co_await bob->close();
  EXPECT_EQ((co_await alice->receive())->data, "* someone left (1 here)");
  co_await alice->close();
}

CSGI_ASYNC_TEST(MysiteWebSocket, UnknownPathIsRefusedWith403) {
  Site site;
  try {
    co_await site.client.websocket_connect("/ws/nothing/");
    ADD_FAILURE() << "accepted";
  } catch (const testing::WebSocketRefused& refused) {
    EXPECT_EQ(refused.status, 403);
  }
}

CSGI_ASYNC_TEST(MysiteWebSocket, ChatPageOpensTheChatSocket) {
  Site site;
  auto page = co_await site.client.get("/chat/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/ws/chat/"), std::string::npos);
}

}  // namespace
}  // namespace csgi::apps
