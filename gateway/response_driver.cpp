#include "gateway/response_driver.hpp"

#include <stdexcept>

namespace csgi::wsgi {

void ResponseDriver::run(const App& app, Environ& environ) {
  StartResponse start_response([this](int status, Headers headers, std::exception_ptr exc_info) {
    return this->start_response(status, std::move(headers), std::move(exc_info));
  });
  Body body = app(environ, start_response);
  try {
    while (auto chunk = body.next()) write(*chunk);
  } catch (...) {
    // The first failure is the one to report, not a close failing after it.
    try {
      body.close();
    } catch (...) {
    }
    throw;
  }
  body.close();
  if (!started_) throw std::runtime_error("sync app returned without calling start_response");
  send_head();
}

Write ResponseDriver::start_response(int status, Headers headers, std::exception_ptr exc_info) {
  if (exc_info) {
    // Too late to replace what the client has seen: the app's error wins.
    if (head_sent_) std::rethrow_exception(exc_info);
  } else if (started_) {
    throw std::logic_error("start_response called a second time without exc_info");
  }
  started_ = true;
  status_ = status;
  headers_ = std::move(headers);
  return [this](std::string_view data) { write(data); };
}

void ResponseDriver::write(std::string_view data) {
  if (!started_) throw std::logic_error("response body written before start_response");
  // Held until the first non-empty chunk, so an error before it can still
  // replace the head (exc_info).
  if (data.empty()) return;
  send_head();
  send_chunk_(data);
}

void ResponseDriver::send_head() {
  if (head_sent_) return;
  head_sent_ = true;
  send_head_(status_, headers_);
}

}  // namespace csgi::wsgi
