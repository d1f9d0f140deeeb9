// The lifespan scope (spec/lifespan.md) as the server runs it: the app is
// called once with a lifespan scope before the first connection is accepted
// and told to shut down after the last one closed.
//
// A small state machine (idle -> starting -> started -> shutting down -> done,
// or failed) with a do-nothing twin for `--lifespan off`. Both run on the
// server's event loop: construct, startup() and shutdown() on that loop's
// thread. The state object is shared with every request's scope.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "gateway/asgi.hpp"
#include "servers/config.hpp"

namespace csgi::servers {

class Lifespan {
 public:
  virtual ~Lifespan() = default;

  // Sends lifespan.startup and waits for the app's answer. Returns false when
  // startup failed; the app's message is already logged, the app's coroutine
  // has ended (as after shutdown()), and the server must not serve (serve()
  // returns 3).
  virtual boost::asio::awaitable<bool> startup() = 0;

  // Sends lifespan.shutdown and waits for the app's answer (a failure is
  // logged), then for the app's coroutine to return: up to `return_timeout`,
  // then it is cancelled and given a second more. Only then may the server
  // stop its loop, so that the coroutine is never destroyed while suspended.
  // Does nothing when startup never ran or the app already returned.
  virtual boost::asio::awaitable<void> shutdown() = 0;

  // The state every request's scope shares with the lifespan scope.
  const std::shared_ptr<State>& state() const { return state_; }

 protected:
  Lifespan() : state_(std::make_shared<State>()) {}
  std::shared_ptr<State> state_;
};

// `auto`: an app that throws or returns during startup, having sent nothing, is
// taken not to support lifespan (logged: at info for asgi::UnsupportedScope
// and a return, at warning for any other exception) and the server serves
// anyway; `on`: the same is a failed startup; `off`: the app is never called
// with a lifespan scope. `return_timeout` (Config::timeout_graceful_shutdown)
// bounds the wait for the app's coroutine to return after its last answer.
std::unique_ptr<Lifespan> make_lifespan(LifespanMode mode, asgi::App app,
                                        boost::asio::any_io_executor executor,
                                        std::chrono::milliseconds return_timeout);

}  // namespace csgi::servers
