#include "gateway/testing/websocket.hpp"

#include <deque>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include "runtime/async_event.hpp"

namespace csgi::testing {

namespace asio = boost::asio;

// Both sides; everything runs on the test's loop thread.
struct TestWebSocket::State {
  explicit State(const asio::any_io_executor& executor) : changed(executor) {}

  AsyncEvent changed;  // any field below changed (notified)
  std::deque<asgi::ReceiveEvent> to_app;
  std::deque<asgi::SendEvent> from_app;
  bool accepted = false;
  bool closed = false;  // either side closed
  std::optional<std::string> subprotocol;
  std::uint16_t close_code = 0;
  bool app_done = false;
  bool receiving = false;
  bool sending = false;
  std::exception_ptr error;

  asgi::awaitable<asgi::ReceiveEvent> receive() {
    asgi::PendingCall pending(receiving, "receive()");
    while (to_app.empty()) co_await changed.wait();
    asgi::ReceiveEvent event = std::move(to_app.front());
    // The last event stays: a receive() after the disconnect gets it again.
    if (!std::holds_alternative<asgi::WebSocketDisconnect>(event)) to_app.pop_front();
    co_return event;
  }

  asgi::awaitable<void> send(asgi::SendEvent event) {
    asgi::PendingCall pending(sending, "send()");
    check(event);
    from_app.push_back(std::move(event));
    changed.notify();
    co_return;
  }

  // The rules a server applies (spec/websocket.md, "Events").
  void check(const asgi::SendEvent& event) {
    if (std::holds_alternative<asgi::WebSocketAccept>(event)) {
      if (accepted || closed) throw asgi::ProtocolViolation("websocket.accept after the handshake was answered");
      accepted = true;
    } else if (std::holds_alternative<asgi::WebSocketMessage>(event)) {
      if (!accepted) throw asgi::ProtocolViolation("websocket.send before websocket.accept");
      if (closed) throw asgi::ClientDisconnected();
    } else if (std::holds_alternative<asgi::HttpResponseStart>(event) ||
               std::holds_alternative<asgi::HttpResponseBody>(event)) {
      if (accepted) throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) + " after websocket.accept");
    } else if (!std::holds_alternative<asgi::WebSocketClose>(event)) {
      throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) + " sent in a websocket scope");
    }
  }

  void disconnect(std::uint16_t code) {
    if (closed) return;
    closed = true;
    to_app.push_back(asgi::WebSocketDisconnect{code, {}});
    changed.notify();
  }
};

TestWebSocket::~TestWebSocket() { state_->disconnect(1006); }

asgi::awaitable<void> TestWebSocket::send(std::string text) {
  if (state_->closed) throw asgi::ClientDisconnected();
  state_->to_app.push_back(asgi::WebSocketMessage{std::move(text), asgi::MessageType::text});
  state_->changed.notify();
  co_return;
}

asgi::awaitable<void> TestWebSocket::send_binary(std::string bytes) {
  if (state_->closed) throw asgi::ClientDisconnected();
  state_->to_app.push_back(asgi::WebSocketMessage{std::move(bytes), asgi::MessageType::binary});
  state_->changed.notify();
  co_return;
}

asgi::awaitable<std::optional<asgi::WebSocketMessage>> TestWebSocket::receive() {
  State& s = *state_;
  for (;;) {
    if (!s.from_app.empty()) {
      asgi::SendEvent event = std::move(s.from_app.front());
      s.from_app.pop_front();
      if (auto* message = std::get_if<asgi::WebSocketMessage>(&event)) co_return std::move(*message);
      if (auto* close = std::get_if<asgi::WebSocketClose>(&event)) {
        s.close_code = close->code;
        s.disconnect(close->code);
        co_return std::nullopt;
      }
      continue;
    }
    if (s.app_done) {
      if (s.close_code == 0) s.close_code = 1000;
      s.disconnect(1000);
      co_return std::nullopt;
    }
    co_await s.changed.wait();
  }
}

asgi::awaitable<void> TestWebSocket::close(std::uint16_t code) {
  state_->disconnect(code);
  while (!state_->app_done) co_await state_->changed.wait();
  if (state_->error) std::rethrow_exception(state_->error);
}

const std::optional<std::string>& TestWebSocket::subprotocol() const { return state_->subprotocol; }
std::uint16_t TestWebSocket::close_code() const { return state_->close_code; }

asgi::awaitable<std::unique_ptr<TestWebSocket>> open_websocket(const asgi::App& app, asgi::Scope scope) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<TestWebSocket::State>(executor);
  state->to_app.push_back(asgi::WebSocketConnect{});
  auto run_app = [app, state, scope = std::move(scope)]() mutable {
    return app(std::move(scope), [state] { return state->receive(); },
               [state](asgi::SendEvent event) { return state->send(std::move(event)); });
  };
  asio::co_spawn(executor, std::move(run_app), [state](std::exception_ptr error) {
    state->app_done = true;
    state->error = error;
    state->changed.notify();
  });
  // The answer to the handshake: accept, or anything a server turns into a refusal.
  for (;;) {
    if (!state->from_app.empty()) {
      asgi::SendEvent event = std::move(state->from_app.front());
      state->from_app.pop_front();
      if (auto* accept = std::get_if<asgi::WebSocketAccept>(&event)) {
        state->subprotocol = accept->subprotocol;
        co_return std::make_unique<TestWebSocket>(state);
      }
      state->closed = true;
      if (auto* start = std::get_if<asgi::HttpResponseStart>(&event)) throw WebSocketRefused(start->status);
      throw WebSocketRefused(403);
    }
    if (state->app_done) {
      // An app that refuses the scope is refused as a server refuses it.
      if (state->error) {
        try {
          std::rethrow_exception(state->error);
        } catch (const asgi::UnsupportedScope&) {
        }
      }
      throw WebSocketRefused(403);
    }
    co_await state->changed.wait();
  }
}

}  // namespace csgi::testing
