// `echo`: answers with what the server told the app about the request, so
// tests and people can see the scope a server builds (client, server,
// root_path, raw_path, header order and duplicates).
#include <cstdint>
#include <string>
#include <variant>

#include <boost/json.hpp>

#include "apps/builtin.hpp"

namespace csgi::apps {
namespace {

boost::json::value endpoint_json(const std::optional<Endpoint>& endpoint) {
  if (!endpoint) return nullptr;
  return boost::json::array{boost::json::string(endpoint->host), endpoint->port};
}

std::string describe(const asgi::Scope& scope, std::uint64_t body_length) {
  boost::json::array headers;
  headers.reserve(scope.headers.size());
  for (const auto& [name, value] : scope.headers) {
    headers.push_back(boost::json::array{boost::json::string(name), boost::json::string(value)});
  }
  boost::json::object object{
      {"method", scope.method},
      {"path", scope.path},
      {"raw_path", scope.raw_path},
      {"query_string", scope.query_string},
      {"headers", std::move(headers)},
      {"client", endpoint_json(scope.client)},
      {"server", endpoint_json(scope.server)},
      {"scheme", scope.scheme},
      {"root_path", scope.root_path},
      {"http_version", scope.http_version},
      {"body_length", body_length},
  };
  return boost::json::serialize(object);
}

asgi::awaitable<void> echo(asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::lifespan) {
    co_await accept_lifespan(std::move(receive), std::move(send));
    co_return;
  }
  std::uint64_t body_length = 0;
  for (bool more = true; more;) {
    asgi::ReceiveEvent event = co_await receive();
    // A disconnect before the body ended: nobody is left to answer.
    if (std::holds_alternative<asgi::HttpDisconnect>(event)) co_return;
    if (const auto* request = std::get_if<asgi::HttpRequest>(&event)) {
      body_length += request->body.size();
      more = request->more_body;
    }
  }
  std::string body = describe(scope, body_length);
  Headers headers = {{"content-type", "application/json"},
                     {"content-length", std::to_string(body.size())}};
  co_await send(asgi::HttpResponseStart{.status = 200, .headers = std::move(headers)});
  co_await send(asgi::HttpResponseBody{.body = std::move(body), .more_body = false});
}

}  // namespace

Application echo_app() { return Application::from_async("echo", echo); }

}  // namespace csgi::apps
