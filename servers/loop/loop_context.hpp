// What the loop server shares with each of its connections: settings, the
// app, the lifespan state, counters for --limit-concurrency, and the set of
// open connections that graceful shutdown walks. Lives on the loop's thread:
// nothing here is touched from another thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <unordered_set>

#include <boost/asio/steady_timer.hpp>

#include "gateway/asgi.hpp"
#include "runtime/indexed_set.hpp"
#include "protocol/server_connection.hpp"
#include "runtime/async_event.hpp"
#include "servers/config.hpp"
#include "servers/worker_hooks.hpp"

namespace csgi::servers::loop {

class Connection;
}  // namespace csgi::servers::loop

namespace csgi::servers {
class WebSocketSession;
}  // namespace csgi::servers

namespace csgi::servers::loop {

struct LoopContext {
  LoopContext(const Config& config, const boost::asio::any_io_executor& executor)
      : config(config), all_closed(executor) {}

  const Config& config;
  asgi::App app;
  asgi::AppFunction app_function = nullptr;  // app's plain function, when it is one
  std::shared_ptr<State> state;
  protocol::Limits limits;
  std::optional<Endpoint> server_endpoint;  // null: ask each socket (wildcard bind)
  RequestBudget request_budget;             // --limit-max-requests

  std::unordered_set<Connection*> connections;
  // Connections whose app started since the last turn of the loop (see
  // Connection::begin_app), and whether the task that watches them is queued.
  IndexedSet<Connection> apps_to_watch;
  bool watch_sweep_posted = false;
  std::size_t active_requests = 0;
  // Shared with other workers (WorkerHooks::join_load_sharing): connections
  // waiting for their first request plus sync calls queued or running. Null
  // when nobody shares: then nothing is counted.
  std::atomic<int>* load = nullptr;
  // While the accept loop waits for room: its timer, which a connection whose
  // first request starts cancels (that freed room here).
  boost::asio::steady_timer* waiting_for_room = nullptr;
  bool stopping = false;  // graceful shutdown began: no keep-alive after this
  // Open WebSockets: each outlives the HTTP connection that accepted it.
  std::unordered_set<std::shared_ptr<WebSocketSession>> websockets;
  AsyncEvent all_closed;  // set when both sets are empty while stopping

  bool all_gone() const { return connections.empty() && websockets.empty(); }
  // A connection or WebSocket left its set: the last one out while stopping
  // ends the graceful wait.
  void closed_one() {
    if (stopping && all_gone()) all_closed.set();
  }

  // True when a new request must be answered 503 (--limit-concurrency): the
  // limit counts requests in flight, not connections (spec/servers.md).
  bool over_limit() const {
    auto limit = config.limit_concurrency;
    return limit && active_requests >= *limit;
  }
};

}  // namespace csgi::servers::loop
