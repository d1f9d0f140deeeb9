// Restarts and upgrades under keep-alive load lose no request: HUP, TERM to
// one worker, and USR2 (a new supervisor from the executable on disk), each
// while clients request in a loop over kept-alive connections, end to end
// with the real `csgi` executable. (bench/zero_downtime.sh is the same at full
// speed with wrk.)
#include <algorithm>
#include <atomic>
#include <csignal>
#include <regex>
#include <thread>
#include <vector>

#include <sys/prctl.h>

#include <gtest/gtest.h>

#include "csgi_process.hpp"
#include "harness.hpp"
#include "tests/apps/plugins/plugin_file.hpp"

namespace csgi::servers::testing {
namespace {

// Clients that each keep one connection alive and request on it in a loop,
// opening a new one when the server says Connection: close. A request that
// gets no answer (the connection was closed or reset under it) or not a 200,
// and a connection that is refused, count as failed.
class KeepAliveLoad {
 public:
  KeepAliveLoad(std::uint16_t port, int clients) {
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this, port] { run(port); });
  }
  ~KeepAliveLoad() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& thread : threads_)
      if (thread.joinable()) thread.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  int closes() const { return closes_; }
  // The worker that answered the latest request (a worker with connections).
  pid_t last_worker() const { return last_worker_; }
  // Waits until `n` more requests were answered.
  bool flows(int n) {
    int target = ok_ + n;
    return eventually([&] { return ok_ >= target; }, milliseconds(5000));
  }

 private:
  void run(std::uint16_t port) {
    while (!stop_) {
      HttpConnection connection(port);
      if (!connection.connected()) {
        ++failed_;
        continue;
      }
      while (!stop_) {
        auto reply = connection.get("/");
        if (!reply || reply->status != 200) {
          ++failed_;
          break;
        }
        ++ok_;
        last_worker_ = reply->worker;
        if (reply->close) {
          ++closes_;
          break;
        }
      }
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0}, closes_{0};
  std::atomic<pid_t> last_worker_{0};
  std::vector<std::thread> threads_;
};

class ZeroDowntimeTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::vector<std::string> args() const {
    // whoami names the worker that answers in x-worker-pid.
    return {std::string(CSGI_SUPERVISOR_APPS) + ":whoami", "--workers", "2", "--server", GetParam(),
            "--no-access-log"};
  }
};

void wait_booted(CsgiProcess& csgi, std::size_t n) {
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  ASSERT_TRUE(csgi.wait_for_log("Application startup complete", n)) << csgi.log();
  ASSERT_TRUE(eventually([&] { return csgi.workers().size() == n; })) << csgi.log();
}

// The pid a log line "New supervisor (pid:N) is ready" names; 0 if none.
pid_t new_supervisor(const std::string& log) {
  static const std::regex ready(R"(New supervisor \(pid:(\d+)\) is ready)");
  std::smatch match;
  return std::regex_search(log, match, ready) ? static_cast<pid_t>(std::stoi(match[1])) : 0;
}

TEST_P(ZeroDowntimeTest, HupUnderKeepAliveLoadLosesNoRequest) {
  CsgiProcess csgi(args());
  wait_booted(csgi, 2);
  KeepAliveLoad load(csgi.port(), 8);
  ASSERT_TRUE(load.flows(200)) << csgi.log();
  csgi.signal(SIGHUP);
  ASSERT_TRUE(csgi.wait_for_log(") stopped", 2, milliseconds(10000))) << csgi.log();
  ASSERT_TRUE(load.flows(200)) << csgi.log();
  load.stop();
  EXPECT_EQ(load.failed(), 0) << csgi.log();
  // The old workers ended their connections with Connection: close.
  EXPECT_GE(load.closes(), 1);
}

TEST_P(ZeroDowntimeTest, TermToOneWorkerUnderKeepAliveLoadLosesNoRequest) {
  CsgiProcess csgi(args());
  wait_booted(csgi, 2);
  KeepAliveLoad load(csgi.port(), 8);
  ASSERT_TRUE(load.flows(200)) << csgi.log();
  pid_t worker = load.last_worker();
  ASSERT_NE(worker, 0);
  ::kill(worker, SIGTERM);
  ASSERT_TRUE(csgi.wait_for_log("Worker (pid:" + std::to_string(worker) + ") exited", 1,
                                milliseconds(10000)))
      << csgi.log();
  ASSERT_TRUE(load.flows(200)) << csgi.log();
  load.stop();
  EXPECT_EQ(load.failed(), 0) << csgi.log();
  EXPECT_GE(load.closes(), 1);
}

TEST_P(ZeroDowntimeTest, Usr2UnderKeepAliveLoadHandsOverToANewSupervisorAndLosesNoRequest) {
  // The new supervisor is a child of the old one: once the old one exits it
  // becomes this process's, to be waited for.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  CsgiProcess csgi(args());
  wait_booted(csgi, 2);
  auto old_workers = csgi.workers();
  KeepAliveLoad load(csgi.port(), 8);
  ASSERT_TRUE(load.flows(200)) << csgi.log();
  csgi.signal(SIGUSR2);
  ASSERT_TRUE(csgi.wait_for_log("is ready: stopping this one", 1, milliseconds(10000))) << csgi.log();
  pid_t successor = new_supervisor(csgi.log());
  ASSERT_NE(successor, 0) << csgi.log();
  AdoptedProcess new_supervisor_process;
  new_supervisor_process.adopt(successor);
  EXPECT_EQ(csgi.wait_exit(milliseconds(10000)), 0) << csgi.log();
  ASSERT_TRUE(load.flows(200)) << csgi.log();
  load.stop();
  EXPECT_EQ(load.failed(), 0) << csgi.log();
  EXPECT_GE(load.closes(), 1);
  // The new supervisor's own workers serve now.
  auto new_workers = children_of(successor);
  EXPECT_EQ(new_workers.size(), 2u);
  for (pid_t pid : old_workers) EXPECT_EQ(std::count(new_workers.begin(), new_workers.end(), pid), 0);
  EXPECT_EQ(new_supervisor_process.stop(), 0) << csgi.log();
}

INSTANTIATE_TEST_SUITE_P(ServerKinds, ZeroDowntimeTest, ::testing::Values("loop", "threaded"));

TEST(UpgradeTest, NewSupervisorThatCannotLoadTheAppLeavesTheOldOneServing) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  csgi::testing::PluginFile file(CSGI_ANSWER_ONE);
  CsgiProcess csgi({file.path(), "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  file.install(CSGI_ANSWER_BROKEN);  // what the new supervisor will find
  csgi.signal(SIGUSR2);
  ASSERT_TRUE(csgi.wait_for_log("Upgrade failed", 1, milliseconds(10000))) << csgi.log();
  auto reply = get_once(csgi.port(), "/");
  ASSERT_TRUE(reply.has_value()) << csgi.log();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "one");
  EXPECT_EQ(csgi.workers().size(), 2u);
}

}  // namespace
}  // namespace csgi::servers::testing
