#include "servers/supervisor/supervisor.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/ascii.hpp"
#include "servers/logging.hpp"
#include "servers/supervisor/signal_queue.hpp"
#include "servers/supervisor/worker.hpp"

namespace csgi::servers {

namespace {

// Writes out whatever the logs and stdio buffer: before a fork, so that
// nothing buffered is written twice, by parent and child, and before _exit.
void flush_logs() {
  error_log()->flush();
  access_log()->flush();
  std::fflush(nullptr);
}

using std::chrono::milliseconds;

std::string signal_name(int signal_number) {
  const char* abbrev = ::sigabbrev_np(signal_number);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal_number);
}

// "term" for SIGTERM, as gunicorn's "Handling signal: term".
std::string lower_signal_name(int signal_number) {
  return ascii::to_lower(::sigabbrev_np(signal_number) ? ::sigabbrev_np(signal_number) : "?");
}

double seconds(milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

}  // namespace

milliseconds heartbeat_interval_for(milliseconds healthcheck_timeout) {
  return std::clamp(healthcheck_timeout / 5, milliseconds(10), milliseconds(1000));
}

Supervisor::Supervisor(SupervisorOptions options, int listen_fd, WorkerTarget target)
    : options_(options),
      listen_fd_(listen_fd),
      target_(std::move(target)),
      heartbeat_interval_(heartbeat_interval_for(options.timeout_worker_healthcheck)),
      wanted_(std::max<std::size_t>(1, options.workers)) {}

Supervisor::~Supervisor() {
  for (auto& worker : workers_)
    if (worker.heartbeat_fd >= 0) ::close(worker.heartbeat_fd);
}

int Supervisor::run() {
  SignalQueue signals({SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGTTIN, SIGTTOU, SIGCHLD});
  signals_ = &signals;
  parent_pid_ = ::getpid();
  error_log()->info("Started parent process [{}]", parent_pid_);
  if (!options_.url.empty()) log_running_on(options_.url);
  manage_workers();
  while (!stopping_ || !workers_.empty()) {
    wait_for_events();
    for (int signal_number : signals.take()) dispatch(signal_number);
    check_deadlines();
    if (!stopping_) manage_workers();
  }
  signals_ = nullptr;
  if (halt_reason_.empty()) {
    error_log()->info("Stopping parent process [{}]", parent_pid_);
  } else {
    error_log()->info("Shutting down: Master");
    error_log()->error("Reason: {}", halt_reason_);
  }
  return exit_code_;
}

// ---- the loop ---------------------------------------------------------------

void Supervisor::wait_for_events() {
  std::vector<pollfd> fds{{signals_->fd(), POLLIN, 0}};
  std::vector<pid_t> owners{0};
  std::optional<Clock::time_point> deadline;
  auto earlier = [&](Clock::time_point t) { deadline = deadline ? std::min(*deadline, t) : t; };
  for (const auto& worker : workers_) {
    if (worker.heartbeat_fd >= 0) {
      fds.push_back({worker.heartbeat_fd, POLLIN, 0});
      owners.push_back(worker.pid);
    }
    if (worker.killed) continue;  // only its exit is awaited
    if (worker.stopping)
      earlier(worker.kill_at);
    else if (worker.booted)
      earlier(worker.last_beat + options_.timeout_worker_healthcheck);
  }
  int timeout = -1;
  if (deadline) {
    auto left = std::chrono::ceil<milliseconds>(*deadline - Clock::now()).count();
    timeout = static_cast<int>(std::max<long long>(0, left));
  }
  if (upgrade_) fds.push_back({upgrade_->notice_fd(), POLLIN, 0});
  if (::poll(fds.data(), fds.size(), timeout) <= 0) return;  // timeout or EINTR
  if (upgrade_ && fds.back().revents != 0) {
    fds.pop_back();
    read_upgrade_notices();
  }
  for (std::size_t i = 1; i < fds.size(); ++i)
    if (fds[i].revents != 0)
      if (Worker* worker = find(owners[i])) read_heartbeats(*worker);
}

void Supervisor::dispatch(int signal_number) {
  if (signal_number != SIGCHLD)
    error_log()->info("Handling signal: {}", lower_signal_name(signal_number));
  switch (signal_number) {
    case SIGTERM: handle_term(); break;
    case SIGINT: handle_int(); break;
    case SIGHUP: handle_hup(); break;
    case SIGUSR2: handle_usr2(); break;
    case SIGTTIN: handle_ttin(); break;
    case SIGTTOU: handle_ttou(); break;
    case SIGCHLD: handle_chld(); break;
    default: break;
  }
}

void Supervisor::handle_term() {
  if (!stopping_) {
    if (options_.on_stopping) options_.on_stopping();
    // A new supervisor not ready yet is part of this one's service: it stops too.
    if (upgrade_) ::kill(upgrade_->pid(), SIGTERM);
    stop_all();
    return;
  }
  // A second TERM or INT: the operator does not want to wait. A second
  // SIGTERM is each server's forced stop (it cancels what is in flight and
  // still runs lifespan shutdown); SIGKILL follows after kill_grace.
  auto now = Clock::now();
  for (auto& worker : workers_) {
    if (worker.killed) continue;
    ::kill(worker.pid, SIGTERM);
    worker.kill_at = std::min(worker.kill_at, now + options_.kill_grace);
  }
}

// INT is a graceful stop too (uvicorn's Ctrl+C), and a second one forces it.
void Supervisor::handle_int() { handle_term(); }

void Supervisor::handle_hup() {
  if (stopping_) return;
  error_log()->info("Hang up: starting new workers, then stopping the old ones");
  // manage_workers() starts a successor for each; each old one is stopped once
  // its successor has booted (on_booted).
  for (auto& worker : workers_)
    if (!worker.stopping) worker.retiring = true;
}

void Supervisor::handle_usr2() {
  if (stopping_) return;
  if (upgrade_) {
    error_log()->warn("An upgrade is already under way: new supervisor (pid:{})", upgrade_->pid());
    return;
  }
  if (options_.upgrade.executable.empty()) {
    error_log()->error("Cannot upgrade: the executable of this process is unknown");
    return;
  }
  error_log()->info("Upgrading: starting a new supervisor from {}", options_.upgrade.executable);
  // Nothing buffered may be written twice, by parent and child.
  flush_logs();
  signals_->block();
  upgrade_ = Upgrade::start(options_.upgrade, listen_fd_, [this] { signals_->detach_in_child({}); });
  signals_->unblock();
  if (upgrade_) error_log()->info("New supervisor (pid:{}) started", upgrade_->pid());
}

void Supervisor::read_upgrade_notices() {
  if (!upgrade_->read_notices()) return;
  pid_t pid = upgrade_->pid();
  upgrade_.reset();
  error_log()->info("New supervisor (pid:{}) is ready: stopping this one", pid);
  handed_over_ = true;
  if (options_.on_upgraded) options_.on_upgraded(pid);
  stop_all();
}

bool Supervisor::reaped_upgrade(pid_t pid, int status) {
  if (!upgrade_ || upgrade_->pid() != pid) return false;
  upgrade_.reset();
  if (WIFSIGNALED(status))
    error_log()->error("Upgrade failed: the new supervisor (pid:{}) was sent {}; serving on", pid,
                       signal_name(WTERMSIG(status)));
  else
    error_log()->error("Upgrade failed: the new supervisor (pid:{}) exited with code {}; serving on",
                       pid, WEXITSTATUS(status));
  return true;
}

void Supervisor::handle_ttin() {
  if (stopping_) return;
  ++wanted_;
  error_log()->info("Number of workers: {}", wanted_);
}

void Supervisor::handle_ttou() {
  if (stopping_) return;
  if (wanted_ <= 1) {
    error_log()->info("Number of workers stays at 1: never fewer");
    return;
  }
  --wanted_;
  error_log()->info("Number of workers: {}", wanted_);
}

void Supervisor::handle_chld() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (!reaped_upgrade(pid, status)) reaped(pid, status);
  }
}

