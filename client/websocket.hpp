// WebSocket for the clients (spec/websocket.md from the other end): an app
// that talks to another service, or a test that talks to a server.
//
//   auto ws = co_await client.websocket_connect("ws://127.0.0.1:8000/ws/echo/");
//   co_await ws.send("hello");
//   auto message = co_await ws.receive();   // nullopt once closed
//   co_await ws.close();
//
// A WebSocket is bound to the executor of the AsyncClient that opened it. At
// most one receive() and one send() at a time; they may run at once. Pings
// are answered inside receive(), so a client that stops receiving stops
// answering them. Failures are the HttpError subclasses of client/errors.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "runtime/http_types.hpp"

namespace csgi::client {

struct WebSocketOptions {
  std::vector<std::string> subprotocols;  // offered, in order of preference
  Headers headers;                        // extra fields of the handshake
  bool per_message_deflate = true;        // offer permessage-deflate
  std::uint64_t max_size = 16 * 1024 * 1024;  // largest message received (1009 above)
  std::chrono::milliseconds connect_timeout{5000};  // connect and handshake
};

struct WebSocketReceived {
  std::string data;
  bool binary = false;
};

class WebSocket {
 public:
  WebSocket();  // not open: only to be assigned to
  WebSocket(WebSocket&&) noexcept;
  WebSocket& operator=(WebSocket&&) noexcept;
  ~WebSocket();  // closes the socket without a close handshake

  // One message. Throws RemoteProtocolError once the WebSocket is closed.
  boost::asio::awaitable<void> send(std::string text);
  boost::asio::awaitable<void> send_binary(std::string bytes);
  // The next message, or nullopt once the WebSocket closed (close_code()).
  boost::asio::awaitable<std::optional<WebSocketReceived>> receive();
  // The close handshake: sends `code`, reads until the server's close.
  boost::asio::awaitable<void> close(std::uint16_t code = 1000, std::string reason = {});

  const std::optional<std::string>& subprotocol() const;
  // The server's close code once closed (1006 when it closed without one).
  std::uint16_t close_code() const;
  const std::string& close_reason() const;

  struct Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Opens a WebSocket to the ws:// (or http://) `url` on `executor`.
// ConnectError, ConnectTimeout, RemoteProtocolError (a refused or invalid
// handshake: the message says the status), InvalidUrl.
boost::asio::awaitable<WebSocket> websocket_connect(boost::asio::any_io_executor executor,
                                                    std::string url, WebSocketOptions options = {});

}  // namespace csgi::client
