// A small blocking HTTP/1.1 client over a raw socket, for tests that must see
// exactly what a server writes: interim responses, pipelining, framing, and
// connections closed or cut. Every read is bounded by a timeout, so a server
// that hangs fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/common.hpp"

namespace csgi::conformance {

struct RawResponse {
  int status = 0;
  std::string version;      // "1.1"
  Headers headers;          // names lower-cased
  std::string body;         // decoded
  Headers trailers;
  bool chunked = false;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

class RawClient {
 public:
  using Duration = std::chrono::milliseconds;

  // Connects to 127.0.0.1:`port`. Throws std::runtime_error on failure.
  explicit RawClient(std::uint16_t port, Duration timeout = Duration(3000));
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(std::string_view bytes);
  // "GET /path HTTP/1.1" with Host and the given extra header lines.
  void send_request(std::string_view method, std::string_view target,
                    std::string_view extra_headers = {}, std::string_view body = {});

  // Reads one response (an interim 1xx one too). `head_request`: the response
  // has no body whatever its headers say. Throws std::runtime_error when the
  // connection ends or the timeout passes before the response is complete.
  RawResponse read_response(bool head_request = false);

  // True when the server closes the connection (EOF or reset) within
  // `timeout`, discarding anything it still sends (or appending it to
  // `received`).
  bool wait_closed(Duration timeout, std::string* received = nullptr);
  // True when nothing arrives and the connection stays open for `quiet`.
  bool stays_silent(Duration quiet);

  void shutdown_write();
  void close();

 private:
  // Reads more bytes into buffer_; false at EOF. Throws on timeout or error.
  bool fill();
  std::string read_line();
  std::string read_exact(std::size_t n);

  int fd_ = -1;
  Duration timeout_;
  std::string buffer_;
};

}  // namespace csgi::conformance