// ---- workers ----------------------------------------------------------------

std::size_t Supervisor::live_workers() const {
  return static_cast<std::size_t>(std::count_if(
      workers_.begin(), workers_.end(), [](const Worker& w) { return !w.stopping && !w.retiring; }));
}

Supervisor::Worker* Supervisor::find(pid_t pid) {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [pid](const Worker& w) { return w.pid == pid; });
  return it == workers_.end() ? nullptr : &*it;
}

void Supervisor::manage_workers() {
  while (live_workers() < wanted_)
    if (!spawn_worker()) break;  // fork failed (logged); try again on the next turn
  while (live_workers() > wanted_) {
    Worker* oldest = nullptr;
    for (auto& worker : workers_)
      if (!worker.stopping && !worker.retiring && (!oldest || worker.age < oldest->age))
        oldest = &worker;
    stop_worker(*oldest);
  }
  // A retiring worker no successor was started for (TTOU after HUP): the live
  // ones already cover the wanted count.
  for (auto& worker : workers_)
    if (worker.retiring && worker.successor == 0 && !worker.stopping) stop_worker(worker);
}

std::optional<std::size_t> Supervisor::max_requests_for_next_worker() {
  if (!options_.limit_max_requests) return std::nullopt;
  if (options_.limit_max_requests_jitter == 0) return options_.limit_max_requests;
  // Different limits per worker keep them from all restarting at once.
  static std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> jitter(0, options_.limit_max_requests_jitter);
  return *options_.limit_max_requests + jitter(random);
}

