#include "web/router.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/json/value.hpp>

#include "gateway/adapters.hpp"
#include "gateway/convert.hpp"
#include "runtime/ascii.hpp"

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

bool accepts(const Router::Route& route, std::string_view method) {
  if (route.methods.empty()) return true;
  return std::any_of(route.methods.begin(), route.methods.end(), [&](const std::string& each) {
    return each == method || (each == "GET" && method == "HEAD");
  });
}

// Where a request goes: the first route whose pattern and method match.
std::optional<Match> find_route(const Routes& routes, std::string_view path, std::string_view method) {
  for (const Router::Route& route : routes) {
    if (!accepts(route, method)) continue;
    if (auto captures = route.pattern.match(path)) return Match{&route, std::move(*captures)};
  }
  return std::nullopt;
}

void add_allowed(std::vector<std::string>& allowed, const std::string& method) {
  if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) allowed.push_back(method);
}

// The methods of the routes whose pattern matches `path`, in route order
// (GET bringing HEAD): worked out only for a request that no route took.
std::vector<std::string> allowed_methods(const Routes& routes, std::string_view path) {
  std::vector<std::string> allowed;
  for (const Router::Route& route : routes) {
    if (!route.pattern.match(path)) continue;
    for (const std::string& each : route.methods) {
      add_allowed(allowed, each);
      if (each == "GET") add_allowed(allowed, "HEAD");
    }
  }
  return allowed;
}

// Decimal digits whose value fits in an std::int64_t.
bool is_int64(std::string_view text) {
  return !text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) &&
         ascii::parse_decimal<std::int64_t>(text).has_value();
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
    return Response{.status = 301,
                    .headers = {{"location", location}, {"content-type", "text/plain"}}};
  }
  return json_response(boost::json::object{{"detail", "Not Found"}, {"path", path}}, 404);
}

// The answer to a request that no route takes: 405 when routes of other
// methods match its path, else the redirect or the 404 of unmatched_response.
Response unrouted_response(const Routes& routes, std::string_view path, std::string_view root_path,
                           std::string_view raw_path, std::string_view query_string) {
  std::vector<std::string> allowed = allowed_methods(routes, path);
  if (allowed.empty()) return unmatched_response(routes, path, root_path, raw_path, query_string);
  std::string allow;
  for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
  Response response = json_response(boost::json::object{{"detail", "Method Not Allowed"}}, 405);
  response.headers.emplace_back("allow", std::move(allow));
  return response;
}

