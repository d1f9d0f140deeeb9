// ServerConnection: the request/response cycle of one HTTP/1.1 connection,
// shared by every server. Sans-I/O: it never touches a socket.
//
// A driver (the loop server's connection coroutine, the threaded server's
// blocking loop) only moves bytes and runs the app:
//
//   for (;;) {
//     write_all(conn.pending_output()); conn.consume_output(n);   // whenever non-empty
//     auto event = conn.next_event();
//     NeedData       -> read; conn.receive_data(bytes) or conn.receive_eof()
//     Paused         -> wait until the app takes body or finishes its response
//     RequestStarted -> build the app's Scope or Environ from *event.head and
//                       run the app; its receive() calls conn.receive_body(),
//                       its send() calls conn.send_*()
//     RequestError   -> write pending_output() (the error response, if any), close
//     Closed         -> write pending_output(), close
//   }
//   // when the app has returned and pending_output() is written:
//   conn.start_next_request();            // if response_complete()
//
// Everything HTTP lives here, not in the drivers: the request head, limits
// (sizes; the head *time* limit is the driver's timer), body backpressure,
// `Expect: 100-continue`, response framing (Content-Length, chunked, close-
// delimited), trailers, HEAD, keep-alive, pipelining in order, the Date and
// Server headers, and the app's ordering mistakes (ProtocolViolation).
//
// It knows no app interface: it hands out a request head and takes a status,
// header fields and body bytes, so the servers (which build the asgi::Scope or
// the wsgi::Environ) and later protocols share it.
//
// Memory: reused buffers, no per-request allocation beyond the head's strings.
// Not thread-safe: one thread at a time (the async driver's strand, or the
// blocking driver's thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include "protocol/date.hpp"
#include "protocol/parser.hpp"
#include "protocol/response_writer.hpp"
#include "runtime/http_types.hpp"

namespace csgi::protocol {

// Sizes a server enforces; fill from servers::Config's limit_* fields.
struct Limits {
  std::size_t request_line = default_limits::request_line;      // 414 above
  std::size_t request_head = default_limits::request_head;      // 431 above (start line + fields)
  std::size_t request_fields = default_limits::request_fields;  // 431 above
  std::optional<std::uint64_t> request_body;   // 413 above; none = unlimited
  // Backpressure: decoded body not yet taken by the app stops parsing above
  // this, and unparsed input (body or pipelined requests) stops reading above
  // `input_high_water`.
  std::size_t body_high_water = 64 * 1024;
  std::size_t input_high_water = 64 * 1024;
};

// What the connection is, fixed at accept time.
struct ConnectionInfo {
  std::string server_header = "csgi";   // empty: no Server header
  SharedDate* date = nullptr;           // null: process_date(); must outlive the connection
};

// ---- what the driver must do next (next_event) -----------------------------

// Read from the socket and call receive_data / receive_eof.
struct NeedData {};
// Do not read: the app has not taken the buffered body yet, or a request is in
// progress and the pipelined input is above the bound. Wait for the app to call
// receive_body() or to finish its response, then ask next_event() again.
struct Paused {};
// A new request: run the app for this head (method, target, version, header
// fields with lower-case names, keep-alive, body framing). `head` is the
// connection's own: it stays valid until start_next_request(), and the driver
// may move its fields out (the header list, into a Scope or an Environ). At
// most one request is active; the next is parsed only after
// start_next_request().
struct RequestStarted {
  MessageHead* head;
};
// The request broke a limit or the protocol. pending_output() holds the error
// response (if the app's response had not started); write it and close. If an
// app is running, its receive() now yields http.disconnect.
struct RequestError {
  int status;            // 400, 413, 414, 431, 501, 505 (error_status(error))
  std::error_code error;
};
// Nothing more on this connection: the peer closed between requests, or the
// last response was not keep-alive. Write pending_output(), then close.
struct Closed {};

using Event = std::variant<NeedData, Paused, RequestStarted, RequestError, Closed>;

// ---- what the app's receive() gets (receive_body) -------------------------

// A piece of the request body; `more_body` false on the last one.
struct BodyChunk {
  std::string body;
  bool more_body = false;
};

// No body bytes now: the driver must read more (blocking driver), or wait for
// the reading side to deliver some (async driver), then ask again. Also the
// answer once the body is fully delivered and the response is not complete
// yet (asgi: receive blocks until disconnect).
struct BodyPending {};
// No more body: the peer has gone, the request failed, or the response is
// complete (asgi: http.disconnect).
struct BodyGone {};

using BodyEvent = std::variant<BodyChunk, BodyPending, BodyGone>;


class ServerConnection {
 public:
  explicit ServerConnection(const Limits& limits, ConnectionInfo info);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // ---- input (the reading side of the driver) ----

