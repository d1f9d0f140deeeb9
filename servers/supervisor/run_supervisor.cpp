// run_supervisor(): the generic Supervisor with the real servers as its worker
// target.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <unistd.h>

#include "servers/listener.hpp"
#include "servers/logging.hpp"
#include "servers/server.hpp"
#include "servers/supervisor/supervisor.hpp"
#include "servers/supervisor/worker.hpp"

namespace csgi::servers {

namespace {

// The worker's Config: one server of the configured kind on the inherited
// socket, with its heartbeat channel and its own request limit.
Config worker_config(const Config& config, const WorkerSetup& setup) {
  Config worker = config;
  worker.workers = 1;
  worker.supervise = false;
  worker.fd = setup.listen_fd;
  worker.heartbeat_fd = setup.heartbeat_fd;
  worker.heartbeat_interval = setup.heartbeat_interval;
  worker.limit_max_requests = setup.max_requests;
  return worker;
}

// The threaded server has no event loop for a Heartbeat to beat from; its
// workers beat from a thread of their own once they serve. That tells the
// supervisor the worker booted and the process is alive, not that every
// connection thread is healthy.
class BeatingThread {
 public:
  void start(int fd, std::chrono::milliseconds interval) {
    thread_ = std::thread([this, fd, interval] {
      std::unique_lock lock(mutex_);
      do send_heartbeat_byte(fd, heartbeat_beat);
      while (!stop_requested_.wait_for(lock, interval, [this] { return stopping_; }));
    });
  }
  ~BeatingThread() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_requested_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::thread thread_;
};

int run_worker(const Config& config, const Application& app, const WorkerSetup& setup) {
  Config worker = worker_config(config, setup);
  BeatingThread beating;
  RunOptions options{.handle_signals = true, .on_started = {}};
  if (worker.server == ServerKind::threaded) {
    options.on_started = [&](bool serving) {
      if (serving) beating.start(worker.heartbeat_fd, worker.heartbeat_interval);
    };
  }
  try {
    // The server gets its own descriptor for the shared socket.
    auto server = server_factory(worker.server)(worker, app, Listener::adopt(::dup(setup.listen_fd)));
    return server->run(options);
  } catch (const std::exception& e) {
    error_log()->error("{}", e.what());
    return worker_exit::failure;
  }
}

}  // namespace

int run_supervisor(const Config& config, const Application& app) {
  std::optional<Listener> listener;
  try {
    listener.emplace(Listener::open(config));
  } catch (const std::exception& e) {
    error_log()->error("{}", e.what());
    return worker_exit::failure;
  }
  error_log()->info("csgi running on {} (Press CTRL+C to quit)", listener->url());

  SupervisorOptions options;
  options.workers = config.workers;
  options.timeout_graceful_shutdown = config.timeout_graceful_shutdown;
  options.timeout_worker_healthcheck = config.timeout_worker_healthcheck;
  options.limit_max_requests = config.limit_max_requests;
  options.limit_max_requests_jitter = config.limit_max_requests_jitter;
  Supervisor supervisor(options, listener->fd(), [&](const WorkerSetup& setup) {
    return run_worker(config, app, setup);
  });
  return supervisor.run();
}

}  // namespace csgi::servers
