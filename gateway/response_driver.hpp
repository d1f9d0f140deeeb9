// The server side of one call of a sync app (spec/sync.md), for every server
// and adapter that hosts one: start_response with the exc_info rules, the
// write callable, headers held until the first non-empty chunk, the body pulled
// chunk by chunk and closed whatever happens.
//
// The host says how a head and a chunk leave (`send_head`, `send_chunk`); both
// may block, and may throw (asgi::ClientDisconnected when the client is gone),
// which ends the call.
#pragma once

#include <functional>
#include <string_view>

#include "gateway/wsgi.hpp"

namespace csgi::wsgi {

class ResponseDriver {
 public:
  using SendHead = std::function<void(int status, Headers headers)>;
  using SendChunk = std::function<void(std::string_view chunk)>;

  ResponseDriver(SendHead send_head, SendChunk send_chunk)
      : send_head_(std::move(send_head)), send_chunk_(std::move(send_chunk)) {}
  ResponseDriver(const ResponseDriver&) = delete;
  ResponseDriver& operator=(const ResponseDriver&) = delete;

  // Calls `app` and pulls its body to the end, then sends the head if no chunk
  // did. Throws what the app, its body or a send threw (after closing the
  // body); std::logic_error when the app writes before start_response or calls
  // it twice without exc_info; std::runtime_error when it never calls it.
  // `environ` must stay valid during the call.
  void run(const App& app, Environ& environ);

  // True once the head went out: from then on an error can only abort.
  bool head_sent() const { return head_sent_; }

 private:
  Write start_response(int status, Headers headers, std::exception_ptr exc_info);
  void write(std::string_view data);
  void send_head();

  SendHead send_head_;
  SendChunk send_chunk_;
  bool started_ = false;
  bool head_sent_ = false;
  int status_ = 200;
  Headers headers_;
};

}  // namespace csgi::wsgi
