// The only place where the sync and async worlds meet (spec/servers.md,
// "Running a sync app on an async server" and the reverse).
#pragma once

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
wsgi::App asgi_to_wsgi(asgi::App app);

class NestedEventLoopError : public std::logic_error {
 public:
  NestedEventLoopError()
      : std::logic_error(
            "cannot run an async app synchronously on an event-loop thread: it would block "
            "the loop; await it instead, or use wsgi_to_asgi for the sync side") {}
};

}  // namespace csgi
