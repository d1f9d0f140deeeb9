// WebSocket scenarios (spec/websocket.md) on every server kind with both app
// kinds: the async app serves them, the sync app's adapter refuses them with
// 403, the same answer on every server.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "client/client.hpp"
#include "tests/conformance/fixture.hpp"

namespace csgi::conformance {
namespace {

class WebSocketConformance : public Conformance {
 protected:
  std::string url(std::string_view path) const {
    return "ws://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }
  bool async_app() const { return app_kind() == AppKind::async; }
  // A refused handshake: the client's error names the status.
  void expect_refused(const std::string& path, std::string_view status) {
    try {
      client_.websocket_connect(url(path));
      ADD_FAILURE() << path << " was accepted";
    } catch (const client::RemoteProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find(status), std::string::npos) << e.what();
    }
  }

  // Starts the server and opens /ws/echo with `options`; for the sync app,
  // checks the refusal and returns nothing.
  std::optional<client::ClientWebSocket> open_echo(Config config = base_config(),
                                                   client::WebSocketOptions options = {}) {
    start(config);
    if (!async_app()) {
      expect_refused("/ws/echo", "403");
      return std::nullopt;
    }
    return client_.websocket_connect(url("/ws/echo"), std::move(options));
  }

  // The answer to a handshake for `path` with Sec-WebSocket-Version `version`.
  RawResponse raw_handshake(RawClient& client, std::string_view path, std::string_view version) {
    client.send_request("GET", path,
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: " +
                            std::string(version) + "\r\n");
    return client.read_response();
  }

  client::Client client_;
};

TEST_P(WebSocketConformance, EchoesTextAndBinaryMessagesOrRefusesSyncApp) {
  auto opened = open_echo();
  if (!opened) return;
  auto& ws = *opened;
  ws.send("hello");
  auto text = ws.receive();
  ASSERT_TRUE(text);
  EXPECT_EQ(text->data, "hello");
  EXPECT_FALSE(text->binary);
  ws.send_binary(std::string("\0\1\2", 3));
  auto bytes = ws.receive();
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->data, std::string("\0\1\2", 3));
  EXPECT_TRUE(bytes->binary);
  ws.close(4000, "done");
  EXPECT_EQ(ws.close_code(), 4000);
  EXPECT_TRUE(eventually([&] { return probe_->websocket_disconnect == 4000; }));
}

TEST_P(WebSocketConformance, LargeCompressedMessageRoundTrips) {
  auto ws = open_echo();
  if (!ws) return;
  std::string big(300 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  ws->send(big);
  auto echoed = ws->receive();
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->data, big);
}

TEST_P(WebSocketConformance, SubprotocolChosenFromTheClientsOffer) {
  client::WebSocketOptions options;
  options.subprotocols = {"chat.v2", "chat.v1"};
  auto ws = open_echo(base_config(), options);
  if (ws) EXPECT_EQ(ws->subprotocol(), "chat.v2");
}

TEST_P(WebSocketConformance, UnknownPathIsRefusedWith403) {
  start();
  expect_refused("/ws/nothing-here", "403");
}

TEST_P(WebSocketConformance, CloseBeforeAcceptIsRefusedWith403) {
  start();
  expect_refused("/ws/close", "403");
}

TEST_P(WebSocketConformance, DenialResponseReachesTheClient) {
  start();
  auto client = connect();
  auto response = raw_handshake(client, "/ws/deny", "13");
  EXPECT_EQ(response.status, async_app() ? 401 : 403);
  if (async_app()) EXPECT_EQ(response.body, "denied");
  EXPECT_TRUE(client.wait_closed(1000ms));
}

TEST_P(WebSocketConformance, UnsupportedVersionAnswered426NamingVersion13) {
  start();
  auto client = connect();
  auto response = raw_handshake(client, "/ws/echo", "8");
  EXPECT_EQ(response.status, 426);
  EXPECT_EQ(response.header("sec-websocket-version"), "13");
}

TEST_P(WebSocketConformance, MessageOverMaxSizeClosesWith1009) {
  Config config = base_config();
  config.ws_max_size = 1000;
  auto ws = open_echo(config);
  if (!ws) return;
  ws->send(std::string(2000, 'x'));
  EXPECT_FALSE(ws->receive());
  EXPECT_EQ(ws->close_code(), 1009);
  EXPECT_TRUE(eventually([&] { return probe_->websocket_disconnect == 1009; }));
}

TEST_P(WebSocketConformance, GracefulShutdownTellsTheAppThenClosesWith1001) {
  auto ws = open_echo();
  if (!ws) return;
  ws->send("ready?");
  ASSERT_TRUE(ws->receive());
  server_->stop();
  EXPECT_FALSE(ws->receive());
  EXPECT_EQ(ws->close_code(), 1001);
  EXPECT_TRUE(eventually([&] { return probe_->websocket_disconnect == 1001; }));
  EXPECT_EQ(server_->wait(), 0);
}

TEST_P(WebSocketConformance, PeerThatStopsAnsweringPingsIsClosed) {
  Config config = base_config();
  config.ws_ping_interval = 50ms;
  config.ws_ping_timeout = 50ms;
  start(config);
  auto client = connect();
  auto response = raw_handshake(client, "/ws/echo", "13");
  if (!async_app()) {
    EXPECT_EQ(response.status, 403);
    return;
  }
  EXPECT_EQ(response.status, 101);
  // The raw client never answers the server's pings.
  EXPECT_TRUE(client.wait_closed(2000ms));
  EXPECT_TRUE(eventually([&] { return probe_->websocket_disconnect == 1011; }));
}

TEST_P(WebSocketConformance, ClientThatDoesNotReadHoldsTheAppsSendBack) {
  start();
  auto client = connect();
  auto response = raw_handshake(client, "/ws/flood", "13");
  if (!async_app()) {
    EXPECT_EQ(response.status, 403);
    return;
  }
  EXPECT_EQ(response.status, 101);
  // The client reads nothing more: once the socket buffers are full, the
  // app's send() waits instead of queueing messages in the server.
  ASSERT_TRUE(eventually([&] { return probe_->flood_sent > 0; }));
  // Stalled: the count stays the same for 40 polls in a row.
  int sent = -1, unchanged = 0;
  EXPECT_TRUE(eventually(
      [&] {
        unchanged = std::exchange(sent, probe_->flood_sent.load()) == sent ? unchanged + 1 : 0;
        return unchanged >= 40;
      },
      5000ms));
  EXPECT_LT(sent, 64) << "messages of 1 MiB taken while nobody read";
}

INSTANTIATE_TEST_SUITE_P(Servers, WebSocketConformance, server_params(), param_name);

}  // namespace
}  // namespace csgi::conformance
