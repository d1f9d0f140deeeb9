// Client: the blocking HTTP client for sync apps (the httpx.Client analogue),
// with the API of AsyncClient minus the co_await.
//
//   csgi::client::Client client;
//   auto response = client.get("http://127.0.0.1:8000/api/");
//
// Safe to call from any number of threads at once (a threaded server's request
// threads, a sync executor's pool); the calls share one connection pool. No
// event loop is visible to the caller: the requests run on a private I/O
// thread that the client owns, and the caller blocks until its request is
// done. Calling it from a thread that runs a csgi event loop throws
// std::logic_error instead of stalling that loop (use AsyncClient there).
// Create the client after fork(), not before: its I/O thread does not survive
// a fork.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "client/async_client.hpp"
#include "client/errors.hpp"
#include "client/options.hpp"
#include "client/response.hpp"

namespace csgi::client {

// A response whose body is read as it arrives (Client::stream). Same rules as
// StreamedResponse: reading to the end returns the connection to the pool,
// closing or destroying it earlier closes the connection. Use it from one
// thread at a time.
class ClientStream {
 public:
  ClientStream(ClientStream&&) noexcept;
  ClientStream& operator=(ClientStream&&) noexcept;
  ~ClientStream();

  const Response& head() const { return head_; }
  int status() const { return head_.status; }
  // The next piece of the body, or nullopt once it is complete.
  std::optional<std::string> read_chunk();
  std::string read_all();
  void close();

 private:
  friend class Client;
  struct State;
  explicit ClientStream(std::unique_ptr<State> state, Response head);
  std::unique_ptr<State> state_;
  Response head_;
};

// A WebSocket opened by Client::websocket_connect: WebSocket's calls, blocking.
// Use it from one thread at a time.
class ClientWebSocket {
 public:
  ClientWebSocket(ClientWebSocket&&) noexcept;
  ClientWebSocket& operator=(ClientWebSocket&&) noexcept;
  ~ClientWebSocket();

  void send(std::string text);
  void send_binary(std::string bytes);
  std::optional<WebSocketReceived> receive();
  void close(std::uint16_t code = 1000, std::string reason = {});
  const std::optional<std::string>& subprotocol() const;
  std::uint16_t close_code() const;

 private:
  friend class Client;
  struct State;
  explicit ClientWebSocket(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  // Waits for requests in flight on other threads, then stops the I/O thread.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response request(std::string method, std::string url, Headers headers = {},
                   std::string body = {}, RequestOptions options = {});
  Response get(std::string url, RequestOptions options = {});
  Response head(std::string url, RequestOptions options = {});
  Response post(std::string url, std::string body, RequestOptions options = {});
  Response put(std::string url, std::string body, RequestOptions options = {});
  Response delete_(std::string url, RequestOptions options = {});
  ClientStream stream(std::string method, std::string url, Headers headers = {},
                      std::string body = {}, RequestOptions options = {});

  ClientWebSocket websocket_connect(std::string url, WebSocketOptions options = {});

  AsyncClient::PoolStats pool_stats(const std::string& origin) const;
  void close_idle();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace csgi::client
