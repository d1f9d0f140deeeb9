// What every server kind (loop, threaded) offers to serve() and to tests: run
// on the calling thread until stopped, and a thread-safe stop().
//
// A server is made from a Config, an Application and a Listener that is
// already bound (servers/listener.hpp), so that the supervisor can bind once
// before forking and give each worker a server over the same socket.
#pragma once

#include <functional>
#include <memory>

#include "gateway/app.hpp"
#include "servers/config.hpp"
#include "servers/listener.hpp"
#include "servers/worker_hooks.hpp"

namespace csgi::servers {

struct RunOptions {
  // SIGINT and SIGTERM start a graceful shutdown; a second one forces it.
  // serve() sets this; an in-process test server leaves it off.
  bool handle_signals = false;
  // Called once on the server's thread when startup has ended: true when the
  // server accepts connections, false when lifespan startup failed. Must not
  // block.
  std::function<void(bool serving)> on_started;
  // Told of the heartbeat and the request budget (servers/worker_hooks.hpp);
  // null: default_worker_hooks(). Must outlive run().
  WorkerHooks* hooks = nullptr;
  // Logs the URL the server listens on once it serves. The supervisor turns
  // it off in its workers: it logs where they all listen.
  bool log_url = true;
  // Called once on the server's thread when its graceful shutdown begins.
  // Must not block.
  std::function<void()> on_stopping = {};
};

// The hooks `options` names, or the do-nothing ones.
inline WorkerHooks& hooks_of(const RunOptions& options) {
  return options.hooks ? *options.hooks : default_worker_hooks();
}

class Server {
 public:
  virtual ~Server() = default;

  // Runs lifespan startup, serves until stop() or a signal, shuts down
  // gracefully (Config::timeout_graceful_shutdown), runs lifespan shutdown and
  // returns the exit code: 0 after a clean stop, 3 when lifespan startup
  // failed, 1 for other failures (logged). Call once, on the thread that is
  // to run the server.
  virtual int run(const RunOptions& options) = 0;

  // Asks for a graceful shutdown: stop accepting, finish in-flight requests,
  // close idle connections. Thread-safe; may be called before run() (which then
  // stops right after startup) and more than once (the second call forces).
  virtual void stop() = 0;
};

using ServerFactory =
    std::function<std::unique_ptr<Server>(const Config& config, const Application& app,
                                          Listener listener)>;

// The factory for `kind`. Throws std::invalid_argument for a kind that is not
// available in this build (the message says so).
ServerFactory server_factory(ServerKind kind);

// The single-threaded event-loop server (servers/loop).
std::unique_ptr<Server> make_loop_server(const Config& config, const Application& app,
                                         Listener listener);

}  // namespace csgi::servers
