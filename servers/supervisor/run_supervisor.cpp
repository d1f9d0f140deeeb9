// run_supervisor(): the generic Supervisor with the real servers as its worker
// target.
#include <optional>
#include <string>

#include <unistd.h>

#include "servers/listener.hpp"
#include "servers/logging.hpp"
#include "servers/server.hpp"
#include "servers/supervisor/supervisor.hpp"
#include "servers/supervisor/worker.hpp"
#include "servers/systemd.hpp"

namespace csgi::servers {

namespace {

// The worker's Config: one server of the configured kind on the inherited
// socket, with its own request limit.
Config worker_config(const Config& config, const WorkerSetup& setup) {
  Config worker = config;
  worker.workers = 1;
  worker.supervise = false;
  worker.fd = setup.listen_fd;
  worker.limit_max_requests = setup.max_requests;
  return worker;
}

int run_worker(const Config& config, const Application& app, const WorkerSetup& setup) {
  Config worker = worker_config(config, setup);
  try {
    // The server gets its own descriptor for the shared socket, and hooks
    // that write to the heartbeat channel. Each server kind beats from its
    // own loop.
    auto server = server_factory(worker.server)(worker, app, Listener::adopt(::dup(setup.listen_fd)));
    SupervisedWorkerHooks hooks(setup.heartbeat_fd, setup.heartbeat_interval, setup.load_board);
    return server->run(
        {.handle_signals = true, .on_started = {}, .hooks = &hooks, .log_url = false});
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
  SupervisorOptions options;
  options.url = listener->url();
  options.workers = config.workers;
  options.timeout_graceful_shutdown = config.timeout_graceful_shutdown;
  options.timeout_worker_healthcheck = config.timeout_worker_healthcheck;
  options.limit_max_requests = config.limit_max_requests;
  options.limit_max_requests_jitter = config.limit_max_requests_jitter;
  options.on_ready = [] { systemd::notify("READY=1"); };
  options.on_stopping = [] { systemd::notify("STOPPING=1"); };
  options.upgrade = UpgradeCommand::of_this_process();
  options.upgrade.fd_name = config.fd_name;
  if (config.fd >= 0) options.upgrade.listen_fd_number = config.fd;
  // Under systemd (Type=notify) the new supervisor becomes the service's main process.
  options.on_upgraded = [](pid_t pid) { systemd::notify("MAINPID=" + std::to_string(pid)); };
  Supervisor supervisor(options, listener->fd(), [&](const WorkerSetup& setup) {
    return run_worker(config, app, setup);
  });
  int code = supervisor.run();
  // The new supervisor serves on this socket now: its file stays.
  if (supervisor.handed_over()) ::close(listener->release());
  return code;
}

}  // namespace csgi::servers
