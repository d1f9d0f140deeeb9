// middleware::exceptions_to_500: the app's exception as a 500 while that is
// still possible (spec/async.md and spec/sync.md, "Error handling").
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "gateway/error_log.hpp"
#include "gateway/middleware.hpp"

namespace csgi::middleware {

namespace asio = boost::asio;

namespace {

constexpr std::string_view error_body = "Internal Server Error";

Headers error_headers() {
  return {{"content-type", "text/plain; charset=utf-8"},
          {"content-length", std::to_string(error_body.size())}};
}

// ---- async form --------------------------------------------------------------

// What the app sent so far: the held http.response.start, and whether anything
// went on to the server.
struct SendState {
  std::optional<asgi::HttpResponseStart> held;
  bool forwarded = false;
};

asgi::awaitable<void> forward(std::shared_ptr<SendState> state, asgi::Send send,
                              asgi::SendEvent event) {
  auto* start = std::get_if<asgi::HttpResponseStart>(&event);
  if (start && !state->held && !state->forwarded) {
    state->held = std::move(*start);
    co_return;
  }
  state->forwarded = true;
  if (state->held) {
    asgi::HttpResponseStart held = std::move(*state->held);
    state->held.reset();
    co_await send(std::move(held));
  }
  co_await send(std::move(event));
}

asgi::awaitable<void> call_guarded(std::shared_ptr<const asgi::App> app, asgi::Scope scope,
                                   asgi::Receive receive, asgi::Send send) {
  if (scope.type != asgi::ScopeType::http) {
    co_await (*app)(std::move(scope), std::move(receive), std::move(send));
    co_return;
  }
  auto state = std::make_shared<SendState>();
  asgi::Send guarded = [state, send](asgi::SendEvent event) {
    return forward(state, send, std::move(event));
  };
  std::string method = scope.method;
  std::string path = scope.path;
  std::exception_ptr error;
  try {
    co_await (*app)(std::move(scope), std::move(receive), std::move(guarded));
  } catch (const asgi::ClientDisconnected&) {
    throw;
  } catch (const boost::system::system_error& e) {
    // The server's cancellation (a disconnect, or the end of a graceful
    // shutdown) ends the request; it is nobody's error (spec/async.md,
    // "Cancellation").
    if (e.code() == asio::error::operation_aborted) throw;
    error = std::current_exception();
  } catch (...) {
    error = std::current_exception();
  }
  if (!error) {
    // A start never followed by a body: pass it on, so the server sees the
    // incomplete response for what it is.
    if (state->held) co_await send(std::move(*state->held));
    co_return;
  }
  // Whatever the app turned the cancellation into is not an error to answer
  // either, and a cancelled coroutine could not send the 500.
  auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
  if (state->forwarded || cancelled != asio::cancellation_type::none)
    std::rethrow_exception(error);
  log_app_error("Exception in ASGI application", method, path, error);
  co_await send(asgi::HttpResponseStart{500, error_headers(), false});
  co_await send(asgi::HttpResponseBody{std::string(error_body), false});
}

// ---- sync form ---------------------------------------------------------------

// The app's body; an exception from it becomes the 500 body through exc_info
// (which start_response rethrows once the headers are out).
class GuardedSource : public wsgi::Body::Source {
 public:
  GuardedSource(wsgi::Body body, wsgi::StartResponse& start_response, const wsgi::Environ& environ)
      : body_(std::move(body)),
        start_response_(start_response),
        method_(environ.request_method),
        path_(environ.path_info) {}

  std::optional<std::string> next() override {
    if (failed_) return std::nullopt;  // the error page was the last chunk
    try {
      return body_.next();
    } catch (const asgi::ClientDisconnected&) {
      throw;
    } catch (...) {
      auto error = std::current_exception();
      start_response_(500, error_headers(), error);  // rethrows if too late
      log_app_error("Exception in WSGI application", method_, path_, error);
      failed_ = true;
      try {
        body_.close();
      } catch (...) {
        // The app already failed; its close failing too adds nothing.
      }
      return std::string(error_body);
    }
  }
  void close() override { body_.close(); }
  // After the error page nothing follows; otherwise the app's body knows.
  bool exhausted() const override { return failed_ || body_.exhausted(); }

 private:
  wsgi::Body body_;
  wsgi::StartResponse& start_response_;
  std::string method_;
  std::string path_;
  bool failed_ = false;
};

wsgi::Body call_guarded(const wsgi::App& app, wsgi::Environ& environ,
                        wsgi::StartResponse& start_response) {
  try {
    wsgi::Body body = app(environ, start_response);
    return wsgi::Body(std::make_unique<GuardedSource>(std::move(body), start_response, environ));
  } catch (const asgi::ClientDisconnected&) {
    throw;
  } catch (...) {
    auto error = std::current_exception();
    start_response(500, error_headers(), error);
    log_app_error("Exception in WSGI application", environ.request_method,
                          environ.path_info, error);
    return wsgi::Body(std::string(error_body));
  }
}

}  // namespace

asgi::App exceptions_to_500(asgi::App app) {
  auto inner = std::make_shared<const asgi::App>(std::move(app));
  return [inner](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return call_guarded(inner, std::move(scope), std::move(receive), std::move(send));
  };
}

wsgi::App exceptions_to_500(wsgi::App app) {
  auto inner = std::make_shared<const wsgi::App>(std::move(app));
  return [inner](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    return call_guarded(*inner, environ, start_response);
  };
}

Middleware exceptions_to_500() {
  return {[](asgi::App app) { return exceptions_to_500(std::move(app)); },
          [](wsgi::App app) { return exceptions_to_500(std::move(app)); }};
}

}  // namespace csgi::middleware
