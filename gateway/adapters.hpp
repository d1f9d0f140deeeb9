// The only place where the sync and async worlds meet (spec/servers.md,
// "Running a sync app on an async server" and the reverse).
#pragma once

#include <memory>
#include <functional>
#include <stdexcept>

#include "gateway/asgi.hpp"
#include "runtime/executor.hpp"
#include "gateway/wsgi.hpp"

namespace csgi {

// A sync app as an async one. Each call runs `app` on `executor` (which must
// outlive the returned app); the request body streams in through a blocking
// InputStream and the response streams out, each chunk handed to `send` and the
// sync thread blocked until `send` completes (backpressure, no buffering of the
// whole body). With a one-thread executor, calls are serialised, and the app
// sees Environ::multithread false; with more threads, true.
asgi::App wsgi_to_asgi(wsgi::App app, SyncExecutor& executor);

// An async app as a sync one. Each call runs `app` to completion on a fresh
// event loop run by the calling thread, so awaits inside it (timers, gather,
// client calls) run concurrently with each other. Fresh: nothing of an earlier
// call remains in it (the loop of the caller's Environ::loop_cache is reused
// only when a call left no work in it). Throws NestedEventLoopError when
// called on an event-loop thread.
// The returned App holds an AsyncAppAsSync.
wsgi::App asgi_to_wsgi(asgi::App app);

// What asgi_to_wsgi returns, with a second entry for a sync server that builds
// the request's Scope itself (from the request head): it finds this object
// with wsgi::App::target<AsyncAppAsSync>() and calls it with that Scope, so no
// Environ is built only to be turned back into a Scope.
class AsyncAppAsSync {
 public:
  explicit AsyncAppAsSync(asgi::App app);
  // The wsgi::App call: the Scope is built from `environ`.
  wsgi::Body operator()(wsgi::Environ& environ, wsgi::StartResponse& start_response) const;
  // The direct call: `scope` is the request's; the body is read from `input`
  // (may be null: no body); `loops`, when given, lends the call a spare loop
  // (Environ::loop_cache). Otherwise as the call above.
  wsgi::Body operator()(asgi::Scope&& scope, wsgi::InputStream* input,
                        wsgi::StartResponse& start_response, wsgi::LoopCache* loops = nullptr) const;

 private:
  std::shared_ptr<const asgi::App> app_;
};

// Runs `work` on a thread of `executor` and resumes the awaiting coroutine on
// its own executor, rethrowing what `work` threw: a blocking function called
// from an event loop (asgiref's sync_to_async for a plain call). The loop
// counts the call as outstanding work meanwhile. `executor` must outlive it.
//
// `origin` names the request the call serves. A call that could never start
// (SyncExecutor::certain_deadlock: every thread held by its own callers)
// throws SyncDeadlock at once, logged; a call whose awaiting coroutine is
// cancelled before it starts never runs (ClientDisconnected).
struct SyncCallOrigin {
  TraceContext trace;
  std::string_view method;  // named in the deadlock message
  std::string_view path;
};
asgi::awaitable<void> run_sync(SyncExecutor& executor, std::function<void()> work,
                               SyncCallOrigin origin = {});

class NestedEventLoopError : public std::logic_error {
 public:
  NestedEventLoopError()
      : std::logic_error(
            "cannot run an async app synchronously on an event-loop thread: it would block "
            "the loop; await it instead, or use wsgi_to_asgi for the sync side") {}
};

}  // namespace csgi
