// The multi-worker server: a supervisor process that forks N workers on one
// listening socket it bound before forking, and watches them (gunicorn's
// arbiter, uvicorn's --workers).
//
// The supervisor is generic: it knows a listening descriptor and a worker
// target (a function that runs one worker to completion and returns its exit
// code), not what a worker serves. run_supervisor() plugs in the real servers.
//
// What it does, all from one loop in the parent process:
//  - keeps `workers` workers running, replacing one that dies and logging which
//    (pid) with its exit code or signal;
//  - stops instead of fork-looping when a worker exits non-zero before it has
//    booted (its first heartbeat): the app failed to load or lifespan startup
//    failed. run() then returns that worker's exit code;
//  - kills (SIGKILL) and replaces a worker whose loop (the loop server's event
//    loop, the threaded server's acceptor) has not beaten for
//    `timeout_worker_healthcheck`. The check starts at the first beat: booting
//    (building the app, lifespan startup) takes as long as it takes, as it does
//    for a single server, rather than getting the worker killed and forked again
//    for ever;
//  - TERM, INT: graceful stop. Every worker gets SIGTERM and
//    `timeout_graceful_shutdown` (plus `kill_grace` for its own cancellation)
//    before SIGKILL; a second TERM or INT sends a second SIGTERM (a server's
//    forced stop) and SIGKILL after `kill_grace`. Workers run in their own
//    process group, so a terminal's Ctrl+C reaches the supervisor only, and
//    the supervisor alone decides what each worker is sent;
//  - HUP: rolling restart. A new worker is started for each running one, and
//    each old worker is stopped only once its successor has booted, so capacity
//    never dips. (Workers are forked from the parent; an app that loads its
//    code when a worker first asks for it, as a plugin does (apps/reload.hpp),
//    runs the code on disk in the new workers.)
//  - USR2: upgrade. A new supervisor is started from the executable on disk
//    and handed the listening socket (servers/supervisor/upgrade.hpp); once
//    its workers have booted, this one stops its own workers gracefully and
//    exits. Until then it serves on, and a new supervisor that exits instead
//    leaves it serving;
//  - TTIN, TTOU: one worker more, one fewer (never fewer than one);
//  - a worker that reaches its request limit is retired the way HUP retires
//    one: successor first.
//
// Signal handlers only enqueue (servers/supervisor/signal_queue.hpp); the loop
// dispatches to handle_term, handle_int, handle_hup, handle_usr2, handle_ttin,
// handle_ttou and handle_chld. The parent never creates an event loop, so a worker starts
// from a process with no io_context state to share.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "servers/supervisor/exit_codes.hpp"
#include "servers/supervisor/load_board.hpp"
#include "servers/supervisor/upgrade.hpp"

namespace csgi {
struct Application;
}

namespace csgi::servers {

struct Config;
class SignalQueue;

// What a worker process is handed.
struct WorkerSetup {
  int listen_fd = -1;     // the shared listening socket (inherited; do not close it early)
  int heartbeat_fd = -1;  // this worker's end of its heartbeat channel (worker.hpp)
  std::chrono::milliseconds heartbeat_interval{1000};
  std::optional<std::size_t> max_requests;  // the limit with this worker's jitter added
  std::size_t age = 0;                      // 1 for the first worker forked, then 2, 3...
  LoadBoard* load_board = nullptr;          // shared by the workers (load_board.hpp)
};

// Runs one worker to completion in the forked child and returns its exit code
// (worker_exit, servers/supervisor/exit_codes.hpp). An exception escaping it is logged and exits with `failure`.
using WorkerTarget = std::function<int(const WorkerSetup& setup)>;

struct SupervisorOptions {
  // Where the socket listens: logged once, as "csgi running on URL", after the
  // parent process has started (workers do not log it). Empty: not logged.
  std::string url;
  std::size_t workers = 1;
  std::chrono::milliseconds timeout_graceful_shutdown{30000};
  std::chrono::milliseconds timeout_worker_healthcheck{30000};
  // Beyond timeout_graceful_shutdown, how long a stopping worker has to cancel
  // what remains and exit on its own before it is killed.
  std::chrono::milliseconds kill_grace{1000};
  std::optional<std::size_t> limit_max_requests;
  std::size_t limit_max_requests_jitter = 0;
  // Called in the supervisor once as many workers as `workers` have booted
  // (their lifespan startup is over), and once when a TERM or INT begins the
  // stop: systemd's READY=1 and STOPPING=1. Must not block.
  std::function<void()> on_ready;
  std::function<void()> on_stopping;
  // What USR2 starts; an empty `executable` refuses USR2 (logged).
  UpgradeCommand upgrade;
  // Called in this supervisor once the new one USR2 started is ready, before
  // this one stops its workers (systemd's MAINPID=). Must not block.
  std::function<void(pid_t new_supervisor)> on_upgraded;
};

// How often a worker beats for a given health-check timeout: five beats per
// timeout, between 10 ms and 1 s apart.
std::chrono::milliseconds heartbeat_interval_for(std::chrono::milliseconds healthcheck_timeout);

class Supervisor {
 public:
  // `listen_fd` stays open in the supervisor (new workers inherit it) and is
  // not closed by it.
  Supervisor(SupervisorOptions options, int listen_fd, WorkerTarget target);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Forks the workers and supervises them until stopped by TERM or INT, or by
  // a worker that failed to boot. Installs its signal handlers for the
  // duration. Returns 0 after a requested stop, else the failed worker's exit
  // code. Call once, from a process's main thread, with no other thread
  // running (fork).
  int run();

