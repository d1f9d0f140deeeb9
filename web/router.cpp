#include "web/router.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/value.hpp>

#include "gateway/adapters.hpp"
#include "gateway/convert.hpp"

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

// The route a path matches and its captures: each path is matched once.
struct Match {
  const Router::Route* route;
  Captures captures;
};

std::optional<Match> find_route(const Routes& routes, std::string_view path) {
  for (const Router::Route& route : routes)
    if (auto captures = route.pattern.match(path)) return Match{&route, std::move(*captures)};
  return std::nullopt;
}

bool path_matches(const Routes& routes, std::string_view path) {
  return std::any_of(routes.begin(), routes.end(),
                     [&](const Router::Route& route) { return route.pattern.match(path).has_value(); });
}

// The answer when no route matches: Django's APPEND_SLASH redirect when the path
// with a trailing '/' would match, else 404.
Response unmatched_response(const Routes& routes, std::string_view path,
                            std::string_view root_path, std::string_view raw_path,
                            std::string_view query_string) {
  if (!path.ends_with('/') && path_matches(routes, std::string(path) + "/")) {
    std::string location = std::string(root_path) + std::string(raw_path) + "/";
    if (!query_string.empty()) location += "?" + std::string(query_string);
    return Response{301, {{"location", location}, {"content-type", "text/plain"}}, {}};
  }
  return json_response(boost::json::object{{"detail", "Not Found"}, {"path", path}}, 404);
}

Response too_large_response(std::size_t max_body) {
  return json_response(boost::json::object{{"detail", "Request body too large"},
                                            {"max_body_size", max_body}},
                       413);
}

// True when the request announces a body longer than `max_body`: it is
// refused before any of it is read.
bool announced_too_large(const Headers& headers, std::size_t max_body) {
  auto length = content_length(headers);
  return length && *length > max_body;
}

Request make_request(std::string method, std::string path, std::string query_string,
                     Headers headers, std::string body, std::shared_ptr<State> state,
                     Captures params, const TraceContext& trace) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query_string = std::move(query_string);
  request.headers = std::move(headers);
  request.body = std::move(body);
  request.state = std::move(state);
  request.params = std::move(params);
  request.trace = trace;
  return request;
}

// What both forms share: the routes and the bound on a buffered body.
struct Table {
  Routes routes;
  std::size_t max_body;
  std::vector<Router::LifespanHook> on_startup;
  std::vector<Router::LifespanHook> on_shutdown;
};

// Runs `hooks` in order; the message of the first that throws, or nullopt.
asgi::awaitable<std::optional<std::string>> run_hooks(const std::vector<Router::LifespanHook>& hooks,
                                                      const std::shared_ptr<State>& state) {
  for (const auto& hook : hooks) {
    std::exception_ptr error;
    try {
      co_await hook(state);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) co_return exception_message(error);
  }
  co_return std::nullopt;
}

// The lifespan scope: startup hooks at lifespan.startup, shutdown hooks (in
// reverse order) at lifespan.shutdown, each phase answered complete or failed.
asgi::awaitable<void> run_lifespan(std::shared_ptr<const Table> table, std::shared_ptr<State> state,
                                   asgi::Receive receive, asgi::Send send) {
  for (;;) {
    asgi::ReceiveEvent event = co_await receive();
    if (std::holds_alternative<asgi::LifespanStartup>(event)) {
      if (auto failure = co_await run_hooks(table->on_startup, state)) {
        co_await send(asgi::LifespanStartupFailed{std::move(*failure)});
        co_return;
      }
      co_await send(asgi::LifespanStartupComplete{});
    } else if (std::holds_alternative<asgi::LifespanShutdown>(event)) {
      std::vector<Router::LifespanHook> reversed(table->on_shutdown.rbegin(), table->on_shutdown.rend());
      if (auto failure = co_await run_hooks(reversed, state))
        co_await send(asgi::LifespanShutdownFailed{std::move(*failure)});
      else
        co_await send(asgi::LifespanShutdownComplete{});
      co_return;
    }
  }
}

// ---- async side ----------------------------------------------------------------

