// The threaded server (runserver / wsgiref analogue): blocking sockets and a
// thread per connection, up to Config::threads of them.
//
// One acceptor thread (the one that calls run()) accepts and hands each
// connection to a ConnectionPool (servers/threaded/connection_pool.hpp); a
// connection thread serves it, keep-alive included, with the same
// protocol::ServerConnection request cycle as the loop server
// (servers/threaded/connection.hpp). When every thread is busy, new
// connections wait in a bounded queue, then get 503.
//
// Apps run in their sync form (Application::as_sync): a sync app on the
// connection's thread, an async app through asgi_to_wsgi, so each request gets
// a fresh event loop on that thread and the awaits inside it run concurrently.
// Lifespan runs on a private loop thread for the life of the server. Each
// request handed to the app counts against --limit-max-requests, as on the
// loop server (RequestBudget, servers/worker_hooks.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "gateway/app.hpp"
#include "servers/config.hpp"
#include "servers/listener.hpp"
#include "servers/server.hpp"

namespace csgi::servers {

// What only the threaded server has, beyond Config.
struct ThreadedOptions {
  // Accepted connections that may wait for a thread; 0: Config::threads, at
  // least 16.
  std::size_t queue_capacity = 0;
  // How long an accepted connection waits for a thread before it gets 503.
  std::chrono::milliseconds queue_timeout{5000};
};

// The Server (servers/server.hpp) of kind ServerKind::threaded.
std::unique_ptr<Server> make_threaded_server(const Config& config, const Application& app,
                                             Listener listener, ThreadedOptions options = {});

// make_threaded_server with `options`, as the factory serve() and the tests'
// BackgroundServer (servers/background_server.hpp) take.
ServerFactory threaded_server_factory(ThreadedOptions options = {});

// serve() (servers/serve.hpp) with `config.server` set to threaded: binds and
// runs the threaded server on the calling thread until SIGINT/SIGTERM.
// Returns serve()'s exit codes (servers/supervisor/exit_codes.hpp).
int run_threaded_server(const Config& config, const Application& app);

}  // namespace csgi::servers
