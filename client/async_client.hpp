// AsyncClient: the HTTP/1.1 client for async apps (the httpx.AsyncClient
// analogue), on Boost.Asio C++20 coroutines.
//
//   csgi::client::AsyncClient client(co_await boost::asio::this_coro::executor);
//   auto response = co_await client.get("http://127.0.0.1:8000/api/");
//   auto value = response.json();
//
// A client is bound to the executor it was made with: await its coroutines
// only from coroutines running there (one thread at a time; a single-threaded
// io_context or a strand). It keeps a connection pool per origin
// (scheme://host:port) with keep-alive reuse; see ClientOptions for the bounds
// and Timeouts for the limits. Failures are thrown as the HttpError subclasses
// of client/errors.hpp. Requests in flight keep the client's state alive, so
// the client may be destroyed before they finish.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "client/errors.hpp"
#include "client/options.hpp"
#include "client/response.hpp"
#include "client/websocket.hpp"

namespace csgi::client {

template <class T>
using awaitable = boost::asio::awaitable<T>;

class AsyncClient;

// A response whose body is read as it arrives (AsyncClient::stream). Holds the
// connection until the body is read to the end (it then goes back to the pool)
// or the object is closed or destroyed (the connection is then closed, since
// unread bytes remain on it). Use and destroy it on the client's executor.
class StreamedResponse {
 public:
  StreamedResponse();
  StreamedResponse(StreamedResponse&&) noexcept;
  StreamedResponse& operator=(StreamedResponse&&) noexcept;
  ~StreamedResponse();

  // Status, headers and URL; `body` stays empty.
  const Response& head() const { return head_; }
  int status() const { return head_.status; }

  // The next piece of the decoded body, or nullopt once it is complete. Each
  // wait for bytes is bounded by the read timeout (ReadTimeout).
  awaitable<std::optional<std::string>> read_chunk();
  // The rest of the body, buffered.
  awaitable<std::string> read_all();
  // Drops the unread rest (and the connection).
  void close();

 private:
  friend class AsyncClient;
  struct Body;
  std::unique_ptr<Body> body_;
  Response head_;
};

class AsyncClient {
 public:
  explicit AsyncClient(boost::asio::any_io_executor executor, ClientOptions options = {});
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Sends `method` to the absolute http:// `url` and reads the whole response.
  // A 3xx is returned as is unless follow_redirects is set.
  awaitable<Response> request(std::string method, std::string url, Headers headers = {},
                              std::string body = {}, RequestOptions options = {});

  awaitable<Response> get(std::string url, RequestOptions options = {});
  awaitable<Response> head(std::string url, RequestOptions options = {});
  awaitable<Response> post(std::string url, std::string body, RequestOptions options = {});
  awaitable<Response> put(std::string url, std::string body, RequestOptions options = {});
  awaitable<Response> delete_(std::string url, RequestOptions options = {});

  // Like request(), but returns once the head has arrived; the body is read
  // through the StreamedResponse.
  awaitable<StreamedResponse> stream(std::string method, std::string url, Headers headers = {},
                                     std::string body = {}, RequestOptions options = {});

  // Opens a WebSocket to the ws:// `url` (client/websocket.hpp), on this
  // client's executor; it does not use the pool.
  awaitable<WebSocket> websocket_connect(std::string url, WebSocketOptions options = {});

  // Pool figures for one origin ("http://127.0.0.1:8000"), for tests and stats.
  using PoolStats = client::PoolStats;
  PoolStats pool_stats(const std::string& origin) const;
  // Closes the idle kept-alive connections now.
  void close_idle();

  const ClientOptions& options() const;
  boost::asio::any_io_executor get_executor() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace csgi::client
