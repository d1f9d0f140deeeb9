// The supervisor core against fake workers: forked in-process, each a tiny
// event loop with the real worker hooks (Heartbeat, RequestBudget), writing
// what happens to it to a journal the test reads.
#include <algorithm>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness.hpp"
#include "servers/supervisor/worker.hpp"

namespace csgi::servers::testing {
namespace {

namespace asio = boost::asio;

// How a fake worker behaves; `age` is 1 for the first worker forked.
struct Fake {
  int exit_before_boot = 0;         // non-zero: exit with it before the first beat
  milliseconds boot_time{0};        // how long booting takes before the first beat
  std::size_t block_at_age = 0;     // this worker blocks its loop right after booting
  std::size_t crash_at_age = 0;     // this worker exits 1 shortly after booting
  bool ignore_term = false;         // keeps running on SIGTERM
  milliseconds request_every{0};    // counts a request this often (RequestBudget)
};

int run_fake(const WorkerSetup& setup, const Journal& journal, Fake fake) {
  std::string pid = std::to_string(::getpid());
  journal.write("attempt " + pid);
  if (fake.exit_before_boot != 0) return fake.exit_before_boot;
  std::this_thread::sleep_for(fake.boot_time);
  SupervisedWorkerHooks hooks(setup.heartbeat_fd, setup.heartbeat_interval);

  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), hooks);
  RequestBudget budget;
  // The supervisor stops a retiring worker with SIGTERM, handled below.
  budget.start(setup.max_requests, hooks, [] {});
  asio::steady_timer work(io);
  asio::signal_set signals(io, SIGTERM, SIGINT);

  std::function<void()> serve_one = [&] {
    work.expires_after(fake.request_every);
    work.async_wait([&](auto error) {
      if (error) return;
      budget.count();
      serve_one();
    });
  };
  std::function<void()> on_signal = [&] {
    signals.async_wait([&](auto error, int) {
      if (error) return;
      journal.write("stop " + pid);
      if (fake.ignore_term) return on_signal();
      heartbeat.stop();
      work.cancel();
    });
  };
  on_signal();
  // Journaled before the first beat: that beat may make the supervisor stop
  // a predecessor, whose "stop" must come after this line.
  journal.write("boot " + pid + " age=" + std::to_string(setup.age) +
                " limit=" + std::to_string(setup.max_requests.value_or(0)));
  heartbeat.start();
  if (fake.request_every.count() > 0) serve_one();
  if (setup.age == fake.block_at_age) {
    asio::post(io, [] { std::this_thread::sleep_for(std::chrono::hours(1)); });
  }
  if (setup.age == fake.crash_at_age) {
    work.expires_after(50ms);
    work.async_wait([](auto) { ::_exit(1); });
  }
  io.run();
  journal.write("exit " + pid);
  return 0;
}

SupervisorOptions options(std::size_t workers) {
  SupervisorOptions o;
  o.workers = workers;
  o.timeout_graceful_shutdown = 500ms;
  o.timeout_worker_healthcheck = 300ms;
  o.kill_grace = 100ms;
  return o;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void start(SupervisorOptions o, Fake fake = {}) {
    supervisor_.emplace(o, [this, fake](const WorkerSetup& setup) {
      return run_fake(setup, journal_, fake);
    });
  }

  // Reads `n` boot lines; returns their pids oldest first (workers forked
  // together boot in any order).
  std::vector<pid_t> boots(std::size_t n) {
    std::vector<std::pair<unsigned long, pid_t>> booted;
    while (booted.size() < n) {
      auto line = journal_.next_starting("boot ");
      if (!line) break;
      booted.emplace_back(std::stoul(line->substr(line->find("age=") + 4)), pid_in(*line));
    }
    EXPECT_EQ(booted.size(), n);
    std::sort(booted.begin(), booted.end());
    std::vector<pid_t> pids;
    for (auto [age, pid] : booted) pids.push_back(pid);
    return pids;
  }

  Journal journal_;
  std::optional<SupervisorProcess> supervisor_;
};

TEST_F(SupervisorTest, StartsTheWantedWorkersAndStopsThemGracefullyOnTerm) {
  start(options(3));
  auto pids = boots(3);
  EXPECT_TRUE(eventually([&] { return supervisor_->workers().size() == 3; }));

  supervisor_->signal(SIGTERM);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(journal_.next_starting("exit "));
  EXPECT_EQ(supervisor_->wait_exit(), 0);
}

