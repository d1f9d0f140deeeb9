#include "servers/loop/loop_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "servers/cycle.hpp"
#include "servers/logging.hpp"
#include "servers/loop/connection.hpp"
#include "servers/websocket_session.hpp"
#include "servers/supervisor/exit_codes.hpp"
#include "servers/worker_hooks.hpp"

namespace csgi::servers {

std::unique_ptr<Server> make_loop_server(const Config& config, const Application& app,
                                         Listener listener) {
  return std::make_unique<loop::LoopServer>(config, app, std::move(listener));
}

namespace loop {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

// After the graceful period, cancelled requests get this long to unwind.
constexpr auto cancel_grace = std::chrono::seconds(1);
// Accept failed for lack of descriptors: pause instead of spinning.
constexpr auto accept_backoff = std::chrono::milliseconds(100);
// A worker with no room while another has some looks again this often, or
// as soon as a connection of its own starts its first request: the other
// workers' loads, and its own sync calls, change in memory that wakes nobody.
constexpr auto room_recheck = std::chrono::milliseconds(5);
// Connections taken from the accept queue in one turn of the loop: as many
// as the default backlog holds.
constexpr int accept_batch = 4096;

bool is_wildcard(const Endpoint& endpoint) {
  return endpoint.host == "0.0.0.0" || endpoint.host == "::";
}

void set_no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

LoopServer::LoopServer(const Config& config, const Application& app, Listener listener)
    : config_(config),
      application_(app),
      listener_(std::move(listener)),
      sync_(config.thread_count(),
            config.sync_batch_scheduling ? SyncScheduling::batch : SyncScheduling::normal),
      context_(std::make_shared<LoopContext>(config_, io_.get_executor())),
      stop_requested_(io_.get_executor()),
      force_stop_(io_.get_executor()) {}

LoopServer::~LoopServer() = default;

void LoopServer::stop() {
  asio::post(io_, [this] { request_stop(); });
}

void LoopServer::request_stop() {
  if (++stop_requests_ == 1)
    stop_requested_.set();
  else
    force_stop_.set();
}

int LoopServer::run(const RunOptions& options) {
  EventLoopThreadMark loop_thread;
  if (options.handle_signals) signals_.emplace(io_, SIGINT, SIGTERM);
  try {
    context_->app = application_.as_async(sync_);
    context_->app_function = asgi::plain_function(context_->app);
  } catch (...) {
    log_app_load_failed(application_.name, std::current_exception());
    if (options.on_started) options.on_started(false);
    return worker_exit::app_load_failed;
  }
  context_->limits = protocol_limits(config_);
  if (!listener_.is_unix() && !is_wildcard(listener_.local_endpoint()))
    context_->server_endpoint = listener_.local_endpoint();
  context_->request_budget.start(config_.limit_max_requests, hooks_of(options), [this] { stop(); });
  lifespan_ = make_lifespan(config_.lifespan, context_->app, io_.get_executor(),
                            config_.timeout_graceful_shutdown);
  context_->state = lifespan_->state();

  asio::co_spawn(io_, main(options), [this](std::exception_ptr error) {
    if (!error) return;
    error_log()->error("the server stopped on an error: {}", exception_message(error));
    exit_code_ = worker_exit::failure;
    io_.stop();
  });
  if (signals_) asio::co_spawn(io_, handle_signals(*signals_), asio::detached);
  io_.run();
  finish_sync_work();
  return exit_code_;
}

// Sync threads may still be inside an app, and some wait for the loop (a
// send in flight): keep the loop running until they have all returned, so
// that nothing is posted to a loop that is gone.
void LoopServer::finish_sync_work() {
  io_.restart();
  auto guard = asio::make_work_guard(io_);
  std::thread joiner([this, &guard] {
    sync_.join();
    asio::post(io_, [this, &guard] {
      guard.reset();
      io_.stop();
    });
  });
  io_.run();
  joiner.join();
}

asio::awaitable<void> LoopServer::main(RunOptions options) {
  log_server_process_started();
  bool serving = co_await lifespan_->startup() && open_acceptor();
  if (!serving) {
    if (exit_code_ == worker_exit::ok) exit_code_ = worker_exit::boot_failed;
    if (options.on_started) options.on_started(false);
    io_.stop();
    co_return;
  }
  WorkerHooks& hooks = hooks_of(options);
  context_->load = hooks.join_load_sharing(static_cast<int>(sync_.threads()));
  sync_.set_load_counter(context_->load);
  asio::co_spawn(io_, context_->load ? accept_by_capacity(hooks) : accept(), asio::detached);
  // Beats from this loop say the server is up and the loop is not blocked.
  Heartbeat heartbeat(io_.get_executor(), hooks);
  heartbeat.start();
  if (options.log_url) log_running_on(listener_.url());
  if (options.on_started) options.on_started(true);

  co_await stop_requested_.wait();
  heartbeat.stop();
  hooks.leave_load_sharing();
  if (options.on_stopping) options.on_stopping();
  co_await shut_down();
  co_await lifespan_->shutdown();
  log_server_process_finished();
  // The lifespan coroutine has ended; what else the app left on the loop is dropped.
  io_.stop();
}

bool LoopServer::open_acceptor() {
  // The acceptor gets its own descriptor: the Listener keeps the original
  // (and the socket file), as the supervisor's workers each do.
  int fd = ::dup(listener_.fd());
  boost::system::error_code error;
  acceptor_.emplace(io_);
  if (fd >= 0) acceptor_->assign(asio::generic::stream_protocol(listener_.family(), SOCK_STREAM), fd, error);
  // accept() below must answer would_block on an empty queue, not wait.
  if (fd >= 0 && !error) acceptor_->non_blocking(true, error);
  if (fd < 0 || error) {
    error_log()->error("cannot accept on {}: {}", listener_.url(),
                       fd < 0 ? std::strerror(errno) : error.message());
    if (fd >= 0) ::close(fd);
    exit_code_ = worker_exit::failure;
    return false;
  }
  return true;
}

void LoopServer::start_connection(Socket socket) {
  if (!listener_.is_unix()) set_no_delay(socket.native_handle());
  auto connection = std::make_shared<Connection>(std::move(socket), context_);
  asio::co_spawn(io_, connection->run(),
                 asio::bind_cancellation_slot(connection->cancellation_slot(),
                                              [connection](std::exception_ptr) {}));
}

// Takes up to `limit` connections already in the accept queue, without
// waiting: an error (would_block once the queue is empty) ends it, and the
// accept loop retries a real one.
void LoopServer::take_queued(int limit) {
  for (int taken = 0; taken < limit; ++taken) {
    Socket next(io_);
    boost::system::error_code error;
    acceptor_->accept(next, error);
    if (error) return;
    start_connection(std::move(next));
  }
}

asio::awaitable<void> LoopServer::accept() {
  asio::steady_timer backoff(io_);
  for (;;) {
    auto [error, socket] = co_await acceptor_->async_accept(asio::as_tuple(use_awaitable));
    if (error == asio::error::operation_aborted || (error && context_->stopping)) co_return;
    if (error) {
      error_log()->error("accept failed: {}", error.message());
      backoff.expires_after(accept_backoff);
      co_await backoff.async_wait(asio::as_tuple(use_awaitable));
      continue;
    }
    start_connection(std::move(socket));
    // A burst fills the accept queue faster than one accept per turn of the
    // loop empties it, and a full queue makes the kernel drop handshakes that
    // clients retry only a second later: take what is queued now, up to a
    // bound so that the connections already accepted get their turn too.
    if (!context_->stopping) take_queued(accept_batch - 1);
    // A connection accepted as shutdown began is served all the same (its
    // client is waiting); only then does accepting end.
    if (context_->stopping) co_return;
  }
}

// A connection taken is counted in the load until its first request starts
// (Connection), and a sync call while it is queued or runs (SyncExecutor):
// the room is what the sync threads have left for new work. A worker without
// room leaves the accept queue to the others while one has room, and takes
// connections anyway when none has, as it would alone. Connections are taken
// one by one, so that each is counted before the next decision; a readiness
// wait, not a pending accept, waits for the next, so that a worker whose
// room went while it waited does not take one.
asio::awaitable<void> LoopServer::accept_by_capacity(WorkerHooks& hooks) {
  asio::steady_timer timer(io_);
  const int capacity = static_cast<int>(sync_.threads());
  auto may_take = [&] {
    return context_->load->load(std::memory_order_relaxed) < capacity ||
           !hooks.another_worker_has_room();
  };
  while (!context_->stopping) {
    if (!may_take()) {
      timer.expires_after(room_recheck);
      context_->waiting_for_room = &timer;
      co_await timer.async_wait(asio::as_tuple(use_awaitable));
      context_->waiting_for_room = nullptr;
      continue;
    }
    Socket socket(io_);
    boost::system::error_code error;
    acceptor_->accept(socket, error);
    if (!error) {
      start_connection(std::move(socket));
      continue;
    }
    if (error == asio::error::would_block || error == asio::error::try_again) {
      auto [wait_error] =
          co_await acceptor_->async_wait(Acceptor::wait_read, asio::as_tuple(use_awaitable));
      if (wait_error == asio::error::operation_aborted || (wait_error && context_->stopping))
        co_return;
      continue;
    }
    if (context_->stopping) co_return;
    error_log()->error("accept failed: {}", error.message());
    timer.expires_after(accept_backoff);
    co_await timer.async_wait(asio::as_tuple(use_awaitable));
  }
}

asio::awaitable<void> LoopServer::handle_signals(asio::signal_set& signals) {
  for (;;) {
    auto [error, number] = co_await signals.async_wait(asio::as_tuple(use_awaitable));
    if (error) co_return;
    request_stop();
  }
}

asio::awaitable<void> LoopServer::shut_down() {
  log_shutting_down();
  context_->stopping = true;
  boost::system::error_code ignored;
  if (acceptor_) {
    // A connection left in the listen queue would be reset when the process
    // exits, after its client sent a request: take what is queued now, and in
    // the same turn of the loop close this process's descriptors of the
    // socket, so that the kernel refuses new ones (or, under a supervisor or
    // systemd, which keep theirs, queues them for another process).
    take_queued(std::numeric_limits<int>::max());
    acceptor_->close(ignored);
  }
  listener_.close();
  // An accept that completed before the close has its handler queued: let it
  // add its connection before the connections are walked.
  co_await asio::post(io_, use_awaitable);
  auto snapshot = [this] {
    return std::vector<Connection*>(context_->connections.begin(), context_->connections.end());
  };
  auto websockets = [this] {
    return std::vector(context_->websockets.begin(), context_->websockets.end());
  };
  for (Connection* connection : snapshot()) connection->stop_gracefully();
  for (const auto& websocket : websockets()) websocket->going_away();
  if (context_->all_gone()) co_return;

  log_waiting_for_connections();
  asio::steady_timer timer(io_, config_.timeout_graceful_shutdown);
  co_await (context_->all_closed.wait() || timer.async_wait(use_awaitable) || force_stop_.wait());
  if (context_->all_gone()) co_return;

  log_cancelling_connections(context_->connections.size() + context_->websockets.size());
  for (Connection* connection : snapshot()) connection->cancel();
  for (const auto& websocket : websockets()) websocket->cancel();
  timer.expires_after(cancel_grace);
  co_await (context_->all_closed.wait() || timer.async_wait(use_awaitable));
}

}  // namespace loop
}  // namespace csgi::servers
