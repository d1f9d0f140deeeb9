// One connection of the threaded server, served on its own thread with
// blocking reads and writes: a thin driver of protocol::ServerConnection that
// runs the sync form of the app for each request.
//
// HTTP (parsing, framing, keep-alive, pipelining, limits) is protocol/'s, app
// failures are end_cycle()'s (servers/cycle.hpp). What lives here is I/O and
// time: the keep-alive and request-head timeouts, the request body as a
// blocking wsgi::InputStream (which throws asgi::ClientDisconnected when the
// client goes away mid-body), the response pulled from the app's Body and
// written chunk by chunk as it comes, and giving an idle keep-alive
// connection up when the pool has waiting connections or is stopping.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "gateway/adapters.hpp"
#include "gateway/wsgi.hpp"
#include "protocol/server_connection.hpp"
#include "servers/config.hpp"
#include "servers/cycle.hpp"
#include "servers/worker_hooks.hpp"

namespace csgi::servers::threaded {

class ConnectionPool;

// What every connection of one server shares. Read-only while serving, but for
// the request count.
struct ConnectionContext {
  ConnectionContext(const Config& config, wsgi::App app, std::shared_ptr<State> state)
      : config(config),
        app(std::move(app)),
        async_app(this->app.target<AsyncAppAsSync>()),
        state(std::move(state)),
        limits(protocol_limits(config)) {}

  Config config;
  wsgi::App app;
  // The async app inside `app` when it is one (asgi_to_wsgi): called with the
  // Scope built from the request head, without an Environ in between.
  const AsyncAppAsSync* async_app;
  // The app's async form, for WebSocket connections: each runs it on a loop
  // of its own thread (websocket_thread.hpp).
  asgi::App websocket_app;
  std::shared_ptr<State> state;   // lifespan state, in every request's environ
  protocol::Limits limits;
  // --limit-max-requests, counted as on the loop server (count() is
  // thread-safe), and the requests in flight that --limit-concurrency bounds:
  // the members that change while serving.
  mutable RequestBudget request_budget;
  mutable std::atomic<std::size_t> requests_in_flight{0};
};

// Serves the accepted socket `fd` until the connection ends: the peer closed,
// a response was not keep-alive, a timeout, an error, or `pool` asked an idle
// connection to yield. Runs on a connection thread; does not close `fd`.
void serve_connection(int fd, const ConnectionContext& context, ConnectionPool& pool);

}  // namespace csgi::servers::threaded
