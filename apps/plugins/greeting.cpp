// An example plugin: `csgi serve path/to/libcsgi_greeting.so` serves the sync
// greeting, `csgi serve path/to/libcsgi_greeting.so:csgi_greeting_async` the
// async one. Built as a MODULE library that links none of csgi's libraries:
// what it uses resolves against the csgi executable (see apps/plugin.hpp).
#include <string>

#include "apps/plugin.hpp"

namespace {

const char* const greeting = "Hello from a plugin!\n";

csgi::Headers greeting_headers() {
  return {{"content-type", "text/plain; charset=utf-8"},
          {"content-length", std::to_string(std::char_traits<char>::length(greeting))}};
}

csgi::Application make_greeting() {
  return csgi::Application::from_sync(
      "greeting", [](csgi::wsgi::Environ&, csgi::wsgi::StartResponse& start_response) {
        start_response(200, greeting_headers());
        return csgi::wsgi::Body(greeting);
      });
}

csgi::asgi::awaitable<void> greet(csgi::asgi::Scope scope, csgi::asgi::Receive,
                                  csgi::asgi::Send send) {
  if (scope.type != csgi::asgi::ScopeType::http) throw csgi::asgi::UnsupportedScope();
  co_await send(csgi::asgi::HttpResponseStart{.status = 200, .headers = greeting_headers()});
  co_await send(csgi::asgi::HttpResponseBody{.body = greeting, .more_body = false});
}

csgi::Application make_async_greeting() {
  return csgi::Application::from_async("greeting-async", greet);
}

}  // namespace

CSGI_PLUGIN(make_greeting)
CSGI_PLUGIN_AS(csgi_greeting_async, make_async_greeting)
