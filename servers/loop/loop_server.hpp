// The single-threaded event-loop server (the uvicorn analogue): one thread,
// one io_context, every connection a coroutine on it, async apps awaited
// there and sync apps run through the adapter on Config::threads sync threads.
// Made through make_loop_server() (servers/server.hpp); this header is the
// loop folder's own.
#pragma once

#include <memory>
#include <optional>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "gateway/app.hpp"
#include "runtime/executor.hpp"
#include "runtime/async_event.hpp"
#include "servers/config.hpp"
#include "servers/lifespan.hpp"
#include "servers/listener.hpp"
#include "servers/loop/loop_context.hpp"
#include "servers/server.hpp"

namespace csgi::servers::loop {

class LoopServer final : public Server {
 public:
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;
  using Socket = boost::asio::generic::stream_protocol::socket;

  LoopServer(const Config& config, const Application& app, Listener listener);
  ~LoopServer() override;

  int run(const RunOptions& options) override;
  void stop() override;

 private:
  boost::asio::awaitable<void> main(RunOptions options);
  boost::asio::awaitable<void> accept();
  // Load sharing with other workers (worker_hooks.hpp): one connection at a
  // time, while this worker has room or no other worker has.
  boost::asio::awaitable<void> accept_by_capacity(WorkerHooks& hooks);
  boost::asio::awaitable<void> handle_signals(boost::asio::signal_set& signals);
  boost::asio::awaitable<void> shut_down();
  bool open_acceptor();
  // Serves an accepted socket: a Connection coroutine on the loop.
  void start_connection(Socket socket);
  void take_queued(int limit);
  void request_stop();  // on the loop thread
  void finish_sync_work();

  // Destroyed in reverse: the events and the acceptor before the io_context
  // they are bound to; the sync executor last, after its threads were joined.
  Config config_;
  Application application_;
  Listener listener_;
  SyncExecutor sync_;
  // One thread runs it, and only that thread touches its sockets: the hint
  // drops the reactor's per-socket locks (taken several times per request)
  // and lets completions posted from that thread skip the reactor wake-up.
  // Other threads (sync apps, stop()) may still post to it: the scheduler
  // keeps its lock.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::shared_ptr<LoopContext> context_;
  std::unique_ptr<Lifespan> lifespan_;
  std::optional<Acceptor> acceptor_;
  // SIGINT and SIGTERM, when the server handles signals: installed as run()
  // begins, so that one arriving while the app loads or starts up is a
  // graceful stop, not the default death.
  std::optional<boost::asio::signal_set> signals_;
  AsyncEvent stop_requested_;
  AsyncEvent force_stop_;
  int stop_requests_ = 0;
  int exit_code_ = 0;
};

}  // namespace csgi::servers::loop
