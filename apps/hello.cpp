// `hello` and `hello-sync`: the benchmark apps. Everything that can be built
// once is: the body text and the response headers; a request copies them into
// its events and, when asked, waits.
#include <charconv>
#include <cstdint>
#include <string>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "apps/builtin.hpp"

namespace csgi::apps {
namespace {

const std::string& hello_body() {
  static const std::string body = R"({"message": "Hello World!"})";
  return body;
}

const Headers& hello_headers() {
  static const Headers headers = {{"content-type", "application/json"},
                                  {"content-length", std::to_string(hello_body().size())}};
  return headers;
}

// The optional delay in a coroutine of its own: its timer stays out of
// hello's frame, which then fits the 1,020 bytes that Asio recycles per
// thread instead of costing a malloc and a free on every request
// (gateway/asgi.hpp, Scope).
asgi::awaitable<void> wait_for(std::chrono::milliseconds delay) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  // Cancellation (the client left) surfaces here as an exception, ending the app.
  co_await timer.async_wait(boost::asio::use_awaitable);
}

asgi::awaitable<void> hello(asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::lifespan) {
    co_await accept_lifespan(std::move(receive), std::move(send));
    co_return;
  }
  if (std::optional<std::chrono::milliseconds> delay = delay_from_query(scope.query_string)) {
    co_await wait_for(*delay);
  }
  co_await send(asgi::HttpResponseStart{.status = 200, .headers = hello_headers()});
  co_await send(asgi::HttpResponseBody{.body = hello_body(), .more_body = false});
}

wsgi::Body hello_sync(wsgi::Environ& environ, wsgi::StartResponse& start_response) {
  if (std::optional<std::chrono::milliseconds> delay = delay_from_query(environ.query_string)) {
    std::this_thread::sleep_for(*delay);
  }
  start_response(200, hello_headers());
  return wsgi::Body(hello_body());
}

}  // namespace

std::optional<std::chrono::milliseconds> delay_from_query(std::string_view query_string) {
  constexpr std::string_view key = "delay_ms=";
  while (!query_string.empty()) {
    std::size_t amp = query_string.find('&');
    std::string_view pair = query_string.substr(0, amp);
    query_string = amp == std::string_view::npos ? std::string_view{} : query_string.substr(amp + 1);
    if (!pair.starts_with(key)) continue;
    std::string_view digits = pair.substr(key.size());
    std::uint32_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    if (std::chrono::milliseconds(value) > max_delay) return std::nullopt;
    return std::chrono::milliseconds(value);
  }
  return std::nullopt;
}

Application hello_app() { return Application::from_async("hello", hello); }

Application hello_sync_app() { return Application::from_sync("hello-sync", hello_sync); }

}  // namespace csgi::apps
