#include "gateway/response_driver.hpp"

#include <stdexcept>
#include <utility>

#include "gateway/asgi.hpp"
#include "gateway/error_log.hpp"

namespace csgi::wsgi {

void ResponseDriver::run(const App& app, Environ& environ) {
  StartResponse start_response([this](int status, Headers headers, std::exception_ptr exc_info) {
    return this->start_response(status, std::move(headers), std::move(exc_info));
  });
  Body body = app(environ, start_response);
  app_returned_ = true;
  try {
    pull(body);
  } catch (...) {
    if (!complete_) {
      // The first failure is the one to report, not a close failing after it.
      try {
        body.close();
      } catch (...) {
      }
      throw;
    }
    report_late_error(environ, std::current_exception());
  }
  // After a normal end, the close runs once the response is complete, and a
  // failure there cannot change what the client got.
  try {
    body.close();
  } catch (...) {
    report_late_error(environ, std::current_exception());
  }
}

void ResponseDriver::pull(Body& body) {
  while (auto chunk = body.next()) {
    const bool more = !body.exhausted();
    send(std::move(*chunk), more);
  }
  finish();
}

Write ResponseDriver::start_response(int status, Headers headers, std::exception_ptr exc_info) {
  if (exc_info) {
    // Too late to replace what the client has seen: the app's error wins.
    if (head_sent_) std::rethrow_exception(exc_info);
  } else if (started_) {
    throw std::logic_error("start_response called a second time without exc_info");
  }
  // At the call, so that the app's bug shows where it is made, not at a write.
  asgi::check_response_start(status, headers);
  started_ = true;
  status_ = status;
  headers_ = std::move(headers);
  return [this](std::string_view data) {
    if (app_returned_) throw std::logic_error("write called after the app returned");
    send(std::string(data), true);
  };
}

void ResponseDriver::send(std::string data, bool more) {
  // An empty chunk says nothing, so it is not an error even before
  // start_response; and holding the head until the first non-empty chunk lets
  // an error before it still replace the head (exc_info).
  if (data.empty()) return;
  if (!started_) throw std::logic_error("response body written before start_response");
  if (complete_) throw std::logic_error("response body written after the body ended");
  send_head();
  send_chunk_(std::move(data), more);
  complete_ = !more;
}

void ResponseDriver::send_head() {
  if (head_sent_) return;
  head_sent_ = true;
  send_head_(status_, std::move(headers_));  // never read again once sent
}

void ResponseDriver::finish() {
  if (!started_) throw std::runtime_error("sync app returned without calling start_response");
  send_head();
  if (complete_) return;
  send_chunk_({}, false);
  complete_ = true;
}

void ResponseDriver::report_late_error(const Environ& environ, std::exception_ptr error) const {
  try {
    std::rethrow_exception(error);
  } catch (const asgi::ClientDisconnected&) {
    // The client has all of the response; that it left is no error.
  } catch (...) {
    log_app_error("Exception in WSGI application after its response was complete",
                          environ.request_method, environ.path_info, error);
  }
}

}  // namespace csgi::wsgi
