// The supervisor as a conformance server kind: `--workers 2` over loop
// workers, as the csgi executable runs it, behind the servers::Server
// interface the fixture starts every kind through.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>

#include "servers/server.hpp"
#include "tests/conformance/test_apps.hpp"

namespace csgi::conformance {

// run() forks a child that runs the supervisor (which forks the workers) on
// the socket bound here, and reports it serving once a request through the
// socket is answered; stop() sends the child TERM, as a user would. The child
// is forked from the test's server thread, so it holds that one thread only,
// as the supervisor requires.
class ForkedSupervisor final : public servers::Server {
 public:
  ForkedSupervisor(const servers::Config& config, const Application& app, servers::Listener listener);

  int run(const servers::RunOptions& options) override;
  void stop() override;

 private:
  // Serving once a worker answers; not serving once the supervisor has
  // exited (a worker failed to boot).
  bool wait_serving(pid_t child);

  servers::Config config_;
  Application app_;
  servers::Listener listener_;
  std::atomic<pid_t> child_{0};
  std::atomic<int> stop_requests_{0};
};

// A Probe in memory shared with forked workers, so that what the app reports
// in a worker process is seen by the test.
std::shared_ptr<Probe> shared_probe();

}  // namespace csgi::conformance