TEST_F(SupervisorTest, IntStopsGracefullyToo) {
  start(options(2));
  boots(2);
  supervisor_->signal(SIGINT);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(journal_.next_starting("exit "));
  EXPECT_EQ(supervisor_->wait_exit(), 0);
}

TEST_F(SupervisorTest, KilledWorkerIsReplacedWithinOneSecond) {
  start(options(2));
  auto pids = boots(2);
  auto killed_at = std::chrono::steady_clock::now();
  ::kill(pids[0], SIGKILL);

  auto replacement = journal_.next_starting("boot ", 1000ms);
  ASSERT_TRUE(replacement);
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 1000ms);
  EXPECT_NE(pid_in(*replacement), pids[0]);
  EXPECT_TRUE(eventually([&] {
    auto now = supervisor_->workers();
    return now.size() == 2 && std::find(now.begin(), now.end(), pids[0]) == now.end();
  }));
  // The other worker was left alone.
  auto now = supervisor_->workers();
  EXPECT_NE(std::find(now.begin(), now.end(), pids[1]), now.end());
}

TEST_F(SupervisorTest, WorkerCrashingAfterBootIsReplaced) {
  start(options(2), Fake{.crash_at_age = 1});
  auto pids = boots(2);
  auto replacement = journal_.next_starting("boot ", 1000ms);
  ASSERT_TRUE(replacement);
  EXPECT_EQ(std::find(pids.begin(), pids.end(), pid_in(*replacement)), pids.end());
  EXPECT_TRUE(eventually([&] { return supervisor_->workers().size() == 2; }));
}

TEST_F(SupervisorTest, WorkerFailingToBootStopsTheSupervisorWithItsExitCode) {
  start(options(2), Fake{.exit_before_boot = worker_exit::boot_failed});
  EXPECT_EQ(supervisor_->wait_exit(), worker_exit::boot_failed);
  // No fork loop: at most one attempt per wanted worker.
  int attempts = 0;
  while (journal_.next_starting("attempt ", 100ms)) ++attempts;
  EXPECT_GE(attempts, 1);
  EXPECT_LE(attempts, 2);
}

TEST_F(SupervisorTest, AppFailingToLoadInAWorkerStopsTheSupervisor) {
  start(options(1), Fake{.exit_before_boot = worker_exit::app_load_failed});
  EXPECT_EQ(supervisor_->wait_exit(), worker_exit::app_load_failed);
}

TEST_F(SupervisorTest, BootLongerThanTheHealthcheckTimeoutIsWaitedFor) {
  start(options(1), Fake{.boot_time = 800ms});  // the health check allows 300 ms
  auto attempt = journal_.next_starting("attempt ");
  ASSERT_TRUE(attempt);
  auto booted = journal_.next_starting("boot ", 2000ms);
  ASSERT_TRUE(booted);
  EXPECT_EQ(pid_in(*booted), pid_in(*attempt));  // not killed and forked again meanwhile
  EXPECT_FALSE(journal_.next_starting("attempt ", 500ms));  // and the booted one is left alone
  supervisor_->signal(SIGTERM);
  EXPECT_TRUE(journal_.next_starting("exit "));
  EXPECT_EQ(supervisor_->wait_exit(), 0);
}

TEST_F(SupervisorTest, WorkerWithABlockedLoopIsKilledAfterTheHealthcheckTimeout) {
  start(options(2), Fake{.block_at_age = 1});
  auto pids = boots(2);
  auto booted_at = std::chrono::steady_clock::now();

  auto replacement = journal_.next_starting("boot ", 1500ms);
  ASSERT_TRUE(replacement);
  auto waited = std::chrono::steady_clock::now() - booted_at;
  EXPECT_GE(waited, 250ms);  // not before the timeout (300 ms)...
  EXPECT_LT(waited, 1000ms);  // ...and soon after it
  EXPECT_TRUE(eventually([&] {
    auto now = supervisor_->workers();
    return now.size() == 2 && std::find(now.begin(), now.end(), pids[0]) == now.end();
  }));
}

