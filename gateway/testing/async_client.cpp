#include "gateway/testing/async_client.hpp"

#include <deque>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include "gateway/adapters.hpp"
#include "runtime/async_event.hpp"

namespace csgi::testing {

namespace asio = boost::asio;

// Both sides of one exchange; everything runs on the test's loop thread.
struct Exchange::State {
  State(const asio::any_io_executor& executor, asgi::Scope scope_)
      : changed(executor), scope(std::move(scope_)) {}

  AsyncEvent changed;  // any field below changed (notified)
  asgi::Scope scope;
  std::deque<asgi::ReceiveEvent> incoming;
  bool request_complete = false;
  std::optional<asgi::SendEvent> outgoing;  // sent by the app, not yet taken by the test
  bool started = false;
  bool trailers_due = false;
  bool body_complete = false;
  bool response_complete = false;
  bool disconnected = false;
  bool app_done = false;
  bool receiving = false;  // a receive() of the app is in progress
  bool sending = false;    // a send() of the app is in progress
  std::exception_ptr error;

  asgi::awaitable<asgi::ReceiveEvent> receive() {
    asgi::PendingCall pending(receiving, "receive()");
    for (;;) {
      if (disconnected) co_return asgi::HttpDisconnect{};
      if (!incoming.empty()) {
        asgi::ReceiveEvent event = std::move(incoming.front());
        incoming.pop_front();
        co_return event;
      }
      if (request_complete && response_complete) co_return asgi::HttpDisconnect{};
      co_await changed.wait();
    }
  }

  asgi::awaitable<void> send(asgi::SendEvent event) {
    asgi::PendingCall pending(sending, "send()");
    if (disconnected) throw asgi::ClientDisconnected();
    check_order(event);
    outgoing = std::move(event);
    changed.notify();
    while (outgoing && !disconnected) co_await changed.wait();
    if (outgoing) {
      outgoing.reset();
      throw asgi::ClientDisconnected();
    }
  }

  // The ordering rules of spec/async.md, as a server enforces them.
  void check_order(const asgi::SendEvent& event) {
    if (auto* start = std::get_if<asgi::HttpResponseStart>(&event)) {
      if (started) throw asgi::ProtocolViolation("http.response.start sent twice");
      started = true;
      trailers_due = start->trailers;
    } else if (auto* body = std::get_if<asgi::HttpResponseBody>(&event)) {
      if (!started) throw asgi::ProtocolViolation("http.response.body before http.response.start");
      if (body_complete) throw asgi::ProtocolViolation("http.response.body after the final body");
      body_complete = !body->more_body;
      if (body_complete && !trailers_due) complete_response();
    } else if (auto* trailers = std::get_if<asgi::HttpResponseTrailers>(&event)) {
      if (!trailers_due || !body_complete)
        throw asgi::ProtocolViolation("trailers not announced, or before the final body");
      if (!trailers->more_trailers) complete_response();
    } else {
      throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) +
                                    " is not valid on an http scope");
    }
  }

  void complete_response() {
    response_complete = true;
    changed.notify();
  }
};

Exchange::~Exchange() {
  if (!state_->app_done) disconnect();
}

void Exchange::send_body(std::string chunk, bool more_body) {
  if (state_->request_complete) throw std::logic_error("request body sent after its end");
  state_->request_complete = !more_body;
  state_->incoming.push_back(asgi::HttpRequest{std::move(chunk), more_body});
  state_->changed.notify();
}

asgi::awaitable<std::optional<asgi::SendEvent>> Exchange::next_event() {
  while (!state_->outgoing && !state_->app_done) co_await state_->changed.wait();
  if (!state_->outgoing) co_return std::nullopt;
  asgi::SendEvent event = std::move(*state_->outgoing);
  state_->outgoing.reset();
  state_->changed.notify();
  co_return event;
}

void Exchange::disconnect() {
  state_->disconnected = true;
  state_->changed.notify();
}

asgi::awaitable<void> Exchange::finished() {
  while (!state_->app_done) co_await state_->changed.wait();
  if (state_->error) std::rethrow_exception(state_->error);
}

