// ResponseWriter: serialises one response (a ResponseHead, body pieces,
// trailers) into HTTP/1.1 bytes, choosing the framing and enforcing the event order.
//
// ServerConnection owns one and calls it for every request; it is a separate
// piece so the framing rules can be read (and tested) on their own:
//
// - the head is held from start() until the first body(), then written
//   together with that body, so head and body leave in one write;
// - framing: the app's Content-Length if it gave one; else Content-Length of
//   the only chunk when the first body is also the last; else chunked on
//   HTTP/1.1 and close-delimited on HTTP/1.0;
// - trailers only when the app announced them and the request accepts them
//   (TE: trailers): that forces chunked; otherwise they are dropped;
// - HEAD, 1xx, 204 and 304 get no body (HEAD keeps the app's Content-Length);
// - `date` and `server` unless the app set them; `connection: close` when the
//   connection will close, `connection: keep-alive` for a keep-alive HTTP/1.0
//   client; the app's own Connection and Transfer-Encoding headers are
//   replaced by ours.
//
// Misuse throws ProtocolViolation: body or trailers before start, a
// second start, anything after the response is complete, more bytes than the
// Content-Length (or fewer at the end), CR/LF/NUL in a header, a status outside
// 200-599.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/date.hpp"
#include "runtime/http_types.hpp"

namespace csgi::protocol {

// The status and header fields of a response; `trailers` announces a trailer
// section after the body (asgi: http.response.start).
struct ResponseHead {
  int status = 200;
  Headers headers;
  bool trailers = false;
};

// What the writer must know about the request it answers.
struct RequestFacts {
  bool head_method = false;       // HEAD: no body goes out
  int version_minor = 1;          // HTTP/1.<minor>
  bool keep_alive = true;         // the request allows keep-alive
  bool accepts_trailers = false;  // the request had "TE: trailers"
};

class ResponseWriter {
 public:
  // `server_header` empty: no Server header. Both must outlive the writer.
  ResponseWriter(std::string_view server_header, SharedDate& date);

  // A new request: forget the previous response.
  void reset(const RequestFacts& request);

  // The status and fields: validated and held.
  void start(ResponseHead&& head);
  // A piece of the body: appends the bytes to write to `out`.
  void body(std::string_view chunk, bool more, std::string& out);
  // The trailer fields: appends the trailer section (if written) to `out`.
  void trailers(const Headers& fields, bool more, std::string& out);

  // A complete error response with Connection: close (status, reason phrase as
  // a text/plain body). Precondition: !head_written() (a held start is
  // discarded: an app that fails after start still gets its 500).
  void error(int status, std::string& out);

  bool started() const { return state_ != State::idle; }
  bool head_written() const { return state_ > State::held; }
  bool complete() const { return state_ == State::complete; }
  // The connection may stay open after this response.
  bool keep_alive() const { return keep_alive_; }
  int status() const { return status_; }
  // Response body bytes the app sent (before framing).

  // Forces Connection: close on a response whose head is not written yet.
  void close_connection() { keep_alive_ = false; }

 private:
  enum class State { idle, held, body, trailers, complete };
  enum class Framing { none, length, chunked, close };

  void write_head(std::string_view first_chunk, bool more, std::string& out);
  void choose_framing(std::string_view first_chunk, bool more);
  void write_chunk(std::string_view chunk, std::string& out);
  void finish_body(std::string& out);
  // The fields every response gets from us, each empty when not written: date
  // and server unless the app set them, "connection: close" (or keep-alive
  // for HTTP/1.0) when needed. write_head() measures them with the rest of
  // the head; write_common_headers() appends them to an error response.
  struct CommonFields {
    std::string_view date;
    std::string_view server;
    std::string_view connection;  // the whole line
  };
  CommonFields common_fields();
  void write_common_headers(std::string& out);

  std::string_view server_header_;
  SharedDate* date_;
  RequestFacts request_;
  State state_ = State::idle;
  Framing framing_ = Framing::none;
  int status_ = 0;
  Headers headers_;  // held from start() to the first body()
  bool trailers_announced_ = false;
  bool trailers_written_ = false;
  bool keep_alive_ = true;
  bool app_date_ = false;
  bool app_server_ = false;
  bool app_framing_ = false;  // the app sent Connection or Transfer-Encoding
  std::optional<std::uint64_t> content_length_;  // the app's, or ours
  bool add_content_length_ = false;              // we add it (the app gave none)
  std::uint64_t body_bytes_ = 0;
};

}  // namespace csgi::protocol
