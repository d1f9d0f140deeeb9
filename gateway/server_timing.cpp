// middleware::server_timing: how long the app took to start its response.
#include <chrono>
#include <cstdio>

#include "gateway/middleware.hpp"

namespace csgi::middleware {

namespace {

using Clock = std::chrono::steady_clock;

std::string timing_since(Clock::time_point started) {
  std::chrono::duration<double, std::milli> elapsed = Clock::now() - started;
  char value[64];
  std::snprintf(value, sizeof value, "app;dur=%.3f", elapsed.count());
  return value;
}

// Keeps the timed start_response alive for as long as the app's body may call it.
class KeepAliveSource : public wsgi::Body::Source {
 public:
  KeepAliveSource(wsgi::Body body, std::shared_ptr<wsgi::StartResponse> start_response)
      : body_(std::move(body)), start_response_(std::move(start_response)) {}
  std::optional<std::string> next() override { return body_.next(); }
  void close() override { body_.close(); }
  bool exhausted() const override { return body_.exhausted(); }

 private:
  wsgi::Body body_;
  std::shared_ptr<wsgi::StartResponse> start_response_;
};

}  // namespace

asgi::App server_timing(asgi::App app) {
  auto inner = std::make_shared<const asgi::App>(std::move(app));
  return [inner](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    if (scope.type != asgi::ScopeType::http)
      return (*inner)(std::move(scope), std::move(receive), std::move(send));
    asgi::Send timed = [send = std::move(send), started = Clock::now()](asgi::SendEvent event) {
      if (auto* start = std::get_if<asgi::HttpResponseStart>(&event))
        start->headers.emplace_back("server-timing", timing_since(started));
      return send(std::move(event));
    };
    return (*inner)(std::move(scope), std::move(receive), std::move(timed));
  };
}

wsgi::App server_timing(wsgi::App app) {
  auto inner = std::make_shared<const wsgi::App>(std::move(app));
  return [inner](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    auto timed = std::make_shared<wsgi::StartResponse>(
        [&start_response, started = Clock::now()](int status, Headers headers,
                                                   std::exception_ptr exc_info) {
          headers.emplace_back("Server-Timing", timing_since(started));
          return start_response(status, std::move(headers), std::move(exc_info));
        });
    wsgi::Body body = (*inner)(environ, *timed);
    return wsgi::Body(std::make_unique<KeepAliveSource>(std::move(body), std::move(timed)));
  };
}

Middleware server_timing() {
  return {[](asgi::App app) { return server_timing(std::move(app)); },
          [](wsgi::App app) { return server_timing(std::move(app)); }};
}

}  // namespace csgi::middleware
