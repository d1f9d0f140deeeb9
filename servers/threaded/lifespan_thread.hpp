// The lifespan of an app under the threaded server, which has no event loop of
// its own: a private loop on its own thread runs the lifespan scope
// (servers/lifespan.hpp) for the life of the server, so that an async app's
// startup code and the tasks it leaves running live on a loop, as they would
// under the loop server.
//
// Thread-safety: construct, startup(), shutdown() and destroy from one thread
// (the server's); they block until the loop thread has done the work.
#pragma once

#include <chrono>
#include <memory>

#include "gateway/app.hpp"
#include "gateway/common.hpp"
#include "servers/config.hpp"

namespace csgi::servers::threaded {

class LifespanThread {
 public:
  // Starts the loop thread. The app's lifespan scope is the async form of `app`
  // (a sync app's form answers it as unsupported, which `auto` accepts);
  // `mode` as Config::lifespan, `return_timeout` as make_lifespan's. Throws
  // what building that form throws.
  LifespanThread(LifespanMode mode, const Application& app, std::chrono::milliseconds return_timeout);
  ~LifespanThread();  // stops the loop (cancelling what the app left on it), joins
  LifespanThread(const LifespanThread&) = delete;
  LifespanThread& operator=(const LifespanThread&) = delete;

  // Sends lifespan.startup and waits for the answer: false when startup failed
  // (already logged; the server must not serve).
  bool startup();
  // Sends lifespan.shutdown and waits for the answer (failures are logged).
  void shutdown();

  // The state every request's environ shares with the lifespan scope.
  std::shared_ptr<State> state() const;

  // The app's async form, built with the sync executor of this thread: the
  // threaded server runs it for WebSocket connections, each on a loop of the
  // connection's own thread (spec/websocket.md). Empty when the app has none.
  const asgi::App& async_app() const;

 private:
  struct Impl;
  void stop_loop();
  std::unique_ptr<Impl> impl_;
};

}  // namespace csgi::servers::threaded
