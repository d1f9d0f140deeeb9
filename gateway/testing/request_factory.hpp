// RequestFactory: builds the request an app receives, without a server (the
// analogue of Django's RequestFactory). The clients use it; tests may call an
// app with its result directly.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/asgi.hpp"
#include "gateway/wsgi.hpp"

namespace csgi::testing {

// An Environ and the input stream it points to, kept together.
struct SyncRequest {
  wsgi::Environ environ;
  std::unique_ptr<wsgi::InputStream> input;
};

class RequestFactory {
 public:
  // Added to every request unless the request has a header of the same name.
  Headers default_headers{{"host", "testserver"}};
  Endpoint client{"127.0.0.1", 40000};
  Endpoint server{"testserver", 80};
  std::shared_ptr<State> state;  // lifespan state the app should see, if any

  // `target` is the path with an optional "?query", percent-encoded as sent.
  // Header names are lower-cased. A Content-Length is added for a non-empty
  // body, or for POST, PUT and PATCH, unless `headers` has one or has
  // Transfer-Encoding (a body the test streams).
  asgi::Scope scope(std::string_view method, std::string_view target, Headers headers = {},
                    std::string_view body = {}) const;
  // The same request for a sync app; `body` is its input.
  SyncRequest environ(std::string_view method, std::string_view target, Headers headers = {},
                      std::string body = {}) const;
};

}  // namespace csgi::testing
