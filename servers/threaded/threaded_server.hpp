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
// Lifespan runs on a private loop thread for the life of the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

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

// Binds as `config` says and runs the threaded server on the calling thread
// until SIGINT/SIGTERM. Returns serve()'s exit codes (0, 1, or 3 when
// lifespan startup failed). serve() calls this for ServerKind::threaded
// without workers.
int run_threaded_server(const Config& config, const Application& app);

// A threaded server running on a background thread of this process, for
// tests: bound to `config` (use port 0) and serving when the constructor
// returns.
class ThreadedServerHandle {
 public:
  // Throws std::system_error when binding fails and std::runtime_error when
  // lifespan startup fails.
  ThreadedServerHandle(const Config& config, const Application& app, ThreadedOptions options = {});
  ~ThreadedServerHandle();  // stop()
  ThreadedServerHandle(const ThreadedServerHandle&) = delete;
  ThreadedServerHandle& operator=(const ThreadedServerHandle&) = delete;

  std::uint16_t port() const { return port_; }
  // Graceful shutdown, as SIGTERM does; returns when the server has stopped,
  // with its exit code. Idempotent.
  int stop();

 private:
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  int exit_code_ = 0;
};

}  // namespace csgi::servers