bool Supervisor::spawn_worker() {
  int channel[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
    error_log()->error("Cannot create a heartbeat channel: {}", std::strerror(errno));
    return false;
  }
  ::fcntl(channel[0], F_SETFL, ::fcntl(channel[0], F_GETFL) | O_NONBLOCK);
  std::size_t age = next_age_++;
  auto max_requests = max_requests_for_next_worker();

  // Nothing buffered may be written twice, by parent and child.
  flush_logs();
  signals_->block();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(channel[0]);
    run_worker(channel[1], age, max_requests);
  }
  signals_->unblock();
  ::close(channel[1]);
  if (pid < 0) {
    error_log()->error("Cannot fork a worker: {}", std::strerror(errno));
    ::close(channel[0]);
    return false;
  }

  Worker worker;
  worker.pid = pid;
  worker.heartbeat_fd = channel[0];
  worker.age = age;
  // Succeed the oldest retiring worker still waiting for a successor.
  Worker* retiring = nullptr;
  for (auto& other : workers_)
    if (other.retiring && other.successor == 0 && !other.stopping &&
        (!retiring || other.age < retiring->age))
      retiring = &other;
  if (retiring) {
    retiring->successor = pid;
    worker.predecessor = retiring->pid;
  }
  workers_.push_back(worker);
  return true;
}

void Supervisor::run_worker(int heartbeat_fd, std::size_t age,
                            std::optional<std::size_t> max_requests) {
  // Signals meant for the supervisor must not reach a worker's handlers: HUP,
  // USR2, TTIN and TTOU sent to the whole process group are ignored here.
  signals_->detach_in_child({SIGHUP, SIGUSR2, SIGTTIN, SIGTTOU});
  // A process group of its own: Ctrl+C in a terminal signals the foreground
  // group, and a worker that got SIGINT from the terminal and SIGTERM from
  // the supervisor would take the second signal as "force the stop".
  ::setpgid(0, 0);
  for (const auto& worker : workers_)
    if (worker.heartbeat_fd >= 0) ::close(worker.heartbeat_fd);
  // A worker whose supervisor dies (even by SIGKILL) stops gracefully rather
  // than serving on unwatched.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent_pid_) ::_exit(worker_exit::failure);
  // Logged here rather than by the parent, so it comes before the worker's own lines.
  error_log()->info("Booting worker with pid: {}", ::getpid());

  WorkerSetup setup;
  setup.listen_fd = listen_fd_;
  setup.heartbeat_fd = heartbeat_fd;
  setup.heartbeat_interval = heartbeat_interval_;
  setup.max_requests = max_requests;
  setup.age = age;
  setup.load_board = &load_board_;
  int code = worker_exit::failure;
  try {
    code = target_(setup);
  } catch (const std::exception& e) {
    error_log()->error("Exception in worker process: {}", e.what());
  } catch (...) {
    error_log()->error("Exception in worker process");
  }
  flush_logs();
  // _exit: the parent's atexit handlers and static destructors are not ours to run.
  ::_exit(code);
}

void Supervisor::read_heartbeats(Worker& worker) {
  unsigned char buffer[64];
  for (;;) {
    auto n = ::recv(worker.heartbeat_fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      // The worker closed its end: it is exiting, and reaping follows.
      ::close(worker.heartbeat_fd);
      worker.heartbeat_fd = -1;
      return;
    }
    worker.last_beat = Clock::now();
    if (!worker.booted) on_booted(worker);
    if (std::find(buffer, buffer + n, heartbeat_retire) != buffer + n) retire(worker);
  }
}

