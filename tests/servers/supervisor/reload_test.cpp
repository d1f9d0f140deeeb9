// `csgi serve lib.so --reload`, and HUP deploying a new build, end to end: the
// real executable serves a plugin file (tests/apps/plugins/answer.cpp) that
// the test replaces with a build answering differently, while a client
// requests in a loop.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "csgi_process.hpp"
#include "harness.hpp"
#include "tests/apps/plugins/plugin_file.hpp"

namespace csgi::servers::testing {
namespace {

using Clock = std::chrono::steady_clock;

// One client requesting GET / in a loop, each on a connection of its own (so
// that every worker gets some), noting what each answer said.
class AnswerLoop {
 public:
  struct Tally {
    int answered = 0;
    int failed = 0;
    int twos_in_a_row = 0;  // "two" answers since the last other answer
    std::optional<Clock::time_point> first_two;
  };

  explicit AnswerLoop(std::uint16_t port)
      : thread_([this, port] {
          while (!stop_) {
            auto reply = get_once(port, "/");
            std::lock_guard lock(mutex_);
            if (!reply || reply->status != 200) {
              ++tally_.failed;
              continue;
            }
            ++tally_.answered;
            if (reply->body != "two") {
              tally_.twos_in_a_row = 0;
            } else if (tally_.twos_in_a_row++ == 0 && !tally_.first_two) {
              tally_.first_two = Clock::now();
            }
          }
        }) {}
  ~AnswerLoop() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  Tally tally() const {
    std::lock_guard lock(mutex_);
    return tally_;
  }

 private:
  mutable std::mutex mutex_;
  Tally tally_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once the rest is ready
};

struct ReloadCase {
  const char* name;
  std::string symbol;  // the entry point: empty for the sync app
  std::vector<std::string> flags;
  std::size_t workers = 1;
};

class ServeReloadTest : public ::testing::TestWithParam<ReloadCase> {};

TEST_P(ServeReloadTest, ClientInALoopSeesNoFailureAndTheNewAnswerWithinTwoSeconds) {
  const ReloadCase& param = GetParam();
  csgi::testing::PluginFile file(CSGI_ANSWER_ONE);
  std::vector<std::string> args{file.path() + (param.symbol.empty() ? "" : ":" + param.symbol),
                                "--reload", "--no-access-log"};
  args.insert(args.end(), param.flags.begin(), param.flags.end());
  CsgiProcess csgi(args);
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  ASSERT_TRUE(csgi.wait_for_log("Application startup complete", param.workers)) << csgi.log();

  AnswerLoop client(csgi.port());
  ASSERT_TRUE(eventually([&] { return client.tally().answered > 10; })) << csgi.log();
  auto rebuilt = Clock::now();
  file.install(CSGI_ANSWER_TWO);
  // Every worker has reloaded once the answers are "two" many times in a row.
  ASSERT_TRUE(eventually([&] { return client.tally().twos_in_a_row >= 20; }, milliseconds(4000)))
      << csgi.log();
  client.stop();

  EXPECT_EQ(client.tally().failed, 0) << csgi.log();
  auto delay = std::chrono::duration_cast<milliseconds>(*client.tally().first_two - rebuilt);
  EXPECT_LT(delay, milliseconds(2000));
  std::printf("[ figure   ] %s: first new answer %lld ms after the new build was in place, "
              "%d requests, %d failed\n",
              param.name, static_cast<long long>(delay.count()), client.tally().answered,
              client.tally().failed);
  EXPECT_TRUE(csgi.wait_for_log("serves new requests", param.workers)) << csgi.log();
}

INSTANTIATE_TEST_SUITE_P(
    ServerKinds, ServeReloadTest,
    ::testing::Values(ReloadCase{"loop, async app", "csgi_answer_async", {}},
                      ReloadCase{"loop, sync app", "", {}},
                      ReloadCase{"threaded", "", {"--server", "threaded"}},
                      ReloadCase{"two workers", "csgi_answer_async", {"--workers", "2"}, 2}),
    [](const auto& info) {
      std::string name = info.param.name;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST(ServeReloadTest, BuildThatFailsToStartKeepsTheOldOneServingAndLogsOneLine) {
  csgi::testing::PluginFile file(CSGI_ANSWER_ONE);
  CsgiProcess csgi({file.path(), "--reload", "--no-access-log"});
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  file.install(CSGI_ANSWER_BROKEN);
  ASSERT_TRUE(csgi.wait_for_log("keeps serving")) << csgi.log();
  auto reply = get_once(csgi.port(), "/");
  ASSERT_TRUE(reply) << csgi.log();
  EXPECT_EQ(reply->body, "one");
  EXPECT_EQ(csgi.count_in_log("this build cannot start"), 1u) << csgi.log();
}

// Without --reload, HUP is the deployment: each new worker loads the file.
TEST(ServeReloadTest, HupMakesEveryWorkerLoadTheFileAfresh) {
  csgi::testing::PluginFile file(CSGI_ANSWER_ONE);
  CsgiProcess csgi({file.path(), "--workers", "2", "--no-access-log"});
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  ASSERT_TRUE(csgi.wait_for_log("Application startup complete", 2)) << csgi.log();

  AnswerLoop client(csgi.port());
  file.install(CSGI_ANSWER_TWO);
  ASSERT_TRUE(eventually([&] { return client.tally().answered > 10; })) << csgi.log();
  EXPECT_EQ(client.tally().twos_in_a_row, 0) << "the file alone changes nothing";
  csgi.signal(SIGHUP);
  ASSERT_TRUE(csgi.wait_for_log(") stopped", 2)) << csgi.log();
  EXPECT_TRUE(eventually([&] { return client.tally().twos_in_a_row >= 20; })) << csgi.log();
  client.stop();
  EXPECT_EQ(client.tally().failed, 0) << csgi.log();
}

}  // namespace
}  // namespace csgi::servers::testing