Response error_response(const HttpError& error) {
  return json_response(boost::json::object{{"detail", error.what()}}, error.status());
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

Request make_request(std::string method, std::string scheme, std::string path,
                     std::string query_string, Headers headers, std::optional<Endpoint> client,
                     std::string body, std::shared_ptr<State> state, Captures params,
                     const TraceContext& trace) {
  Request request;
  request.method = std::move(method);
  request.scheme = std::move(scheme);
  request.client = std::move(client);
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

// Sends `response`; a streamed one chunk by chunk. Sync chunks are pulled on
// `executor` when there is one, else here (a private loop of a sync thread).
asgi::awaitable<void> send_response(const asgi::Send& send, Response response,
                                    SyncExecutor* executor) {
  co_await send(asgi::HttpResponseStart{response.status, response_headers(response), false});
  if (!response.streamed()) {
    co_await send(asgi::HttpResponseBody{std::move(response.body), false});
    co_return;
  }
  for (;;) {
    std::optional<std::string> chunk;
    if (response.async_chunks)
      chunk = co_await response.async_chunks();
    else if (executor)
      co_await run_sync(*executor, [&] { chunk = response.sync_chunks(); });
    else
      chunk = response.sync_chunks();
    if (!chunk) break;
    if (!chunk->empty()) co_await send(asgi::HttpResponseBody{std::move(*chunk), true});
  }
  co_await send(asgi::HttpResponseBody{{}, false});
}

// The view's response, or the answer of the HttpError it threw. A sync view
// runs on `executor` (so that it may block), or here when there is none.
asgi::awaitable<Response> respond_async(const Router::Route& route, SyncExecutor* executor,
                                        Request request) {
  std::optional<Response> response;
  try {
    if (route.async_view) {
      response = co_await route.async_view(std::move(request));
    } else if (executor) {
      SyncCallOrigin origin{request.trace, request.method, request.path};
      co_await run_sync(*executor, [&] { response = route.sync_view(std::move(request)); }, origin);
    } else {
      response = route.sync_view(std::move(request));
    }
  } catch (const HttpError& error) {
    response = error_response(error);
  } catch (const SyncDeadlock& refused) {
    response = text_response(std::string(refused.what()) + "\n", 503);
  }
  co_return std::move(*response);
}

// `executor` runs the sync views; null: they run here (on the private loop of
// a sync thread, where blocking is allowed).
asgi::awaitable<void> dispatch_async(std::shared_ptr<const Table> table, SyncExecutor* executor,
                                     asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::lifespan) {
    co_await run_lifespan(std::move(table), std::move(scope.state), std::move(receive), std::move(send));
    co_return;
  }
  if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
  std::optional<Match> match = find_route(table->routes, scope.path, scope.method);
  if (!match) {
    co_await send_response(send,
                           unrouted_response(table->routes, scope.path, scope.root_path,
                                             scope.raw_path, scope.query_string),
                           executor);
    co_return;
  }
  std::optional<std::string> body;
  if (!announced_too_large(scope.headers, table->max_body))
    body = co_await read_body(receive, table->max_body);
  if (!body) {
    co_await send_response(send, too_large_response(table->max_body), executor);
    co_return;
  }
  Request request = make_request(std::move(scope.method), std::move(scope.scheme),
                                 std::move(scope.path), std::move(scope.query_string),
                                 std::move(scope.headers), std::move(scope.client),
                                 std::move(*body), std::move(scope.state),
                                 std::move(match->captures), scope.trace);
  Response response = co_await respond_async(*match->route, executor, std::move(request));
  co_await send_response(send, std::move(response), executor);
}

// ---- sync side -----------------------------------------------------------------

// The whole body, or nullopt when it is longer than `max_body`.
std::optional<std::string> read_body(wsgi::Environ& environ, std::size_t max_body) {
  if (!environ.input) return std::string();
  std::string body = environ.input->read(max_body + 1);
  if (body.size() > max_body) return std::nullopt;
  return body;
}

// These coroutines take what they use by value (`table` keeps the route
// alive), so nothing they need lives in the lambda that starts them.
asgi::awaitable<void> answer_with_view(std::shared_ptr<const Table> table,
                                       const Router::Route* route, Request request,
                                       asgi::Send send) {
  co_await send_response(send, co_await respond_async(*route, nullptr, std::move(request)),
                         nullptr);
}

asgi::awaitable<void> answer_with(Response response, asgi::Send send) {
  co_await send_response(send, std::move(response), nullptr);
}

// What needs an event loop from a sync thread (an async view, async chunks):
// on a fresh loop, through asgi_to_wsgi.
wsgi::Body answer_on_a_loop(asgi::App app, wsgi::Environ& environ,
                            wsgi::StartResponse& start_response) {
  return asgi_to_wsgi(std::move(app))(environ, start_response);
}

wsgi::Body answer_sync(Response response, wsgi::Environ& environ,
                       wsgi::StartResponse& start_response) {
  if (response.async_chunks) {
    auto shared = std::make_shared<Response>(std::move(response));
    return answer_on_a_loop(
        [shared](asgi::Scope&&, asgi::Receive, asgi::Send send) {
          return answer_with(std::move(*shared), std::move(send));
        },
        environ, start_response);
  }
  start_response(response.status, response_headers(response));
  if (response.sync_chunks) return wsgi::Body::generate(std::move(response.sync_chunks));
  return wsgi::Body(std::move(response.body));
}

wsgi::Body dispatch_sync(const std::shared_ptr<const Table>& table, wsgi::Environ& environ,
                         wsgi::StartResponse& start_response) {
  std::optional<Match> match = find_route(table->routes, environ.path_info, environ.request_method);
  if (!match)
    return answer_sync(unrouted_response(table->routes, environ.path_info,
                                         environ.script_name, environ.raw_path,
                                         environ.query_string),
                       environ, start_response);
  std::optional<std::string> body;
  if (!announced_too_large(environ.headers, table->max_body))
    body = read_body(environ, table->max_body);
  if (!body) return answer_sync(too_large_response(table->max_body), environ, start_response);
  Request request = make_request(environ.request_method, environ.url_scheme, environ.path_info,
                                 environ.query_string, environ.headers, environ.remote,
                                 std::move(*body), environ.state,
                                 std::move(match->captures), environ.trace);
  const Router::Route* route = match->route;
  if (route->async_view) {
    auto shared_request = std::make_shared<Request>(std::move(request));
    return answer_on_a_loop(
        [table, route, shared_request](asgi::Scope&&, asgi::Receive, asgi::Send send) {
          return answer_with_view(table, route, std::move(*shared_request), std::move(send));
        },
        environ, start_response);
  }
  Response response;
  try {
    response = route->sync_view(std::move(request));
  } catch (const HttpError& error) {
    response = error_response(error);
  }
  return answer_sync(std::move(response), environ, start_response);
}

// The `member` form of every middleware, or nullopt when one lacks it.
template <class Form>
std::optional<std::vector<Form>> forms_of(const std::vector<Middleware>& middleware,
                                          Form Middleware::*member) {
  std::vector<Form> forms;
  for (const Middleware& each : middleware) {
    if (!(each.*member)) return std::nullopt;
    forms.push_back(each.*member);
  }
  return forms;
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
    if (segment.digits_only && !is_int64(parts[i])) return std::nullopt;
    captures.emplace(segment.text, std::string(parts[i]));
  }
  return captures;
}

