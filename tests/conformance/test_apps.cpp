#include "tests/conformance/test_apps.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/adapters.hpp"
#include "gateway/testing/async_test.hpp"

namespace csgi::conformance {

namespace asio = boost::asio;
using asgi::awaitable;

namespace {

Headers text_headers(std::size_t length) {
  return {{"content-type", "text/plain"}, {"content-length", std::to_string(length)}};
}

int query_ms(std::string_view query) {
  auto at = query.find("ms=");
  return at == std::string_view::npos ? 0 : std::stoi(std::string(query.substr(at + 3)));
}

// ---- async ---------------------------------------------------------------

awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

awaitable<void> answer(asgi::Send& send, int status, std::string body) {
  co_await send(asgi::HttpResponseStart{status, text_headers(body.size())});
  co_await send(asgi::HttpResponseBody{std::move(body), false});
}

awaitable<std::string> read_body(asgi::Receive& receive) {
  std::string body;
  for (;;) {
    auto event = co_await receive();
    auto* request = std::get_if<asgi::HttpRequest>(&event);
    if (!request) co_return body;
    body += request->body;
    if (!request->more_body) co_return body;
  }
}

awaitable<void> receive_one(asgi::Receive receive) { co_await receive(); }

bool is_protocol_violation(std::exception_ptr error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const asgi::ProtocolViolation&) {
    return true;
  } catch (...) {
  }
  return false;
}

// Sets a flag however the coroutine ends: by returning, throwing or being
// cancelled (its frame destroyed).
struct SetOnExit {
  std::atomic<bool>& flag;
  ~SetOnExit() { flag = true; }
};

awaitable<void> serve_websocket(std::shared_ptr<Probe> probe, asgi::Scope scope,
                                asgi::Receive receive, asgi::Send send) {
  co_await receive();  // websocket.connect
  if (scope.path == "/ws/deny") {
    co_await send(asgi::HttpResponseStart{401, {{"content-type", "text/plain"}}});
    co_return co_await send(asgi::HttpResponseBody{"denied"});
  }
  if (scope.path == "/ws/close") co_return co_await send(asgi::WebSocketClose{});
  if (scope.path == "/ws/flood") {
    co_await send(asgi::WebSocketAccept{});
    const std::string megabyte(1 << 20, 'x');
    for (;;) {
      co_await send(asgi::WebSocketMessage{megabyte, asgi::MessageType::binary});
      ++probe->flood_sent;
    }
  }
  if (scope.path != "/ws/echo") throw asgi::UnsupportedScope();
  asgi::WebSocketAccept accept;
  if (!scope.subprotocols.empty()) accept.subprotocol = scope.subprotocols.front();
  co_await send(std::move(accept));
  for (;;) {
    auto event = co_await receive();
    if (auto* gone = std::get_if<asgi::WebSocketDisconnect>(&event)) {
      probe->websocket_disconnect = gone->code;
      co_return;
    }
    co_await send(std::get<asgi::WebSocketMessage>(std::move(event)));
  }
}

awaitable<void> serve_http_async(std::shared_ptr<Probe> probe, asgi::Scope scope,
                                 asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::websocket)
    co_return co_await serve_websocket(probe, std::move(scope), std::move(receive), std::move(send));
  const std::string& path = scope.path;
  if (path == "/hello") co_return co_await answer(send, 200, "Hello, world!");
  if (path == "/echo") co_return co_await answer(send, 200, co_await read_body(receive));
  if (path == "/chunked") {
    co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    for (const char* piece : {"one,", "two,"}) co_await send(asgi::HttpResponseBody{piece, true});
    co_return co_await send(asgi::HttpResponseBody{"three", false});
  }
  if (path == "/whole") {
    co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    co_return co_await send(asgi::HttpResponseBody{"all at once", false});
  }
  if (path == "/state") {
    auto greeting = scope.state ? scope.state->get<std::string>("greeting") : nullptr;
    co_return co_await answer(send, 200, greeting ? *greeting : "no state");
  }
  if (path == "/slow") {
    co_await sleep_for(std::chrono::milliseconds(query_ms(scope.query_string)));
    ++probe->slow_finished;
    co_return co_await answer(send, 200, "done");
  }
  if (path == "/stream") {
    SetOnExit stopped{probe->stream_stopped};
    co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    for (;;) {
      co_await send(asgi::HttpResponseBody{"tick", true});
      co_await sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (path == "/raise-before") throw std::runtime_error("boom before start");
  if (path == "/raise-after") {
    co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    co_await send(asgi::HttpResponseBody{"partial", true});
    throw std::runtime_error("boom after start");
  }
  if (path == "/incomplete") {
    co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    co_return co_await send(asgi::HttpResponseBody{"partial", true});
  }
  if (path == "/wait-disconnect") {
    for (;;) {
      auto event = co_await receive();
      if (std::holds_alternative<asgi::HttpDisconnect>(event)) {
        probe->saw_disconnect = true;
        co_return;
      }
    }
  }
  if (path == "/bad-start") {
    bool refused = false;
    try {
      co_await send(asgi::HttpResponseStart{200, {{"bad name", "x"}}});
    } catch (const asgi::ProtocolViolation&) {
      refused = true;
    }
    if (refused) co_return co_await answer(send, 200, "refused at start");
    co_return co_await send(asgi::HttpResponseBody{"accepted", false});
  }
  if (path == "/double-receive") {
    co_await read_body(receive);
    auto error = co_await testing::overlap(receive_one(receive), receive_one(receive));
    co_return co_await answer(send, 200, is_protocol_violation(error) ? "second receive refused"
                                                                      : "second receive accepted");
  }
  if (path == "/double-send") {
    co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    // A send is pending while the server has not taken its chunk: at once
    // where the server takes a chunk only between calls of the app, once the
    // socket is full where it writes during the call. The client reads
    // nothing, so one of the first sends waits, and the second beside it must
    // be refused; until then each second send is one that came after.
    std::exception_ptr error;
    for (int round = 0; !error && round < 100000; ++round)
      error = co_await testing::overlap(send(asgi::HttpResponseBody{std::string(16 << 10, 'x'), true}),
                                        send(asgi::HttpResponseBody{"second", true}));
    probe->second_send = is_protocol_violation(error) ? 1 : 2;
    throw std::runtime_error("double send done");
  }
  co_await answer(send, 404, "not found");
}

// ---- sync ----------------------------------------------------------------

wsgi::Body answer_sync(wsgi::StartResponse& start_response, int status, std::string body) {
  start_response(status, text_headers(body.size()));
  return wsgi::Body(std::move(body));
}

wsgi::Body serve_http_sync(const std::shared_ptr<Probe>& probe, wsgi::Environ& environ,
                           wsgi::StartResponse& start_response) {
  const std::string& path = environ.path_info;
  if (path == "/hello") return answer_sync(start_response, 200, "Hello, world!");
  if (path == "/echo") return answer_sync(start_response, 200, environ.input->read());
  if (path == "/chunked") {
    start_response(200, {{"content-type", "text/plain"}});
    return wsgi::Body(std::vector<std::string>{"one,", "two,", "three"});
  }
  if (path == "/whole") {
    start_response(200, {{"content-type", "text/plain"}});
    return wsgi::Body("all at once");
  }
  if (path == "/state") {
    auto greeting = environ.state ? environ.state->get<std::string>("greeting") : nullptr;
    return answer_sync(start_response, 200, greeting ? *greeting : "no state");
  }
  if (path == "/slow") {
    std::this_thread::sleep_for(std::chrono::milliseconds(query_ms(environ.query_string)));
    ++probe->slow_finished;
    return answer_sync(start_response, 200, "done");
  }
  if (path == "/stream") {
    start_response(200, {{"content-type", "text/plain"}});
    return wsgi::Body::generate(
        [] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return std::optional<std::string>("tick");
        },
        [probe] { probe->stream_stopped = true; });
  }
  if (path == "/raise-before") throw std::runtime_error("boom before start");
  if (path == "/raise-after") {
    start_response(200, {{"content-type", "text/plain"}});
    auto sent = std::make_shared<bool>(false);
    return wsgi::Body::generate([sent]() -> std::optional<std::string> {
      if (std::exchange(*sent, true)) throw std::runtime_error("boom after start");
      return "partial";
    });
  }
  if (path == "/bad-start") {
    try {
      start_response(200, {{"bad name", "x"}});
    } catch (const std::logic_error&) {
      return answer_sync(start_response, 200, "refused at start");
    }
    return wsgi::Body("accepted");
  }
  if (path == "/late-write") {
    wsgi::Write write = start_response(200, {{"content-type", "text/plain"}});
    auto done = std::make_shared<bool>(false);
    return wsgi::Body::generate([write, done]() -> std::optional<std::string> {
      if (std::exchange(*done, true)) return std::nullopt;
      try {
        write("late");
      } catch (const std::logic_error&) {
        return "late write refused";
      }
      return "late write accepted";
    });
  }
  return answer_sync(start_response, 404, "not found");
}

// ---- lifespan, shared by both kinds -------------------------------------

awaitable<void> run_lifespan(std::shared_ptr<Probe> probe, asgi::Scope scope,
                             asgi::Receive receive, asgi::Send send) {
  co_await receive();  // lifespan.startup
  if (probe->fail_startup) {
    co_await send(asgi::LifespanStartupFailed{"database unreachable"});
    co_return;
  }
  scope.state->set("greeting", std::string("hello from startup"));
  co_await send(asgi::LifespanStartupComplete{});
  co_await receive();  // lifespan.shutdown
  probe->shutdown_ran = true;
  co_await send(asgi::LifespanShutdownComplete{});
}

awaitable<void> dispatch(asgi::App http, std::shared_ptr<Probe> probe, asgi::Scope scope,
                         asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::lifespan)
    co_return co_await run_lifespan(probe, std::move(scope), std::move(receive), std::move(send));
  co_await http(std::move(scope), std::move(receive), std::move(send));
}

}  // namespace

Application conformance_app(AppKind kind, std::shared_ptr<Probe> probe) {
  wsgi::App sync_http = [probe](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    return serve_http_sync(probe, environ, start_response);
  };
  asgi::App async_http = [probe](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return serve_http_async(probe, std::move(scope), std::move(receive), std::move(send));
  };
  auto with_lifespan = [probe](asgi::App http) -> asgi::App {
    return [http, probe](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
      return dispatch(http, probe, std::move(scope), std::move(receive), std::move(send));
    };
  };
  Application app;
  if (kind == AppKind::async) {
    app.name = "conformance-async";
    app.as_async = [=](SyncExecutor&) { return with_lifespan(async_http); };
    app.as_sync = [=] { return asgi_to_wsgi(with_lifespan(async_http)); };
  } else {
    app.name = "conformance-sync";
    app.as_async = [=](SyncExecutor& executor) {
      return with_lifespan(wsgi_to_asgi(sync_http, executor));
    };
    app.as_sync = [=] { return sync_http; };
  }
  return app;
}

}  // namespace csgi::conformance
