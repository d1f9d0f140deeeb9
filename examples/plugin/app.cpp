#include "app.hpp"

#include <chrono>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>
#include <csgi/web/router.hpp>

namespace hello {
namespace {

using namespace std::chrono_literals;

// A sync view runs on a thread that may block.
csgi::web::Response hello_view(csgi::web::Request request) {
  std::string name = request.query("name").value_or("world");
  return csgi::web::text_response("Hello, " + name + "!\n");
}

// An async view runs on the event loop and must not block it: it awaits.
csgi::asgi::awaitable<csgi::web::Response> slow_view(csgi::web::Request) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 10ms);
  co_await timer.async_wait(boost::asio::use_awaitable);
  co_return csgi::web::text_response("Waited 10 ms without blocking anyone.\n");
}

// A JSON endpoint: <int:id> only matches digits.
csgi::web::Response item_view(csgi::web::Request request) {
  const std::string& id = request.params.at("id");
  return csgi::web::json_response({{"id", std::stoll(id)}, {"name", "item " + id}});
}

}  // namespace

csgi::Application make_app() {
  csgi::web::Router router;
  router.path("hello/", csgi::web::SyncView(hello_view))
      .path("slow/", csgi::web::AsyncView(slow_view))
      .path("api/items/<int:id>/", csgi::web::SyncView(item_view));
  return router.application("hello");
}

}  // namespace hello