  // Bytes read from the socket. Never parses past the current request.
  void receive_data(std::string_view bytes);
  // Zero-copy alternative: read straight into input_space(n) (at least n bytes
  // of writable space), then commit_input(bytes_read).
  std::span<char> input_space(std::size_t n);
  void commit_input(std::size_t n);
  // The socket returned EOF (or the read failed).
  void receive_eof();

  // What to do next; see the events above. Parses buffered input as needed.
  Event next_event();

  // True when the driver must not read: parsed body not taken above
  // body_high_water, or unparsed input above input_high_water.
  bool reading_paused() const;

  // ---- request body (the app's receive) ----

  // The next piece of the current request's body, with more_body. The first call
  // of a request with `Expect: 100-continue` queues "HTTP/1.1 100 Continue" in
  // pending_output() (if the response has not started): write it. Returns
  // BodyGone once the peer has gone or the response is complete.
  BodyEvent receive_body();

  // ---- response (the app's send) ----
  // Each throws ProtocolViolation on misuse (body before start, a second
  // start, anything after the final body, more bytes than the app's
  // Content-Length, CR/LF in a header) and appends bytes to pending_output().

  // The response's status and fields, held, not serialised, until the first
  // body. Taken by rvalue reference: the fields move on without a copy.
  void send_response_start(ResponseHead&& head);
  // A piece of the body: the first call writes head and body into one buffer.
  void send_response_body(std::string_view body, bool more_body);
  // Trailer fields: written only if announced in start and the request
  // accepts them (TE: trailers) on a chunked response; dropped otherwise.
  void send_response_trailers(const Headers& trailers, bool more_trailers);

  // A complete response with a short text body and Connection: close, for app
  // failures (500) and overload (503). Precondition: !response_head_sent() (a
  // start the app sent but no body yet is discarded); throws ProtocolViolation
  // otherwise. The response is then complete.
  void send_error_response(int status);

  // Bytes to write, head and body together. Valid until the next call that
  // produces output (receive_body, send_*, send_error_response, next_event) or
  // consume_output: an asynchronous driver makes no such call while a write
  // is in flight.
  std::string_view pending_output() const;
  // `n` bytes of pending_output() were written.
  void consume_output(std::size_t n);

  // ---- state queries ----

  bool response_started() const;     // http.response.start was sent
  bool response_head_sent() const;   // ... and bytes of it are in the output: a
                                     // failure now aborts instead of a 500
  bool response_complete() const;    // final body (and trailers) sent
  // Whether the connection stays open after this response (HTTP/1.0 and 1.1
  // rules, the Connection headers of both sides, errors, unread bodies).
  bool keep_alive() const;
  // The peer sent EOF.
  bool peer_closed() const;
  // The request broke a rule after it started (a body past the limit, bad
  // chunking): its error response, if no response head was written yet, is
  // in pending_output(), and the connection ends after it.
  bool request_failed() const;
  // Bytes of the next request head have arrived but not the whole head: the
  // driver's request-head timer applies, not the keep-alive idle timer.
  bool head_in_progress() const;

  // The server is shutting down (or otherwise wants this connection gone):
  // the current response, if its head is not written yet, and every later one
  // carry "Connection: close", and the connection ends after the response in
  // progress (keep_alive() is false from now on). Idempotent.
  void close_after_response();

  // The driver's request-head timer expired. If bytes of a head had arrived
  // (head_in_progress()), queues a 408 with Connection: close in
  // pending_output() and returns true; a connection that sent nothing is just
  // closed (false). Either way the next event is Closed. Precondition: no
  // request is active.
  bool head_timed_out();

  // The driver wrote the complete response: forget the request and go on with
  // pipelined input. Precondition: response_complete(). If !keep_alive(), the
  // next event is Closed.
  void start_next_request();

  // Access log: the current (or last) request's method, raw target as sent,
  // version ("1.1"), and response status (0 before the start).
  std::string_view method() const;
  std::string_view raw_target() const;
  std::string_view http_version() const;
  int status() const;

  // Drop buffer capacity (idle keep-alive connections keep little memory).
  void shrink_buffers();

  // The request switches protocols (a WebSocket handshake the server
  // accepted): the bytes read after its head, which belong to the new
  // protocol, are handed over, and this connection is done (next_event()
  // returns Closed). Precondition: a request is active.
  std::string take_input();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A complete standalone error response (status line, Date, Server, Connection:
// close, Content-Type: text/plain, Content-Length, body = reason phrase), for a
// driver that answers before any ServerConnection exists (e.g. 503).
std::string error_response(int status, std::string_view server_header = "csgi",
                           SharedDate& date = process_date());

}  // namespace csgi::protocol
