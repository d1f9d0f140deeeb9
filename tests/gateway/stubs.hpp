// Hand-driven servers for the adapter tests: they script what the app receives,
// record what it sends, and log both in one transcript so tests can assert the
// order in which the two sides ran.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "gateway/asgi.hpp"
#include "gateway/testing/error_log_capture.hpp"
#include "gateway/wsgi.hpp"

namespace csgi::test {

// Lines appended from any thread.
class Transcript {
 public:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// The server side of one async call: `incoming` is what receive() returns in
// turn (then http.disconnect forever); every sent event is kept in `sent`.
class AsyncServerStub {
 public:
  std::deque<asgi::ReceiveEvent> incoming;
  std::vector<asgi::SendEvent> sent;
  Transcript log;
  // When >= 0, the body event with this index (counting from 0) throws
  // ClientDisconnected instead of being taken, and so does every later send.
  int disconnect_at_body = -1;

  asgi::Receive receive() {
    return [this] { return do_receive(); };
  }
  asgi::Send send() {
    return [this](asgi::SendEvent event) { return do_send(std::move(event)); };
  }

  // The statuses and bodies sent, in order, as text: "start 200", "body a more".
  std::vector<std::string> events() const {
    std::vector<std::string> out;
    for (const auto& event : sent) out.push_back(describe(event));
    return out;
  }

  static std::string describe(const asgi::SendEvent& event) {
    if (auto* start = std::get_if<asgi::HttpResponseStart>(&event))
      return "start " + std::to_string(start->status);
    if (auto* body = std::get_if<asgi::HttpResponseBody>(&event))
      return "body " + body->body + (body->more_body ? " more" : " end");
    return std::string(asgi::event_name(event));
  }

 private:
  asgi::awaitable<asgi::ReceiveEvent> do_receive() {
    asgi::ReceiveEvent event = asgi::HttpDisconnect{};
    if (!incoming.empty()) {
      event = std::move(incoming.front());
      incoming.pop_front();
    }
    log.add("receive " + std::string(asgi::event_name(event)));
    co_return event;
  }

  asgi::awaitable<void> do_send(asgi::SendEvent event) {
    if (std::holds_alternative<asgi::HttpResponseBody>(event) && disconnect_at_body >= 0 &&
        bodies_++ >= disconnect_at_body) {
      log.add("send refused");
      throw asgi::ClientDisconnected();
    }
    log.add("send " + describe(event));
    sent.push_back(std::move(event));
    co_return;
  }

  int bodies_ = 0;
};

// The sync server side of one call: records start_response calls (ignoring
// exc_info) and offers `body` as the input, with a Content-Length by default.
struct SyncServerStub {
  wsgi::Environ environ;
  std::unique_ptr<wsgi::StringInputStream> input;
  std::vector<int> statuses;
  Headers headers;
  wsgi::StartResponse start_response{[this](int status, Headers h, std::exception_ptr) {
    statuses.push_back(status);
    headers = std::move(h);
    return wsgi::Write([](std::string_view) {});
  }};

  explicit SyncServerStub(std::string body = {}, bool with_length = true) {
    input = std::make_unique<wsgi::StringInputStream>(body);
    environ.input = input.get();
    if (with_length) environ.headers.emplace_back("content-length", std::to_string(body.size()));
  }
  wsgi::Body call(const wsgi::App& app) { return app(environ, start_response); }
};

// Runs one call of `app` on a fresh loop until nothing is left to do; returns
// what escaped the app. Fails the test if the call never completed.
inline std::exception_ptr run_async_app(const asgi::App& app, AsyncServerStub& server,
                                        asgi::Scope scope = {}) {
  boost::asio::io_context context;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(context, app(std::move(scope), server.receive(), server.send()),
                        [&](std::exception_ptr e) {
                          error = e;
                          done = true;
                        });
  context.run();
  EXPECT_TRUE(done) << "the app never completed";
  return error;
}

// A sync app that starts a 200 with `headers` and returns `make_body()`.
inline wsgi::App returning(std::function<wsgi::Body()> make_body, Headers headers = {}) {
  return [make_body, headers](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, headers);
    return make_body();
  };
}

// A body of `chunks` made by a generator, which cannot tell that a chunk is its
// last (Body::exhausted() stays false until the end).
inline wsgi::Body generated(std::vector<std::string> chunks) {
  auto left = std::make_shared<std::deque<std::string>>(chunks.begin(), chunks.end());
  return wsgi::Body::generate([left]() -> std::optional<std::string> {
    if (left->empty()) return std::nullopt;
    std::string chunk = std::move(left->front());
    left->pop_front();
    return chunk;
  });
}

// The message of the exception in `error`, or "" when there is none.
inline std::string what(std::exception_ptr error) { return exception_message(error); }

}  // namespace csgi::test
