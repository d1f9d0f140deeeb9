// `csgi serve --workers N` end to end: the real executable, real sockets, the
// `hello` app and the test apps of plugins/supervisor_apps.cpp, with small
// timeouts.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "csgi_process.hpp"
#include "harness.hpp"
#include "tests/servers/accept_queue.hpp"

namespace csgi::servers::testing {
namespace {

std::string test_app(const std::string& name) {
  return std::string(CSGI_SUPERVISOR_APPS) + ":" + name;
}

bool has(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// Keeps requesting on fresh connections from `threads` threads until stopped;
// counts what was answered 200 and what was not.
class SteadyLoad {
 public:
  SteadyLoad(std::uint16_t port, std::string target, int threads) {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this, port, target] {
        while (!stop_) {
          auto reply = get_once(port, target);
          (reply && reply->status == 200 ? ok_ : failed_)++;
        }
      });
  }
  ~SteadyLoad() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& thread : threads_)
      if (thread.joinable()) thread.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::vector<std::thread> threads_;
};

// Waits until `csgi` runs `n` workers that have all booted.
void wait_booted(CsgiProcess& csgi, std::size_t n) {
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  ASSERT_TRUE(csgi.wait_for_log("Application startup complete", n)) << csgi.log();
  ASSERT_TRUE(eventually([&] { return csgi.workers().size() == n; })) << csgi.log();
}