TEST_F(SupervisorTest, HupStartsNewWorkersBeforeStoppingTheOldOnes) {
  start(options(2));
  auto old = boots(2);
  supervisor_->signal(SIGHUP);

  // Replay the journal: the count of serving workers never drops below two.
  int serving = 2, lowest = 2, new_boots = 0, old_exits = 0;
  while (new_boots < 2 || old_exits < 2) {
    auto line = journal_.next();
    ASSERT_TRUE(line) << "new boots " << new_boots << ", old exits " << old_exits;
    if (line->rfind("boot ", 0) == 0) ++serving, ++new_boots;
    if (line->rfind("stop ", 0) == 0) --serving, lowest = std::min(lowest, serving);
    if (line->rfind("exit ", 0) == 0) ++old_exits;
  }
  EXPECT_GE(lowest, 2);
  EXPECT_TRUE(eventually([&] {
    auto now = supervisor_->workers();
    return now.size() == 2 && std::find(now.begin(), now.end(), old[0]) == now.end() &&
           std::find(now.begin(), now.end(), old[1]) == now.end();
  }));
}

TEST_F(SupervisorTest, TtinAddsAWorkerAndTtouRemovesTheOldest) {
  start(options(2));
  pid_t oldest = boots(2)[0];
  supervisor_->signal(SIGTTIN);
  boots(1);
  EXPECT_TRUE(eventually([&] { return supervisor_->workers().size() == 3; }));

  supervisor_->signal(SIGTTOU);
  auto stopped = journal_.next_starting("stop ");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(pid_in(*stopped), oldest);
  EXPECT_TRUE(eventually([&] { return supervisor_->workers().size() == 2; }));
}

TEST_F(SupervisorTest, TtouNeverGoesBelowOneWorker) {
  start(options(1));
  boots(1);
  supervisor_->signal(SIGTTOU);
  EXPECT_FALSE(journal_.next_starting("stop ", 200ms));
  EXPECT_EQ(supervisor_->workers().size(), 1u);
}

TEST_F(SupervisorTest, WorkerIgnoringTermIsKilledAfterTheGracefulTimeout) {
  start(options(1), Fake{.ignore_term = true});
  boots(1);
  auto asked_at = std::chrono::steady_clock::now();
  supervisor_->signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(), 0);
  auto waited = std::chrono::steady_clock::now() - asked_at;
  EXPECT_GE(waited, 500ms);   // timeout_graceful_shutdown...
  EXPECT_LT(waited, 1500ms);  // ...plus kill_grace, then SIGKILL
}

TEST_F(SupervisorTest, SecondTermForcesTheStopWithinTheKillGrace) {
  auto o = options(1);
  o.timeout_graceful_shutdown = 10s;
  start(o, Fake{.ignore_term = true});
  boots(1);
  supervisor_->signal(SIGTERM);
  ASSERT_TRUE(journal_.next_starting("stop "));
  supervisor_->signal(SIGTERM);
  ASSERT_TRUE(journal_.next_starting("stop "));  // the second SIGTERM reached the worker
  EXPECT_EQ(supervisor_->wait_exit(1000ms), 0);  // and SIGKILL followed after 100 ms
}

TEST_F(SupervisorTest, WorkerReachingItsRequestLimitIsReplacedBeforeItStops) {
  auto o = options(1);
  o.limit_max_requests = 5;
  start(o, Fake{.request_every = 10ms});
  auto first = boots(1);
  auto second = journal_.next_starting("boot ");
  ASSERT_TRUE(second);
  auto stopped = journal_.next_starting("stop ");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(pid_in(*stopped), first[0]);
  EXPECT_NE(pid_in(*second), first[0]);
}

TEST_F(SupervisorTest, JitterGivesEachWorkerItsOwnLimitWithinRange) {
  auto o = options(4);
  o.limit_max_requests = 100;
  o.limit_max_requests_jitter = 10;
  start(o);
  for (int i = 0; i < 4; ++i) {
    auto line = journal_.next_starting("boot ");
    ASSERT_TRUE(line);
    auto limit = std::stoul(line->substr(line->find("limit=") + 6));
    EXPECT_GE(limit, 100u);
    EXPECT_LE(limit, 110u);
  }
}

TEST(HeartbeatIntervalTest, FiveBeatsPerTimeoutWithinBounds) {
  EXPECT_EQ(heartbeat_interval_for(30s), 1000ms);
  EXPECT_EQ(heartbeat_interval_for(2s), 400ms);
  EXPECT_EQ(heartbeat_interval_for(20ms), 10ms);
}

}  // namespace
}  // namespace csgi::servers::testing
