// A small Django-like router for mixed sync and async views.
//
//   web::Router router;
//   router.path("api/", api_view)                  // "api/" matches "/api/", any method
//         .get("items/<int:id>/", item_view)       // request.int_param("id")
//         .post("items/", create_item);
//   Application app = router.application("mysite");
//
// Patterns are relative to the root, without the leading '/'; a segment
// "<name>" captures any non-empty segment, "<int:name>" only a decimal
// integer that fits in 64 bits (anything else does not match: 404). A request
// for "/api" when only "api/" exists is redirected (301) to "/api/", as
// Django's APPEND_SLASH does. No match: 404 with a JSON body. A path that
// matches only routes of other methods: 405 with an Allow header listing
// them (a GET route answers HEAD too).
//
// A view may throw HttpError to answer with its status (Request::json()
// throws a 400 for a malformed body); any other exception escapes to the
// server, which answers 500.
//
// Middleware added with use() wraps both forms of the router, the first added
// outermost (gateway/middleware.hpp), whether it is written for one form or
// both; compose() does the same for any Application.
//
// The router provides both forms natively. Async form: async views run on the
// loop; sync views run on the server's SyncExecutor (run_sync), so with one
// thread they serialise (Django's thread-sensitive behaviour, kept on
// purpose). Sync form: sync views run in the calling thread; async views run
// through asgi_to_wsgi, on a fresh loop per request.
//
// A view gets the whole request body, so the router buffers it, up to
// max_body_size() bytes (Django's DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MiB by
// default). A longer body, or a Content-Length announcing one, is answered
// with 413 without calling the view, and without reading more of it. A
// server's own limit (Config::limit_request_body) cuts the body earlier when
// it is lower.
//
// Lifespan (spec/lifespan.md): the router answers the lifespan scope itself,
// running its startup hooks in order at lifespan.startup and its shutdown
// hooks in reverse order at lifespan.shutdown (Starlette's on_startup and
// on_shutdown). A hook that throws fails the phase with its message; the
// server then refuses to serve (startup) or logs it (shutdown). Hooks run on
// the event loop that runs the lifespan scope: one that blocks must hand its
// work to a thread (run_sync) itself.
//
// Routes and hooks are copied when a form is created; later calls do not
// change forms already made.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gateway/app.hpp"
#include "gateway/middleware.hpp"
#include "web/views.hpp"

namespace csgi::web {

class Router {
 public:
  // A route for `methods` only (upper-case: {"GET", "POST"}; empty: every
  // method). `view` is an AsyncView or a SyncView.
  template <class View>
  Router& route(std::vector<std::string> methods, std::string pattern, View view) {
    if constexpr (std::is_convertible_v<View, AsyncView>)
      return add(Route{Pattern(pattern), AsyncView(std::move(view)), {}, std::move(methods)});
    else
      return add(Route{Pattern(pattern), {}, SyncView(std::move(view)), std::move(methods)});
  }
  // A route for every method, and the routes of one method.
  template <class V>
  Router& path(std::string p, V v) { return route({}, std::move(p), std::move(v)); }
  template <class V>
  Router& get(std::string p, V v) { return route({"GET"}, std::move(p), std::move(v)); }
  template <class V>
  Router& post(std::string p, V v) { return route({"POST"}, std::move(p), std::move(v)); }
  template <class V>
  Router& put(std::string p, V v) { return route({"PUT"}, std::move(p), std::move(v)); }
  template <class V>
  Router& patch(std::string p, V v) { return route({"PATCH"}, std::move(p), std::move(v)); }
  template <class V>
  Router& delete_(std::string p, V v) { return route({"DELETE"}, std::move(p), std::move(v)); }
  // Wraps both forms in `middleware`; the first added is outermost. A
  // middleware may have one form only. With an async-only one, the sync form
  // runs the async chain on a private loop per request (sync views inline on
  // it); with a sync-only one, the async form sends requests (not lifespan)
  // through the sync form on the sync executor. Mixing the two kinds, or a
  // middleware with neither form, throws std::invalid_argument.
  Router& use(Middleware middleware);
  // The longest request body a view is given (bytes); longer ones get 413.
  Router& max_body_size(std::size_t bytes);

  // A hook is given the state shared with every request's scope (null when
  // the server keeps none), to fill at startup and release at shutdown.
  using LifespanHook = std::function<asgi::awaitable<void>(std::shared_ptr<State> state)>;
  Router& on_startup(LifespanHook hook);
  Router& on_shutdown(LifespanHook hook);

  asgi::App as_async(SyncExecutor& sync_executor) const;
  wsgi::App as_sync() const;
  // Both forms, for a server or the CLI.
  Application application(std::string name) const;

  // The parsed form of a pattern; public for the tests of matching.
  class Pattern {
   public:
    explicit Pattern(std::string_view pattern);
    // The captures when `path` (with its leading '/') matches.
    std::optional<std::map<std::string, std::string>> match(std::string_view path) const;

   private:
    struct Segment {
      std::string text;  // the literal, or the capture's name
      bool capture = false;
      bool digits_only = false;
    };
    std::vector<Segment> segments_;
  };

  struct Route {
    Pattern pattern;
    AsyncView async_view;  // exactly one of the two is set
    SyncView sync_view;
    std::vector<std::string> methods;  // empty: every method
  };

 private:
  Router& add(Route route);
  std::vector<Route> routes_;
  std::vector<Middleware> middleware_;
  std::vector<LifespanHook> on_startup_;
  std::vector<LifespanHook> on_shutdown_;
  std::size_t max_body_ = 2'621'440;
};

}  // namespace csgi::web