  // After run(): true when run() ended because a new supervisor took the
  // listening socket over (USR2). The caller must then leave the socket (and
  // its file) to it.
  bool handed_over() const { return handed_over_; }

 private:
  struct Worker {
    pid_t pid = 0;
    int heartbeat_fd = -1;  // the supervisor's end; -1 once the worker closed its end
    std::size_t age = 0;
    std::chrono::steady_clock::time_point last_beat;  // health-checked once booted
    bool booted = false;
    bool retiring = false;     // to be stopped once `successor` has booted
    pid_t successor = 0;
    pid_t predecessor = 0;     // the retiring worker this one replaces
    bool stopping = false;     // sent SIGTERM (or SIGKILL): its exit is expected
    bool killed = false;       // sent SIGKILL
    std::chrono::steady_clock::time_point kill_at;
  };
  using Clock = std::chrono::steady_clock;

  void wait_for_events();
  void dispatch(int signal_number);
  void handle_term();
  void handle_int();
  void handle_hup();
  void handle_usr2();
  void handle_ttin();
  void handle_ttou();
  void handle_chld();
  // The new supervisor of an upgrade sent a notice; or it exited.
  void read_upgrade_notices();
  bool reaped_upgrade(pid_t pid, int status);

  void manage_workers();
  bool spawn_worker();
  [[noreturn]] void run_worker(int heartbeat_fd, std::size_t age,
                               std::optional<std::size_t> max_requests);
  void read_heartbeats(Worker& worker);
  void on_booted(Worker& worker);
  void retire(Worker& worker);
  void reaped(pid_t pid, int status);
  void check_deadlines();
  void stop_all();
  void stop_worker(Worker& worker);
  void kill_worker(Worker& worker, const char* why);
  void halt(std::string reason, int exit_code);
  std::size_t live_workers() const;
  Worker* find(pid_t pid);
  std::optional<std::size_t> max_requests_for_next_worker();

  SupervisorOptions options_;
  int listen_fd_;
  WorkerTarget target_;
  std::chrono::milliseconds heartbeat_interval_;
  std::size_t wanted_;
  std::vector<Worker> workers_;
  LoadBoard load_board_;  // mapped before the first fork; a reaped worker's slot is freed
  std::size_t next_age_ = 1;
  pid_t parent_pid_ = 0;
  SignalQueue* signals_ = nullptr;
  bool stopping_ = false;
  bool ready_ = false;  // on_ready was called
  std::optional<Upgrade> upgrade_;  // a new supervisor started by USR2, not ready yet
  bool handed_over_ = false;
  int exit_code_ = 0;
  std::string halt_reason_;
};

// The multi-worker form of serve(): binds the socket `config` names (or adopts
// `config.fd`), logs where it listens, and supervises `config.workers` workers,
// each running serve() on the inherited socket with `workers = 1`, the
// heartbeat channel and its request limit set in its Config. servers::serve()
// calls this when `config.workers > 1 || config.supervise`. Returns the exit
// code (0, or the exit code of a worker that failed to boot; 1 when the socket
// cannot be bound).
int run_supervisor(const Config& config, const Application& app);

}  // namespace csgi::servers
