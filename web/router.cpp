#include "web/router.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/value.hpp>

#include "gateway/adapters.hpp"

namespace csgi::web {

namespace {

using Routes = std::vector<Router::Route>;
using Captures = std::map<std::string, std::string>;

// "a/b/" -> {"a", "b", ""}
std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  for (;;) {
    std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

std::optional<std::size_t> find_route(const Routes& routes, std::string_view path) {
  for (std::size_t i = 0; i < routes.size(); ++i)
    if (routes[i].pattern.match(path)) return i;
  return std::nullopt;
}

// The answer when no route matches: Django's APPEND_SLASH redirect when the path
// with a trailing '/' would match, else 404.
Response unmatched_response(const Routes& routes, std::string_view path,
                            std::string_view root_path, std::string_view raw_path,
                            std::string_view query_string) {
  if (!path.ends_with('/') && find_route(routes, std::string(path) + "/")) {
    std::string location = std::string(root_path) + std::string(raw_path) + "/";
    if (!query_string.empty()) location += "?" + std::string(query_string);
    return Response{301, {{"location", location}, {"content-type", "text/plain"}}, {}};
  }
  return json_response(boost::json::object{{"detail", "Not Found"}, {"path", path}}, 404);
}

Request make_request(std::string method, std::string path, std::string query_string,
                     Headers headers, std::string body, std::shared_ptr<State> state) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query_string = std::move(query_string);
  request.headers = std::move(headers);
  request.body = std::move(body);
  request.state = std::move(state);
  return request;
}

// ---- async side ----------------------------------------------------------------

asgi::awaitable<std::string> read_body(const asgi::Receive& receive) {
  std::string body;
  for (;;) {
    asgi::ReceiveEvent event = co_await receive();
    if (auto* request = std::get_if<asgi::HttpRequest>(&event)) {
      body += request->body;
      if (!request->more_body) co_return body;
    } else if (std::holds_alternative<asgi::HttpDisconnect>(event)) {
      throw asgi::ClientDisconnected();
    } else {
      throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) +
                                    " received on an http scope");
    }
  }
}

asgi::awaitable<void> send_response(const asgi::Send& send, Response response) {
  co_await send(asgi::HttpResponseStart{response.status, response_headers(response), false});
  co_await send(asgi::HttpResponseBody{std::move(response.body), false});
}

asgi::awaitable<void> run_async_view(std::shared_ptr<const Routes> routes, std::size_t index,
                                     asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  const Router::Route& route = (*routes)[index];
  std::string body = co_await read_body(receive);
  Request request = make_request(scope.method, scope.path, scope.query_string,
                                 std::move(scope.headers), std::move(body), scope.state);
  request.params = route.pattern.match(scope.path).value_or(Captures{});
  co_await send_response(send, co_await route.async_view(std::move(request)));
}

asgi::App async_endpoint(std::shared_ptr<const Routes> routes, std::size_t index) {
  return [routes, index](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return run_async_view(routes, index, std::move(scope), std::move(receive), std::move(send));
  };
}

asgi::awaitable<void> dispatch_async(std::shared_ptr<const Routes> routes,
                                     std::shared_ptr<const std::vector<asgi::App>> endpoints,
                                     asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
  if (auto index = find_route(*routes, scope.path)) {
    co_await (*endpoints)[*index](std::move(scope), std::move(receive), std::move(send));
    co_return;
  }
  co_await send_response(send, unmatched_response(*routes, scope.path, scope.root_path,
                                                  scope.raw_path, scope.query_string));
}

// ---- sync side -----------------------------------------------------------------

wsgi::Body start_sync_response(wsgi::StartResponse& start_response, Response response) {
  start_response(response.status, response_headers(response));
  return wsgi::Body(std::move(response.body));
}

wsgi::App sync_endpoint(std::shared_ptr<const Routes> routes, std::size_t index) {
  return [routes, index](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    const Router::Route& route = (*routes)[index];
    Request request = make_request(environ.request_method, environ.path_info,
                                   environ.query_string, environ.headers,
                                   environ.input ? environ.input->read() : std::string(),
                                   environ.state);
    request.params = route.pattern.match(environ.path_info).value_or(Captures{});
    return start_sync_response(start_response, route.sync_view(std::move(request)));
  };
}

}  // namespace

Router::Pattern::Pattern(std::string_view pattern) {
  for (std::string_view text : split_segments(pattern)) {
    Segment segment;
    if (text.size() > 2 && text.front() == '<' && text.back() == '>') {
      text = text.substr(1, text.size() - 2);
      segment.capture = true;
      if (std::size_t colon = text.find(':'); colon != std::string_view::npos) {
        segment.digits_only = text.substr(0, colon) == "int";
        text.remove_prefix(colon + 1);
      }
    }
    segment.text = std::string(text);
    segments_.push_back(std::move(segment));
  }
}

std::optional<std::map<std::string, std::string>> Router::Pattern::match(
    std::string_view path) const {
  if (!path.starts_with('/')) return std::nullopt;
  auto parts = split_segments(path.substr(1));
  if (parts.size() != segments_.size()) return std::nullopt;
  std::map<std::string, std::string> captures;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Segment& segment = segments_[i];
    if (!segment.capture) {
      if (parts[i] != segment.text) return std::nullopt;
      continue;
    }
    if (parts[i].empty()) return std::nullopt;
    if (segment.digits_only &&
        !std::all_of(parts[i].begin(), parts[i].end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; }))
      return std::nullopt;
    captures.emplace(segment.text, std::string(parts[i]));
  }
  return captures;
}

Router& Router::path(std::string pattern, AsyncView view) {
  routes_.push_back(Route{Pattern(pattern), std::move(view), {}});
  return *this;
}

Router& Router::path(std::string pattern, SyncView view) {
  routes_.push_back(Route{Pattern(pattern), {}, std::move(view)});
  return *this;
}

asgi::App Router::as_async(SyncExecutor& sync_executor) const {
  auto routes = std::make_shared<const Routes>(routes_);
  auto endpoints = std::make_shared<std::vector<asgi::App>>();
  for (std::size_t i = 0; i < routes->size(); ++i)
    endpoints->push_back((*routes)[i].async_view
                             ? async_endpoint(routes, i)
                             : wsgi_to_asgi(sync_endpoint(routes, i), sync_executor));
  return [routes, endpoints = std::shared_ptr<const std::vector<asgi::App>>(endpoints)](
             asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return dispatch_async(routes, endpoints, std::move(scope), std::move(receive),
                          std::move(send));
  };
}

wsgi::App Router::as_sync() const {
  auto routes = std::make_shared<const Routes>(routes_);
  auto endpoints = std::make_shared<std::vector<wsgi::App>>();
  for (std::size_t i = 0; i < routes->size(); ++i)
    endpoints->push_back((*routes)[i].sync_view ? sync_endpoint(routes, i)
                                                : asgi_to_wsgi(async_endpoint(routes, i)));
  return [routes, endpoints](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    if (auto index = find_route(*routes, environ.path_info))
      return (*endpoints)[*index](environ, start_response);
    return start_sync_response(start_response,
                               unmatched_response(*routes, environ.path_info, environ.script_name,
                                                  environ.raw_path, environ.query_string));
  };
}

Application Router::application(std::string name) const {
  Application application;
  application.name = std::move(name);
  application.as_async = [router = *this](SyncExecutor& executor) {
    return router.as_async(executor);
  };
  application.as_sync = [router = *this] { return router.as_sync(); };
  return application;
}

}  // namespace csgi::web
