// The server side of one call of a sync app (spec/sync.md), for every server
// and adapter that hosts one: start_response with the exc_info rules, the
// write callable, headers held until the first non-empty chunk, the body pulled
// chunk by chunk, the response completed, and the body closed whatever happens.
//
// The host says how a head and a chunk leave (`send_head`, `send_chunk`); both
// may block, and may throw (asgi::ClientDisconnected when the client is gone),
// which ends the call. send_chunk gets `more` false exactly once, on the chunk
// that ends the body (it may be empty); a host that sees the head followed at
// once by a chunk with `more` false knows the whole body, and can send it with
// a Content-Length.
#pragma once

#include <functional>
#include <string_view>

#include "gateway/wsgi.hpp"

namespace csgi::wsgi {

class ResponseDriver {
 public:
  using SendHead = std::function<void(int status, Headers headers)>;
  // The chunk is the body's own string, moved: a host that keeps it (an
  // event for the loop) takes it without a copy; one that writes it may
  // take a std::string_view.
  using SendChunk = std::function<void(std::string chunk, bool more)>;

  ResponseDriver(SendHead send_head, SendChunk send_chunk)
      : send_head_(std::move(send_head)), send_chunk_(std::move(send_chunk)) {}
  ResponseDriver(const ResponseDriver&) = delete;
  ResponseDriver& operator=(const ResponseDriver&) = delete;

  // Calls `app`, pulls its body to the end and completes the response, then
  // closes the body. A pulled chunk goes out with `more` false when the body
  // says it was the last (Body::exhausted()); otherwise an empty final chunk
  // follows the last one. Empty chunks (pulled or written) are skipped.
  //
  // Until the response is complete, throws what the app, its body or a send
  // threw (after closing the body); std::logic_error when the app writes
  // before start_response or calls it twice without exc_info;
  // std::runtime_error when it never calls it. start_response itself throws
  // std::logic_error (asgi::ProtocolViolation) for an invalid status or
  // header, recording nothing, and the write callable throws
  // std::logic_error once the app has returned. Once the response is complete,
  // what the body's next() or close() throws is logged to "csgi.error" and the
  // response stands: run() returns normally. `environ` must stay valid during
  // the call.
  void run(const App& app, Environ& environ);

  // True once the head went out: from then on an error can only abort.
  bool head_sent() const { return head_sent_; }
  // True once the chunk that ends the body went out.
  bool complete() const { return complete_; }

 private:
  Write start_response(int status, Headers headers, std::exception_ptr exc_info);
  void pull(Body& body);
  void send(std::string data, bool more);
  void send_head();
  void finish();
  void report_late_error(const Environ& environ, std::exception_ptr error) const;

  SendHead send_head_;
  SendChunk send_chunk_;
  bool app_returned_ = false;  // the call returned its Body: write is refused
  bool started_ = false;
  bool head_sent_ = false;
  bool complete_ = false;
  int status_ = 200;
  Headers headers_;
};

}  // namespace csgi::wsgi
