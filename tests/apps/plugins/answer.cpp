// One plugin built several ways, for the reload tests: each build answers GET
// / with its CSGI_ANSWER ("one", "two"...), and GET /stream with that answer
// three times, one chunk per line, pulled one at a time (so a test can hold a
// response in flight across a reload). Built with CSGI_ANSWER_THROWS, its
// factory throws, as a build with a bug in its start-up does.
//
// GET /fail-later answers one line, then throws an exception of a type this
// build defines.
//
// csgi_app is the sync app; csgi_answer_async the same answers from an async
// app.
#include <optional>
#include <stdexcept>
#include <string>

#include "apps/plugin.hpp"

#ifndef CSGI_ANSWER
#define CSGI_ANSWER "one"
#endif

namespace {

using namespace csgi;

const std::string answer = CSGI_ANSWER;

class AnswerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Headers text_headers(const std::string& body) {
  return {{"content-type", "text/plain"}, {"content-length", std::to_string(body.size())}};
}

wsgi::Body answer_sync(wsgi::Environ& environ, wsgi::StartResponse& start_response) {
  if (environ.path_info == "/fail-later") {
    start_response(200, {{"content-type", "text/plain"}});
    return wsgi::Body::generate([lines = 0]() mutable -> std::optional<std::string> {
      if (lines++ == 1) throw AnswerError(answer + " failed later");
      return answer + "\n";
    });
  }
  if (environ.path_info != "/stream") {
    start_response(200, text_headers(answer));
    return wsgi::Body(answer);
  }
  start_response(200, {{"content-type", "text/plain"}});
  return wsgi::Body::generate([lines = 0]() mutable -> std::optional<std::string> {
    if (lines++ == 3) return std::nullopt;
    return answer + "\n";
  });
}

asgi::awaitable<void> answer_async(asgi::Scope scope, asgi::Receive, asgi::Send send) {
  if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
  co_await send(asgi::HttpResponseStart{.status = 200, .headers = text_headers(answer)});
  co_await send(asgi::HttpResponseBody{.body = answer, .more_body = false});
}

void fail_if_broken() {
#ifdef CSGI_ANSWER_THROWS
  throw std::runtime_error("this build cannot start");
#endif
}

Application make_sync() {
  fail_if_broken();
  return Application::from_sync("answer", answer_sync);
}

Application make_async() {
  fail_if_broken();
  return Application::from_async("answer-async", answer_async);
}

}  // namespace

CSGI_PLUGIN(make_sync)
CSGI_PLUGIN_AS(csgi_answer_async, make_async)
