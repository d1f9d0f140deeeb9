#include "tests/conformance/forked_supervisor.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <new>

#include "servers/supervisor/supervisor.hpp"
#include "tests/conformance/raw_client.hpp"

namespace csgi::conformance {

namespace {

bool exited(pid_t child) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == child;
}

}  // namespace

ForkedSupervisor::ForkedSupervisor(const servers::Config& config, const Application& app,
                                   servers::Listener listener)
    : config_(config), app_(app), listener_(std::move(listener)) {
  config_.workers = 2;
  config_.server = servers::ServerKind::loop;
  config_.fd = listener_.fd();
  config_.log_level = "warning";
}

int ForkedSupervisor::run(const servers::RunOptions& options) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(servers::run_supervisor(config_, app_));
  child_.store(child);
  if (stop_requests_.load() > 0) ::kill(child, SIGTERM);
  bool serving = wait_serving(child);
  if (options.on_started) options.on_started(serving);
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ForkedSupervisor::stop() {
  stop_requests_.fetch_add(1);
  if (pid_t child = child_.load(); child > 0) ::kill(child, SIGTERM);
}

bool ForkedSupervisor::wait_serving(pid_t child) {
  std::uint16_t port = listener_.local_endpoint().port;
  for (;;) {
    if (exited(child)) return false;
    try {
      RawClient client(port, std::chrono::milliseconds(200));
      client.send_request("GET", "/hello", "Connection: close\r\n");
      if (client.read_response().status == 200) return true;
    } catch (const std::exception&) {
      // Not answered yet: the workers are still booting.
    }
  }
}

std::shared_ptr<Probe> shared_probe() {
  void* memory = ::mmap(nullptr, sizeof(Probe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  return std::shared_ptr<Probe>(new (memory) Probe, [](Probe* probe) {
    probe->~Probe();
    ::munmap(probe, sizeof(Probe));
  });
}

}  // namespace csgi::conformance