void Supervisor::on_booted(Worker& worker) {
  worker.booted = true;
  error_log()->debug("Worker (pid:{}) booted", worker.pid);
  auto booted = std::count_if(workers_.begin(), workers_.end(), [](const Worker& w) { return w.booted; });
  if (!ready_ && static_cast<std::size_t>(booted) >= options_.workers) {
    ready_ = true;
    if (options_.on_ready) options_.on_ready();
  }
  if (worker.predecessor == 0) return;
  Worker* old = find(worker.predecessor);
  worker.predecessor = 0;
  if (!old || old->stopping) return;
  error_log()->info("Stopping worker (pid:{}), replaced by worker (pid:{})", old->pid, worker.pid);
  stop_worker(*old);
}

void Supervisor::retire(Worker& worker) {
  if (stopping_ || worker.stopping || worker.retiring) return;
  error_log()->info("Worker (pid:{}) reached its request limit: replacing it", worker.pid);
  worker.retiring = true;  // manage_workers() starts its successor
}

void Supervisor::reaped(pid_t pid, int status) {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [pid](const Worker& w) { return w.pid == pid; });
  if (it == workers_.end()) return;  // not a worker of ours
  load_board_.release(pid);
  Worker worker = *it;
  workers_.erase(it);
  if (worker.heartbeat_fd >= 0) ::close(worker.heartbeat_fd);
  if (Worker* successor = find(worker.successor)) successor->predecessor = 0;
  // A successor that died before booting leaves its predecessor retiring and
  // waiting: manage_workers() starts another successor for it.
  if (Worker* predecessor = find(worker.predecessor)) predecessor->successor = 0;

  if (WIFSIGNALED(status)) {
    int signal_number = WTERMSIG(status);
    std::string message =
        fmt::format("Worker (pid:{}) was sent {}!", pid, signal_name(signal_number));
    if (signal_number == SIGKILL && !worker.killed) message += " Perhaps out of memory?";
    if (worker.stopping)
      error_log()->info("{}", message);
    else
      error_log()->error("{}", message);
    return;
  }
  int code = WEXITSTATUS(status);
  if (code == 0) {
    if (worker.stopping)
      error_log()->info("Worker (pid:{}) stopped", pid);
    else
      error_log()->warn("Worker (pid:{}) exited with code 0", pid);
    return;
  }
  error_log()->error("Worker (pid:{}) exited with code {}", pid, code);
  if (!worker.booted && !worker.stopping) {
    // Replacing it would fail the same way, again and again.
    halt(code == worker_exit::app_load_failed ? "App failed to load." : "Worker failed to boot.",
         code);
  }
}

void Supervisor::check_deadlines() {
  auto now = Clock::now();
  for (auto& worker : workers_) {
    if (worker.killed) continue;
    if (worker.stopping) {
      if (now >= worker.kill_at) kill_worker(worker, "did not stop in time");
    } else if (worker.booted && now - worker.last_beat >= options_.timeout_worker_healthcheck) {
      error_log()->critical("WORKER TIMEOUT (pid:{}): no heartbeat from its event loop for {:.1f} s",
                            worker.pid, seconds(options_.timeout_worker_healthcheck));
      kill_worker(worker, "unresponsive");
    }
  }
}

void Supervisor::stop_all() {
  stopping_ = true;
  for (auto& worker : workers_)
    if (!worker.stopping) stop_worker(worker);
}

void Supervisor::stop_worker(Worker& worker) {
  ::kill(worker.pid, SIGTERM);
  worker.stopping = true;
  worker.kill_at = Clock::now() + options_.timeout_graceful_shutdown + options_.kill_grace;
}

void Supervisor::kill_worker(Worker& worker, const char* why) {
  error_log()->warn("Killing worker (pid:{}): {}", worker.pid, why);
  ::kill(worker.pid, SIGKILL);
  worker.stopping = true;
  worker.killed = true;
}

void Supervisor::halt(std::string reason, int exit_code) {
  if (!halt_reason_.empty()) return;  // the first reason is the one reported
  halt_reason_ = std::move(reason);
  exit_code_ = exit_code;
  stop_all();
}

}  // namespace csgi::servers
