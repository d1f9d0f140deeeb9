// Middleware: a function from an app to an app of the same interface
// (spec/async.md and spec/sync.md, "Middleware"). A middleware may change the
// scope or environ before the call and the events or start_response arguments
// on the way out; it must keep the ordering rules of the interface it wraps.
//
// compose(app, {outer, ..., inner}) wraps the first listed outermost, as in
// Django's MIDDLEWARE list: a request passes `outer` first.
#pragma once

#include <functional>
#include <vector>

#include "gateway/app.hpp"
#include "gateway/asgi.hpp"
#include "gateway/wsgi.hpp"

namespace csgi {

namespace asgi {
using Middleware = std::function<App(App)>;
App compose(App app, const std::vector<Middleware>& middleware);
}  // namespace asgi

namespace wsgi {
using Middleware = std::function<App(App)>;
App compose(App app, const std::vector<Middleware>& middleware);
}  // namespace wsgi

// One middleware in both forms, so it can wrap an Application whichever form a
// server asks for.
struct Middleware {
  asgi::Middleware as_async;
  wsgi::Middleware as_sync;
};

// `app` with `middleware` applied to both of its forms.
Application compose(Application app, const std::vector<Middleware>& middleware);

namespace middleware {

// Adds `Server-Timing: app;dur=<ms>` to every http response: the time from the
// call of the app to its response start (http.response.start, or the
// start_response call that took effect), in milliseconds with three decimals.
asgi::App server_timing(asgi::App app);
wsgi::App server_timing(wsgi::App app);
Middleware server_timing();

// Turns an exception escaping the app into a `500 Internal Server Error` with a
// text/plain body, logging it to the "csgi.error" spdlog logger. Only possible
// while nothing of the response reached the client: later, the exception
// propagates and the server aborts the connection. ClientDisconnected always
// propagates (there is nobody to answer).
// The async form holds http.response.start back until the first body event, so
// an error between the two still becomes a 500; the sync form uses exc_info.
// The sync form requires the server's start_response to stay callable until the
// body is closed (spec/sync.md).
asgi::App exceptions_to_500(asgi::App app);
wsgi::App exceptions_to_500(wsgi::App app);
Middleware exceptions_to_500();

}  // namespace middleware

}  // namespace csgi
