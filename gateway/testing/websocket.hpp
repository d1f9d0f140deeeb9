// TestWebSocket: a WebSocket to an async app in-process, no socket (the
// analogue of Starlette's TestClient.websocket_connect). Opened by
// AsyncClient::websocket_connect from a coroutine on an event loop:
//
//   auto ws = co_await client.websocket_connect("/ws/echo/");
//   co_await ws->send("hello");
//   auto message = co_await ws->receive();   // the app's next message
//   co_await ws->close();
//
// The app runs on the caller's executor with the websocket scope a server
// would build (spec/websocket.md), and its events are checked as a server
// checks them (ProtocolViolation). websocket_connect throws WebSocketRefused
// when the app does not accept: its status is what a server would answer
// (403, or the status of the app's denial response).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "gateway/asgi.hpp"

namespace csgi::testing {

class WebSocketRefused : public std::runtime_error {
 public:
  explicit WebSocketRefused(int status)
      : std::runtime_error("WebSocket handshake refused with " + std::to_string(status)), status(status) {}
  int status;
};

class TestWebSocket {
 public:
  struct State;
  explicit TestWebSocket(std::shared_ptr<State> state) : state_(std::move(state)) {}
  // A WebSocket still open is dropped: the app hears 1006.
  ~TestWebSocket();
  TestWebSocket(const TestWebSocket&) = delete;
  TestWebSocket& operator=(const TestWebSocket&) = delete;

  // A message to the app's receive().
  asgi::awaitable<void> send(std::string text);
  asgi::awaitable<void> send_binary(std::string bytes);
  // The app's next message; nullopt once it closed or returned (close_code()).
  asgi::awaitable<std::optional<asgi::WebSocketMessage>> receive();
  // The client closes with `code`; waits until the app has returned, and
  // rethrows what escaped it.
  asgi::awaitable<void> close(std::uint16_t code = 1000);

  const std::optional<std::string>& subprotocol() const;
  // The app's close code (1000 when it returned without one); 0 while open.
  std::uint16_t close_code() const;

 private:
  std::shared_ptr<State> state_;
};

// Starts `app` on the caller's executor for a websocket scope of `target`
// and waits for its answer to the handshake.
asgi::awaitable<std::unique_ptr<TestWebSocket>> open_websocket(const asgi::App& app, asgi::Scope scope);

}  // namespace csgi::testing
