// AsyncClient: calls an async app in-process, no socket (the analogue of
// Django's AsyncClient). Use it from a coroutine on an event loop, e.g. a
// CSGI_ASYNC_TEST body:
//
//   AsyncClient client(app);
//   TestResponse r = co_await client.get("/api/", {{"accept", "application/json"}});
//   EXPECT_EQ(r.status, 200);
//
// The app runs on the caller's executor. It behaves as a server would: the
// request body is delivered as http.request events, then http.disconnect once
// the response is complete; the app's events are checked for order
// (ProtocolViolation); an app that returns without a complete response is an
// error; a response without a content-length from the app gets one when its
// first body event is also its last, and transfer-encoding: chunked otherwise. By default an exception escaping the app is rethrown to the test, as
// Django's client does; with raise_app_exceptions = false it becomes a 500 when
// nothing was sent yet, as a server would answer.
//
// For streaming and disconnects, open() returns an Exchange that the test drives
// one event at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/app.hpp"
#include "gateway/asgi.hpp"
#include "gateway/testing/request_factory.hpp"
#include "gateway/testing/test_response.hpp"
#include "gateway/testing/websocket.hpp"

namespace csgi::testing {

// One request in flight. The app's send() completes only when the test takes
// the event with next_event() (a client that reads nothing applies
// backpressure). Destroying the Exchange disconnects the client.
class Exchange {
 public:
  struct State;
  explicit Exchange(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Queues a piece of the request body for the app's receive().
  void send_body(std::string chunk, bool more_body = true);
  // The next event the app sent, taking it (which completes the app's send);
  // nullopt once the app has returned and sent nothing more.
  asgi::awaitable<std::optional<asgi::SendEvent>> next_event();
  // The client goes away: receive() gives http.disconnect from now on, and every
  // send (including one waiting now) throws ClientDisconnected.
  void disconnect();
  // Waits until the app returned; rethrows what escaped it.
  asgi::awaitable<void> finished();
  // Reads the remaining events into a response (see AsyncClient for errors).
  asgi::awaitable<TestResponse> response(bool raise_app_exceptions = true);

  const asgi::Scope& scope() const;

 private:
  std::shared_ptr<State> state_;
};

struct AsyncClientOptions {
  bool raise_app_exceptions = true;
};

class AsyncClient {
 public:
  using Options = AsyncClientOptions;

  explicit AsyncClient(asgi::App app, Options options = {});
  // A sync app through wsgi_to_asgi on `executor` (which must outlive the client).
  AsyncClient(wsgi::App app, SyncExecutor& executor, Options options = {});
  // The async form of `app`, with `executor` for its sync parts.
  AsyncClient(const Application& app, SyncExecutor& executor, Options options = {});

  asgi::awaitable<TestResponse> get(std::string target, Headers headers = {});
  asgi::awaitable<TestResponse> post(std::string target, std::string body, Headers headers = {});
  asgi::awaitable<TestResponse> request(std::string method, std::string target,
                                        Headers headers = {}, std::string body = {});

  // Starts the app on the caller's executor and returns the exchange to drive.
  // Send the request body with send_body(); give headers a Content-Length or a
  // Transfer-Encoding to describe it.
  asgi::awaitable<std::unique_ptr<Exchange>> open(std::string method, std::string target,
                                                  Headers headers = {});

  // Opens a WebSocket to the app at `target` (gateway/testing/websocket.hpp),
  // offering `subprotocols`. Throws WebSocketRefused when the app refuses.
  asgi::awaitable<std::unique_ptr<TestWebSocket>> websocket_connect(
      std::string target, std::vector<std::string> subprotocols = {}, Headers headers = {});

  RequestFactory factory;

 private:
  asgi::awaitable<std::unique_ptr<Exchange>> start(asgi::Scope scope);

  asgi::App app_;
  Options options_;
};

}  // namespace csgi::testing
