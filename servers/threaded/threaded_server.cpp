#include "servers/threaded/threaded_server.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "protocol/server_connection.hpp"
#include "servers/cycle.hpp"
#include "servers/logging.hpp"
#include "servers/serve.hpp"
#include "servers/supervisor/exit_codes.hpp"
#include "servers/threaded/blocking_socket.hpp"
#include "servers/threaded/connection.hpp"
#include "servers/threaded/connection_pool.hpp"
#include "servers/threaded/lifespan_thread.hpp"
#include "servers/worker_hooks.hpp"

namespace csgi::servers {

namespace {

using threaded::Clock;
using threaded::ConnectionPool;

// After the graceful-shutdown timeout, aborted connections get this long for
// their threads to notice before they are left behind.
constexpr std::chrono::milliseconds abort_grace{1000};

// The descriptor SIGINT/SIGTERM write to; a signal handler may only touch this.
std::atomic<int> signal_wake_fd{-1};

extern "C" void on_stop_signal(int) {
  int saved = errno;
  std::uint64_t one = 1;
  if (int fd = signal_wake_fd.load(); fd >= 0) (void)!::write(fd, &one, sizeof one);
  errno = saved;
}

// Routes SIGINT and SIGTERM to `fd` for its lifetime, then restores.
class StopSignals {
 public:
  explicit StopSignals(int fd) {
    signal_wake_fd.store(fd);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    signal_wake_fd.store(-1);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

class ThreadedServer final : public Server {
 public:
  ThreadedServer(const Config& config, const Application& app, Listener listener,
                 ThreadedOptions options)
      : config_(config), app_(app), listener_(std::move(listener)), options_(options) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    // poll() says when to accept; accept itself must never block (another
    // worker on the same socket may have taken the connection).
    int flags = ::fcntl(listener_.fd(), F_GETFL);
    ::fcntl(listener_.fd(), F_SETFL, flags | O_NONBLOCK);
  }
  ~ThreadedServer() override { ::close(wake_fd_); }

  int run(const RunOptions& options) override;

  void stop() override {
    std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }

 private:
  std::shared_ptr<ConnectionPool> make_pool(wsgi::App app, asgi::App websocket_app,
                                            std::shared_ptr<State> state,
                                            WorkerHooks& hooks);
  void accept_until_stopped(ConnectionPool& pool, WorkerHooks& hooks);
  void accept_ready(ConnectionPool& pool);
  void drain(ConnectionPool& pool);
  // Stop requests (stop() calls and signals) received so far.
  std::uint64_t stop_requests();

  Config config_;
  Application app_;
  Listener listener_;
  ThreadedOptions options_;
  int wake_fd_ = -1;
  std::uint64_t stop_requests_ = 0;
};

int ThreadedServer::run(const RunOptions& options) {
  std::optional<StopSignals> signals;
  if (options.handle_signals) signals.emplace(wake_fd_);
  bool reported = false;
  auto started = [&](bool serving) {
    reported = true;
    if (options.on_started) options.on_started(serving);
  };
  try {
    // Both forms of the app: the sync one for requests, the async one that
    // the lifespan thread builds for lifespan.
    wsgi::App app;
    std::optional<threaded::LifespanThread> lifespan;
    try {
      app = app_.as_sync();
      lifespan.emplace(config_.lifespan, app_, config_.timeout_graceful_shutdown);
    } catch (...) {
      log_app_load_failed(app_.name, std::current_exception());
      started(false);
      return worker_exit::app_load_failed;
    }
    log_server_process_started();
    if (!lifespan->startup()) {
      started(false);
      return worker_exit::boot_failed;
    }
    auto pool = make_pool(std::move(app), lifespan->async_app(), lifespan->state(), hooks_of(options));
    error_log()->info("Threaded server: up to {} connection threads", config_.thread_count());
    if (options.log_url) log_running_on(listener_.url());
    started(true);

    int code = worker_exit::ok;
    try {
      accept_until_stopped(*pool, hooks_of(options));
    } catch (const std::exception& e) {
      error_log()->error("Accepting connections failed: {}", e.what());
      code = worker_exit::failure;
    }
    if (options.on_stopping) options.on_stopping();
    log_shutting_down();
    drain(*pool);
    pool.reset();
    lifespan->shutdown();
    log_server_process_finished();
    return code;
  } catch (const std::exception& e) {
    error_log()->error("{}", e.what());
    if (!reported) started(false);
    return worker_exit::failure;
  }
}

std::shared_ptr<ConnectionPool> ThreadedServer::make_pool(wsgi::App app, asgi::App websocket_app,
                                                          std::shared_ptr<State> state,
                                                          WorkerHooks& hooks) {
  // Shared with the connection threads, which may outlive run() when an app
  // ignores the shutdown timeout.
  auto context = std::make_shared<threaded::ConnectionContext>(config_, std::move(app),
                                                               std::move(state));
  context->websocket_app = std::move(websocket_app);
  context->request_budget.start(config_.limit_max_requests, hooks, [this] { stop(); });

  threaded::PoolOptions pool_options;
  pool_options.threads = std::max<std::size_t>(config_.thread_count(), 1);
  pool_options.queue_capacity = options_.queue_capacity
                                    ? options_.queue_capacity
                                    : std::max<std::size_t>(pool_options.threads, 16);
  pool_options.queue_timeout = options_.queue_timeout;

  return ConnectionPool::create(
      pool_options,
      [context](int fd, ConnectionPool& pool) { threaded::serve_connection(fd, *context, pool); },
      [server_header = config_.server_header](int fd) {
        error_log()->warn("Every connection thread is busy: answering 503");
        threaded::refuse(fd, protocol::error_response(503, server_header));
      });
}

// This loop beats when the hooks ask for it: its waits are bounded by the
// heartbeat interval, so a stuck acceptor (not merely a live process) is what
// a supervisor's health check catches.
void ThreadedServer::accept_until_stopped(ConnectionPool& pool, WorkerHooks& hooks) {
  PolledHeartbeat heartbeat(hooks);
  while (stop_requests() == 0) {
    heartbeat.beat_if_due();
    std::optional<Clock::time_point> next = pool.expire_waiting();
    if (auto beat = heartbeat.next_beat()) next = next ? std::min(*next, *beat) : *beat;
    if (threaded::wait_readable({listener_.fd(), wake_fd_}, next.value_or(Clock::time_point::max())) == 0)
      accept_ready(pool);
  }
}

// Accepts what the listen queue holds now.
void ThreadedServer::accept_ready(ConnectionPool& pool) {
  for (int i = 0; i < 256; ++i) {
    int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      threaded::configure_accepted(fd);
      pool.submit(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors: leave the rest in the backlog for a moment rather
      // than spinning on a readable listener.
      error_log()->warn("accept: {}", std::strerror(errno));
      threaded::wait_readable({wake_fd_}, Clock::now() + std::chrono::milliseconds(10));
    }
    return;
  }
}

// Graceful shutdown: the connections the listen queue holds are taken, and
// the listening socket closed; requests in flight, connections already
// accepted and idle keep-alive ones (until their next response or their
// keep-alive timeout) are served until timeout_graceful_shutdown (or a second
// stop request); then the sockets still served are shut down and the
// connections still queued get 503.
void ThreadedServer::drain(ConnectionPool& pool) {
  // A connection left in the listen queue would be reset when the process
  // exits, after its client sent a request; once this process's descriptor
  // is closed, the kernel refuses new ones (or, under a supervisor or
  // systemd, which keep theirs, queues them for another process).
  accept_ready(pool);
  listener_.close();
  pool.stop_accepting();
  auto deadline = Clock::now() + config_.timeout_graceful_shutdown;
  bool forced = false;
  if (pool.connections_served() + pool.connections_waiting() > 0) log_waiting_for_connections();
  // One wait at a time until every thread returned (done_fd), a second stop
  // request arrives (wake_fd_), the deadline passes, or a queued connection's
  // wait for a thread expires (it gets its 503, and the wait goes on).
  for (;;) {
    std::optional<Clock::time_point> expiry = pool.expire_waiting();
    auto ready = threaded::wait_readable({pool.done_fd(), wake_fd_},
                                         expiry ? std::min(deadline, *expiry) : deadline);
    if (ready == 0) break;
    if (Clock::now() >= deadline || (ready == 1 && stop_requests() > 1)) {
      forced = true;
      break;
    }
  }
  if (forced) {
    log_cancelling_connections(pool.connections_served() + pool.connections_waiting());
    pool.abort_connections();
  }
  if (!pool.join(Clock::now() + abort_grace))
    error_log()->error("Connection threads still run an app; leaving them behind");
}

std::uint64_t ThreadedServer::stop_requests() {
  std::uint64_t count = 0;
  if (::read(wake_fd_, &count, sizeof count) == sizeof count) stop_requests_ += count;
  return stop_requests_;
}

}  // namespace

std::unique_ptr<Server> make_threaded_server(const Config& config, const Application& app,
                                             Listener listener, ThreadedOptions options) {
  return std::make_unique<ThreadedServer>(config, app, std::move(listener), options);
}

int run_threaded_server(const Config& config, const Application& app) {
  // serve() owns what every server kind needs first: logging and the fd limit.
  Config threaded = config;
  threaded.server = ServerKind::threaded;
  return serve(threaded, app);
}

ServerFactory threaded_server_factory(ThreadedOptions options) {
  return [options](const Config& config, const Application& app, Listener listener) {
    return make_threaded_server(config, app, std::move(listener), options);
  };
}

}  // namespace csgi::servers