// The whole body, or nullopt once it grows past `max_body`.
asgi::awaitable<std::optional<std::string>> read_body(const asgi::Receive& receive,
                                                      std::size_t max_body) {
  std::string body;
  for (;;) {
    asgi::ReceiveEvent event = co_await receive();
    if (auto* request = std::get_if<asgi::HttpRequest>(&event)) {
      if (request->body.size() > max_body - body.size()) co_return std::nullopt;
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

// A sync view on the SyncExecutor, so that it may block.
asgi::awaitable<Response> run_sync_view(SyncExecutor& executor, const SyncView& view,
                                        Request request) {
  Response response;
  SyncCallOrigin origin{request.trace, request.method, request.path};
  try {
    co_await run_sync(executor, [&] { response = view(std::move(request)); }, origin);
  } catch (const SyncDeadlock& refused) {
    co_return text_response(std::string(refused.what()) + "\n", 503);
  }
  co_return response;
}

asgi::awaitable<void> dispatch_async(std::shared_ptr<const Table> table, SyncExecutor& executor,
                                     asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::lifespan) {
    co_await run_lifespan(std::move(table), std::move(scope.state), std::move(receive), std::move(send));
    co_return;
  }
  if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
  auto match = find_route(table->routes, scope.path);
  if (!match) {
    co_await send_response(send, unmatched_response(table->routes, scope.path, scope.root_path,
                                                    scope.raw_path, scope.query_string));
    co_return;
  }
  std::optional<std::string> body;
  if (!announced_too_large(scope.headers, table->max_body))
    body = co_await read_body(receive, table->max_body);
  if (!body) {
    co_await send_response(send, too_large_response(table->max_body));
    co_return;
  }
  Request request = make_request(std::move(scope.method), std::move(scope.path),
                                 std::move(scope.query_string), std::move(scope.headers),
                                 std::move(*body), std::move(scope.state),
                                 std::move(match->captures), scope.trace);
  const Router::Route& route = *match->route;
  Response response = route.async_view
                          ? co_await route.async_view(std::move(request))
                          : co_await run_sync_view(executor, route.sync_view, std::move(request));
  co_await send_response(send, std::move(response));
}

// ---- sync side -----------------------------------------------------------------

wsgi::Body start_sync_response(wsgi::StartResponse& start_response, Response response) {
  start_response(response.status, response_headers(response));
  return wsgi::Body(std::move(response.body));
}

// The whole body, or nullopt when it is longer than `max_body`.
std::optional<std::string> read_body(wsgi::Environ& environ, std::size_t max_body) {
  if (!environ.input) return std::string();
  std::string body = environ.input->read(max_body + 1);
  if (body.size() > max_body) return std::nullopt;
  return body;
}

asgi::awaitable<void> answer_async([[maybe_unused]] std::shared_ptr<const Table> table,
                                   const AsyncView& view,
                                   Request request, asgi::Send send) {
  co_await send_response(send, co_await view(std::move(request)));
}

// An async view from a sync thread: on a fresh loop, through asgi_to_wsgi.
wsgi::Body run_async_view(std::shared_ptr<const Table> table, const AsyncView& view,
                          Request request, wsgi::Environ& environ,
                          wsgi::StartResponse& start_response) {
  auto shared_request = std::make_shared<Request>(std::move(request));
  asgi::App app = [table, &view, shared_request](asgi::Scope&&, asgi::Receive, asgi::Send send) {
    // `view` lives in `table`, which the coroutine keeps alive.
    return answer_async(table, view, std::move(*shared_request), std::move(send));
  };
  return asgi_to_wsgi(std::move(app))(environ, start_response);
}

wsgi::Body dispatch_sync(const std::shared_ptr<const Table>& table, wsgi::Environ& environ,
                         wsgi::StartResponse& start_response) {
  auto match = find_route(table->routes, environ.path_info);
  if (!match)
    return start_sync_response(
        start_response, unmatched_response(table->routes, environ.path_info, environ.script_name,
                                           environ.raw_path, environ.query_string));
  std::optional<std::string> body;
  if (!announced_too_large(environ.headers, table->max_body))
    body = read_body(environ, table->max_body);
  if (!body) return start_sync_response(start_response, too_large_response(table->max_body));
  Request request = make_request(environ.request_method, environ.path_info, environ.query_string,
                                 environ.headers, std::move(*body), environ.state,
                                 std::move(match->captures), environ.trace);
  const Router::Route& route = *match->route;
  if (route.sync_view) return start_sync_response(start_response, route.sync_view(std::move(request)));
  return run_async_view(table, route.async_view, std::move(request), environ, start_response);
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

Router& Router::max_body_size(std::size_t bytes) {
  max_body_ = bytes;
  return *this;
}

Router& Router::on_startup(LifespanHook hook) {
  on_startup_.push_back(std::move(hook));
  return *this;
}

Router& Router::on_shutdown(LifespanHook hook) {
  on_shutdown_.push_back(std::move(hook));
  return *this;
}

asgi::App Router::as_async(SyncExecutor& sync_executor) const {
  auto table = std::make_shared<const Table>(Table{routes_, max_body_, on_startup_, on_shutdown_});
  return [table, &sync_executor](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return dispatch_async(table, sync_executor, std::move(scope), std::move(receive),
                          std::move(send));
  };
}

wsgi::App Router::as_sync() const {
  auto table = std::make_shared<const Table>(Table{routes_, max_body_, on_startup_, on_shutdown_});
  return [table](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    return dispatch_sync(table, environ, start_response);
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
