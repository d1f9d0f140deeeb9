// Client: calls a sync app in-process, no socket, blocking (the analogue of
// Django's Client). It behaves as a sync server would (spec/sync.md):
// start_response with the exc_info rules, the write callable, headers held
// until the first non-empty chunk, the body pulled chunk by chunk and always
// closed, and the response framed as on HTTP/1.1: without a content-length
// from the app it gets one when the whole body came with the head (a body of
// one chunk), and transfer-encoding: chunked otherwise. By default an exception escaping the app is rethrown to the test;
// with raise_app_exceptions = false it becomes a 500 while nothing was sent.
//
//   Client client(app);
//   TestResponse r = client.get("/api/");
//
// An async app is called through asgi_to_wsgi, so the Client must not be used
// on an event-loop thread with one (NestedEventLoopError): from a
// CSGI_ASYNC_TEST, use AsyncClient.
#pragma once

#include <optional>
#include <string>

#include "gateway/app.hpp"
#include "gateway/testing/request_factory.hpp"
#include "gateway/testing/test_response.hpp"

namespace csgi::testing {

struct ClientOptions {
  bool raise_app_exceptions = true;
  // Simulates a client that goes away after taking this many non-empty chunks:
  // the next chunk is refused with ClientDisconnected (write() throws it; a
  // pulled chunk ends the pulling) and the body is closed. The response holds
  // what arrived before.
  std::optional<std::size_t> disconnect_after_chunks = std::nullopt;
};

class Client {
 public:
  using Options = ClientOptions;

  explicit Client(wsgi::App app, Options options = {});
  // An async app through asgi_to_wsgi.
  explicit Client(asgi::App app, Options options = {});
  // The sync form of `app`.
  explicit Client(const Application& app, Options options = {});

  TestResponse get(std::string_view target, Headers headers = {});
  TestResponse post(std::string_view target, std::string body, Headers headers = {});
  TestResponse request(std::string_view method, std::string_view target, Headers headers = {},
                       std::string body = {});

  RequestFactory factory;

 private:
  wsgi::App app_;
  Options options_;
};

}  // namespace csgi::testing