TEST(ServeWorkersTest, KilledWorkerIsReplacedWithinOneSecondWhileTheOthersKeepServing) {
  CsgiProcess csgi({test_app("whoami"), "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  auto port = csgi.port();
  pid_t victim = csgi.workers()[0];

  // A keep-alive connection served by the other worker.
  std::unique_ptr<HttpConnection> survivor;
  ASSERT_TRUE(eventually([&] {
    auto connection = std::make_unique<HttpConnection>(port);
    auto reply = connection->get("/");
    if (!reply || reply->worker == victim) return false;
    survivor = std::move(connection);
    return true;
  })) << "no connection landed on the second worker";

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::thread client([&] {
    while (!stop) {
      auto reply = survivor->get("/");
      (reply && reply->status == 200 ? answered : failed)++;
    }
  });
  ASSERT_TRUE(eventually([&] { return answered > 10; })) << "the load is flowing";
  auto killed_at = std::chrono::steady_clock::now();
  ::kill(victim, SIGKILL);
  bool replaced = eventually(
      [&] {
        auto now = csgi.workers();
        return now.size() == 2 && !has(now, victim);
      },
      milliseconds(1000));
  auto took = std::chrono::steady_clock::now() - killed_at;
  int before = answered;
  EXPECT_TRUE(eventually([&] { return answered > before + 10; })) << "served after the kill";
  stop = true;
  client.join();

  EXPECT_TRUE(replaced) << csgi.log();
  EXPECT_LT(took, milliseconds(1000));
  EXPECT_EQ(failed, 0);
  EXPECT_GT(answered, 10);
  EXPECT_TRUE(csgi.wait_for_log("Worker (pid:" + std::to_string(victim) + ") was sent SIGKILL!"))
      << csgi.log();
  // New connections are served too, by the survivor or the replacement.
  for (int i = 0; i < 20; ++i) {
    auto reply = get_once(port, "/");
    ASSERT_TRUE(reply && reply->status == 200);
  }
}

// Sends `n` requests for `target` at once, each on its own connection, calls
// `then` once all are sent and the workers have accepted every connection, and
// returns how many were answered 200.
template <class Then>
int answered_while(std::uint16_t port, int n, const std::string& target, Then then) {
  std::atomic<int> sent{0}, answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i)
    clients.emplace_back([&] {
      HttpConnection connection(port, milliseconds(5000));
      if (!connection.send_get(target, false)) return;
      ++sent;
      auto reply = connection.read_reply();
      if (reply && reply->status == 200) ++answered;
    });
  eventually([&] { return sent == n; });
  eventually([&] { return accept_queue_length(port) == 0; });
  then();
  for (auto& client : clients) client.join();
  return answered;
}

TEST(ServeWorkersTest, TermWhileSixtyOneSecondRequestsAreInFlightAnswersThemAllThenExits) {
  CsgiProcess csgi({"hello", "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  auto term_at = std::chrono::steady_clock::now();
  int answered = answered_while(csgi.port(), 60, "/?delay_ms=1000", [&] {
    term_at = std::chrono::steady_clock::now();
    csgi.signal(SIGTERM);
  });

  EXPECT_EQ(answered, 60) << csgi.log();
  EXPECT_EQ(csgi.wait_exit(), 0) << csgi.log();
  EXPECT_LT(std::chrono::steady_clock::now() - term_at, milliseconds(2500));
  EXPECT_EQ(csgi.count_in_log("Stopping parent process"), 1u) << csgi.log();
}

TEST(ServeWorkersTest, CtrlCToTheProcessGroupStopsGracefullyToo) {
  CsgiProcess csgi({"hello", "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  // Only the supervisor is in the group: its workers get one SIGTERM from it,
  // not SIGINT as well, which they would take as a forced stop.
  int answered = answered_while(csgi.port(), 10, "/?delay_ms=600",
                                [&] { csgi.signal_group(SIGINT); });
  EXPECT_EQ(answered, 10) << csgi.log();
  EXPECT_EQ(csgi.wait_exit(), 0) << csgi.log();
}

TEST(ServeWorkersTest, ThreadedWorkersBeatServeAndStop) {
  CsgiProcess csgi({"hello-sync", "--server", "threaded", "--workers", "2", "--no-access-log",
                    "--timeout-worker-healthcheck", "0.3"});
  wait_booted(csgi, 2);
  auto before = csgi.workers();
  ::usleep(700'000);  // beyond the health-check timeout: the beats keep them
  EXPECT_EQ(csgi.workers(), before) << csgi.log();
  auto reply = get_once(csgi.port(), "/");
  EXPECT_TRUE(reply && reply->status == 200);
  csgi.signal(SIGTERM);
  EXPECT_EQ(csgi.wait_exit(), 0) << csgi.log();
}

TEST(ServeWorkersTest, HupUnderSteadyLoadReplacesEveryWorkerWithoutAFailedRequest) {
  CsgiProcess csgi({"hello", "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  auto old = csgi.workers();

  SteadyLoad load(csgi.port(), "/", 4);
  ASSERT_TRUE(eventually([&] { return load.ok() > 20; })) << "the load is flowing";
  csgi.signal(SIGHUP);
  ASSERT_TRUE(csgi.wait_for_log(") stopped", 2)) << csgi.log();
  int before = load.ok();
  EXPECT_TRUE(eventually([&] { return load.ok() > before + 20; })) << "served by the new workers";
  load.stop();

  EXPECT_EQ(load.failed(), 0) << csgi.log();
  EXPECT_GT(load.ok(), 50);
  auto now = csgi.workers();
  EXPECT_EQ(now.size(), 2u);
  for (pid_t pid : old) EXPECT_FALSE(has(now, pid));
}

TEST(ServeWorkersTest, TtinAndTtouChangeTheWorkerCount) {
  CsgiProcess csgi({"hello", "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);

  csgi.signal(SIGTTIN);
  EXPECT_TRUE(eventually([&] { return csgi.workers().size() == 3; })) << csgi.log();
  csgi.signal(SIGTTOU);
  EXPECT_TRUE(eventually([&] { return csgi.workers().size() == 2; })) << csgi.log();
  csgi.signal(SIGTTOU);
  EXPECT_TRUE(eventually([&] { return csgi.workers().size() == 1; })) << csgi.log();
  csgi.signal(SIGTTOU);  // never fewer than one
  EXPECT_TRUE(csgi.wait_for_log("Number of workers stays at 1")) << csgi.log();
  EXPECT_EQ(csgi.workers().size(), 1u);
  auto reply = get_once(csgi.port(), "/");
  EXPECT_TRUE(reply && reply->status == 200);
}

TEST(ServeWorkersTest, WorkerWithABlockedLoopIsReplacedAfterTheHealthcheckTimeout) {
  CsgiProcess csgi({test_app("whoami"), "--workers", "2", "--no-access-log",
                    "--timeout-worker-healthcheck", "0.5"});
  wait_booted(csgi, 2);
  auto before = csgi.workers();

  HttpConnection blocker(csgi.port());
  ASSERT_TRUE(blocker.send_get("/block", false));
  auto sent_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      [&] {
        auto now = csgi.workers();
        return now.size() == 2 && (!has(now, before[0]) || !has(now, before[1]));
      },
      milliseconds(2000)))
      << csgi.log();
  auto took = std::chrono::steady_clock::now() - sent_at;
  EXPECT_GE(took, milliseconds(400));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(csgi.count_in_log("WORKER TIMEOUT"), 1u) << csgi.log();
  EXPECT_FALSE(blocker.read_reply());  // its worker was killed under it
  auto reply = get_once(csgi.port(), "/");
  EXPECT_TRUE(reply && reply->status == 200);
}

TEST(ServeWorkersTest, FailedLifespanStartupStopsTheSupervisorWithTheAppsMessage) {
  CsgiProcess csgi({test_app("failing_startup"), "--workers", "2", "--lifespan", "on"});
  EXPECT_EQ(csgi.wait_exit(), 3) << csgi.log();
  EXPECT_NE(csgi.log().find("the database is unreachable"), std::string::npos) << csgi.log();
  EXPECT_NE(csgi.log().find("Reason: Worker failed to boot."), std::string::npos) << csgi.log();
  EXPECT_LE(csgi.count_in_log("Booting worker"), 2u) << csgi.log();  // no fork loop
}

// The request limit on each server kind (`--server loop|threaded`).
class RequestLimitTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RequestLimitTest, RecyclesWorkersWithoutDroppingARequest) {
  CsgiProcess csgi({test_app("whoami"), "--server", GetParam(), "--workers", "1", "--supervise",
                    "--no-access-log", "--limit-max-requests", "10",
                    "--limit-max-requests-jitter", "3"});
  wait_booted(csgi, 1);
  std::set<pid_t> served_by;
  // Each worker serves 10 to 13, and more while its successor boots: how many
  // more depends on how fast requests go compared to a boot, so the loop runs
  // until a third worker answers (or a bound far above any boot passes).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; served_by.size() < 3 && std::chrono::steady_clock::now() < give_up; ++i) {
    auto reply = get_once(csgi.port(), "/");
    ASSERT_TRUE(reply && reply->status == 200) << "request " << i << "\n" << csgi.log();
    served_by.insert(reply->worker);
  }
  EXPECT_GE(served_by.size(), 3u) << csgi.log();
  // The supervisor's lines reach the log through a pipe: wait for them.
  EXPECT_TRUE(csgi.wait_for_log("reached its request limit", 2)) << csgi.log();
}

TEST_P(RequestLimitTest, RecyclesUnderSteadyLoadWithoutAFailedRequest) {
  CsgiProcess csgi({test_app("whoami"), "--server", GetParam(), "--workers", "2",
                    "--no-access-log", "--limit-max-requests", "40"});
  wait_booted(csgi, 2);
  SteadyLoad load(csgi.port(), "/", 4);
  ASSERT_TRUE(csgi.wait_for_log(") stopped", 4)) << csgi.log();
  load.stop();
  EXPECT_EQ(load.failed(), 0) << csgi.log();
  EXPECT_GE(load.ok(), 160);
}

TEST_P(RequestLimitTest, WithoutASupervisorTheServerStopsAfterItsLimit) {
  CsgiProcess csgi({test_app("whoami"), "--server", GetParam(), "--no-access-log",
                    "--limit-max-requests", "3"});
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  for (int i = 0; i < 3; ++i) {
    auto reply = get_once(csgi.port(), "/");
    ASSERT_TRUE(reply && reply->status == 200) << "request " << i << "\n" << csgi.log();
  }
  EXPECT_EQ(csgi.wait_exit(), 0) << csgi.log();
  EXPECT_EQ(csgi.count_in_log("Maximum request limit of 3 reached"), 1u) << csgi.log();
}

INSTANTIATE_TEST_SUITE_P(ServerKinds, RequestLimitTest, ::testing::Values("loop", "threaded"));

class AppLoadTest : public ::testing::TestWithParam<const char*> {};

TEST_P(AppLoadTest, AppThatCannotBeBuiltInAWorkerStopsTheSupervisorWithItsMessage) {
  CsgiProcess csgi({test_app("unbuildable"), "--server", GetParam(), "--workers", "2"});
  EXPECT_EQ(csgi.wait_exit(), worker_exit::app_load_failed) << csgi.log();
  EXPECT_NE(csgi.log().find("the setting SECRET_KEY is missing"), std::string::npos) << csgi.log();
  EXPECT_NE(csgi.log().find("Reason: App failed to load."), std::string::npos) << csgi.log();
  EXPECT_LE(csgi.count_in_log("Booting worker"), 2u) << csgi.log();  // no fork loop
}

INSTANTIATE_TEST_SUITE_P(ServerKinds, AppLoadTest, ::testing::Values("loop", "threaded"));

// Where `lines` appear in `log`, one after the other: npos for the first
// that does not appear after the one before it.
std::size_t first_out_of_order(const std::string& log, const std::vector<std::string>& lines) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    at = log.find(lines[i], at);
    if (at == std::string::npos) return i;
  }
  return std::string::npos;
}

// What each server kind logs over its life, alone or under the supervisor.
class LogLinesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LogLinesTest, ASingleServerLogsItsLifeLikeUvicorn) {
  CsgiProcess csgi({"hello", "--server", GetParam(), "--no-access-log"});
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  int answered = answered_while(csgi.port(), 1, "/?delay_ms=500", [&] { csgi.signal(SIGTERM); });
  EXPECT_EQ(answered, 1) << csgi.log();
  EXPECT_EQ(csgi.wait_exit(), 0) << csgi.log();
  std::string pid = "[" + std::to_string(csgi.pid()) + "]";
  EXPECT_EQ(first_out_of_order(csgi.log(), {"Started server process " + pid,
                                            "Application startup complete.",
                                            "csgi running on http://127.0.0.1:",
                                            "Shutting down",
                                            "Waiting for connections to close.",
                                            "Application shutdown complete.",
                                            "Finished server process " + pid}),
            std::string::npos)
      << csgi.log();
}

TEST_P(LogLinesTest, UnderTheSupervisorOnlyTheParentSaysWhereItListens) {
  CsgiProcess csgi({"hello", "--server", GetParam(), "--workers", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  ASSERT_TRUE(csgi.wait_for_log("Started server process [", 2)) << csgi.log();
  EXPECT_EQ(first_out_of_order(csgi.log(), {"Started parent process [" + std::to_string(csgi.pid()),
                                            "csgi running on http://127.0.0.1:"}),
            std::string::npos)
      << csgi.log();
  for (pid_t worker : csgi.workers())
    EXPECT_EQ(csgi.count_in_log("Started server process [" + std::to_string(worker) + "]"), 1u)
        << csgi.log();
  csgi.signal(SIGTERM);
  EXPECT_EQ(csgi.wait_exit(), 0) << csgi.log();
  EXPECT_EQ(csgi.count_in_log("running on"), 1u) << csgi.log();
  EXPECT_EQ(csgi.count_in_log("Finished server process ["), 2u) << csgi.log();
}

INSTANTIATE_TEST_SUITE_P(ServerKinds, LogLinesTest, ::testing::Values("loop", "threaded"));

}  // namespace
}  // namespace csgi::servers::testing
