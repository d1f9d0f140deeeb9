// One request/response exchange on a leased connection: connect if needed,
// write the request, read the head (1xx skipped), then read the body piece by
// piece. Internal to client/ (pulls in Asio through connection.hpp).
//
// Every wait is bounded by its limit in Timeouts through the connection's
// Deadline (runtime/deadline.hpp); each failure is thrown as the matching HttpError. When the body is
// complete the connection goes back to the pool (kept alive if the response
// allows it); destroying an exchange earlier closes it.
#pragma once

#include <cstddef>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "client/connection.hpp"
#include "client/options.hpp"
#include "client/response.hpp"
#include "client/url.hpp"

namespace csgi::client::detail {

// A request with the client's and the request's settings merged.
struct Request {
  std::string method;
  Url url;
  Headers headers;    // sent after Host (and a User-Agent unless given)
  std::string body;
  Timeouts timeouts;
  std::size_t max_head = 64 * 1024;
};

// Thrown by an exchange on a reused connection that the server had closed
// before answering (EOF or reset before the first response byte). Safe to
// retry once on a new connection for an idempotent method.
struct StaleConnection {};

class Exchange {
 public:
  Exchange(Lease lease, const Request& request);

  // Connects a new connection, writes the request and reads the response head
  // into `head` (body left empty).
  boost::asio::awaitable<void> start(Response& head);

  // Appends the next decoded body bytes to `out` (waiting for some when none
  // are buffered). Returns true once the body is complete; the connection has
  // then been released.
  boost::asio::awaitable<bool> read_body(std::string& out);

  bool complete() const { return complete_; }
  // The URL requested, as error messages and Response::url give it.
  std::string url() const { return request_.url.to_string(); }

 private:
  boost::asio::awaitable<void> connect();
  boost::asio::awaitable<void> send();
  boost::asio::awaitable<void> read_head(Response& head);
  // Reads more bytes into the connection's buffer; 0 at EOF.
  boost::asio::awaitable<std::size_t> read_more(bool mid_body);
  [[noreturn]] void fail_closed(const std::string& why);
  void finish(bool keep_alive);

  Lease lease_;
  const Request& request_;
  std::size_t received_ = 0;  // response bytes read so far
  bool complete_ = false;
};

}  // namespace csgi::client::detail