Router& Router::add(Route route) {
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::use(Middleware middleware) {
  if (!middleware.as_async && !middleware.as_sync)
    throw std::invalid_argument("Router::use: the middleware has neither form");
  middleware_.push_back(std::move(middleware));
  bool async_only = false, sync_only = false;
  for (const Middleware& each : middleware_) {
    async_only = async_only || !each.as_sync;
    sync_only = sync_only || !each.as_async;
  }
  if (async_only && sync_only) {
    middleware_.pop_back();
    throw std::invalid_argument(
        "Router::use: a router cannot mix async-only and sync-only middleware");
  }
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
  asgi::App native = [table, &sync_executor](asgi::Scope scope, asgi::Receive receive,
                                             asgi::Send send) {
    return dispatch_async(table, &sync_executor, std::move(scope), std::move(receive),
                          std::move(send));
  };
  if (auto forms = forms_of(middleware_, &Middleware::as_async))
    return asgi::compose(std::move(native), *forms);
  // A middleware has only its sync form: requests take the sync form, on the
  // sync executor, as Django adapts a sync-only middleware; lifespan stays here.
  asgi::App through_sync = wsgi_to_asgi(as_sync(), sync_executor);
  return [native, through_sync](asgi::Scope&& scope, asgi::Receive receive, asgi::Send send) {
    const asgi::App& app = scope.type == asgi::ScopeType::lifespan ? native : through_sync;
    return app(std::move(scope), std::move(receive), std::move(send));
  };
}

wsgi::App Router::as_sync() const {
  auto table = std::make_shared<const Table>(Table{routes_, max_body_, on_startup_, on_shutdown_});
  if (auto forms = forms_of(middleware_, &Middleware::as_sync)) {
    wsgi::App native = [table](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
      return dispatch_sync(table, environ, start_response);
    };
    return wsgi::compose(std::move(native), *forms);
  }
  // A middleware has only its async form: each request runs the async chain
  // on a private loop, sync views inline on it (use() refused a sync-only one).
  asgi::App chain = [table](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return dispatch_async(table, nullptr, std::move(scope), std::move(receive), std::move(send));
  };
  auto forms = forms_of(middleware_, &Middleware::as_async);
  return asgi_to_wsgi(asgi::compose(std::move(chain), *forms));
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