asgi::awaitable<TestResponse> Exchange::response(bool raise_app_exceptions) {
  TestResponse response;
  bool trailers = false;
  bool first_body = true;
  while (auto event = co_await next_event()) {
    if (auto* start = std::get_if<asgi::HttpResponseStart>(&*event)) {
      response.status = start->status;
      response.headers = std::move(start->headers);
      trailers = start->trailers;
    } else if (auto* body = std::get_if<asgi::HttpResponseBody>(&*event)) {
      // A server writes the head with the first body event: the whole body is
      // known when that event is also the last, and no trailers follow.
      if (std::exchange(first_body, false)) {
        bool whole = !body->more_body && !trailers;
        detail::add_framing_header(response,
                                   whole ? std::optional(body->body.size()) : std::nullopt);
      }
      if (body->body.empty()) continue;
      response.body += body->body;
      response.chunks.push_back(std::move(body->body));
    } else if (auto* trailers = std::get_if<asgi::HttpResponseTrailers>(&*event)) {
      response.trailers.insert(response.trailers.end(), trailers->headers.begin(),
                               trailers->headers.end());
    }
  }
  if (state_->error) {
    // A server answers 500 while nothing was written, and aborts after.
    if (raise_app_exceptions || !response.chunks.empty()) std::rethrow_exception(state_->error);
    co_return detail::server_error_response();
  }
  if (!state_->started) throw std::runtime_error("app returned without starting a response");
  if (!state_->response_complete)
    throw std::runtime_error("app returned without completing its response");
  co_return response;
}

const asgi::Scope& Exchange::scope() const { return state_->scope; }

AsyncClient::AsyncClient(asgi::App app, Options options)
    : app_(std::move(app)), options_(options) {}

AsyncClient::AsyncClient(wsgi::App app, SyncExecutor& executor, Options options)
    : app_(wsgi_to_asgi(std::move(app), executor)), options_(options) {}

AsyncClient::AsyncClient(const Application& app, SyncExecutor& executor, Options options)
    : app_(app.as_async(executor)), options_(options) {}

asgi::awaitable<TestResponse> AsyncClient::get(std::string target, Headers headers) {
  co_return co_await request("GET", std::move(target), std::move(headers));
}

asgi::awaitable<TestResponse> AsyncClient::post(std::string target, std::string body,
                                                Headers headers) {
  co_return co_await request("POST", std::move(target), std::move(headers), std::move(body));
}

asgi::awaitable<TestResponse> AsyncClient::request(std::string method, std::string target,
                                                   Headers headers, std::string body) {
  auto exchange = co_await start(factory.scope(method, target, std::move(headers), body));
  exchange->send_body(std::move(body), false);
  co_return co_await exchange->response(options_.raise_app_exceptions);
}

asgi::awaitable<std::unique_ptr<Exchange>> AsyncClient::open(std::string method,
                                                             std::string target,
                                                             Headers headers) {
  // A body of unknown length unless the test says otherwise.
  if (!find_header(headers, "content-length") && !find_header(headers, "transfer-encoding"))
    headers.emplace_back("transfer-encoding", "chunked");
  co_return co_await start(factory.scope(method, target, std::move(headers)));
}

asgi::awaitable<std::unique_ptr<Exchange>> AsyncClient::start(asgi::Scope scope) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<Exchange::State>(executor, std::move(scope));
  auto run_app = [app = app_, state] {
    return app(
        asgi::Scope(state->scope), [state] { return state->receive(); },
        [state](asgi::SendEvent event) { return state->send(std::move(event)); });
  };
  asio::co_spawn(executor, std::move(run_app), [state](std::exception_ptr error) {
    state->app_done = true;
    state->error = error;
    state->changed.notify();
  });
  co_return std::make_unique<Exchange>(state);
}

asgi::awaitable<std::unique_ptr<TestWebSocket>> AsyncClient::websocket_connect(
    std::string target, std::vector<std::string> subprotocols, Headers headers) {
  asgi::Scope scope = factory.scope("GET", target, std::move(headers));
  scope.type = asgi::ScopeType::websocket;
  scope.scheme = "ws";
  scope.subprotocols = std::move(subprotocols);
  scope.extensions.websocket_http_response = true;
  co_return co_await open_websocket(app_, std::move(scope));
}

}  // namespace csgi::testing
