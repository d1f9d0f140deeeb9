// The worker hooks: the heartbeat drivers and the request budget on their own,
// then each server kind embedded in this process with a request limit.
#include "servers/worker_hooks.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "servers/background_server.hpp"
#include "servers/server.hpp"

namespace csgi::servers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Hooks that record what the server told them.
class RecordingHooks final : public WorkerHooks {
 public:
  explicit RecordingHooks(std::optional<std::chrono::milliseconds> interval = std::nullopt)
      : interval_(interval) {}

  std::optional<std::chrono::milliseconds> heartbeat_interval() const override { return interval_; }
  void beat() override { ++beats; }
  void request_limit_reached(const std::function<void()>& stop_server) override {
    ++limits_reached;
    stop_server();
  }

  std::atomic<int> beats{0};
  std::atomic<int> limits_reached{0};

 private:
  std::optional<std::chrono::milliseconds> interval_;
};

TEST(HeartbeatTest, BeatsAtStartThenOnEveryInterval) {
  RecordingHooks hooks(5ms);
  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), hooks);
  EXPECT_EQ(hooks.beats, 0);  // nothing before start(): not serving yet
  heartbeat.start();
  EXPECT_EQ(hooks.beats, 1);  // the first beat says "up" at once
  // Each further beat is one timer expiry: run until three more came.
  while (hooks.beats < 4) io.run_one();
  heartbeat.stop();
  io.run();  // the cancelled timer is all that is left
  EXPECT_EQ(hooks.beats, 4);
}

TEST(HeartbeatTest, StopLetsTheLoopFinish) {
  RecordingHooks hooks(1ms);
  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), hooks);
  heartbeat.start();
  io.run_one();  // one beat from the timer
  heartbeat.stop();
  io.run();  // returns only because nothing is left to run
  EXPECT_EQ(hooks.beats, 2);
}

TEST(HeartbeatTest, DefaultHooksStartNoTimer) {
  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), default_worker_hooks());
  heartbeat.start();
  EXPECT_EQ(io.run(), 0u);
}

TEST(PolledHeartbeatTest, BeatsAtOnceThenWhenTheIntervalHasPassed) {
  RecordingHooks hooks(100ms);
  PolledHeartbeat heartbeat(hooks);
  auto start = PolledHeartbeat::Clock::now();
  EXPECT_LE(heartbeat.next_beat(), PolledHeartbeat::Clock::now());
  heartbeat.beat_if_due(start);
  EXPECT_EQ(hooks.beats, 1);
  EXPECT_EQ(heartbeat.next_beat(), start + 100ms);
  heartbeat.beat_if_due(start + 99ms);
  EXPECT_EQ(hooks.beats, 1);
  heartbeat.beat_if_due(start + 100ms);
  EXPECT_EQ(hooks.beats, 2);
  EXPECT_EQ(heartbeat.next_beat(), start + 200ms);
}

TEST(PolledHeartbeatTest, DefaultHooksNeverBoundAWait) {
  PolledHeartbeat heartbeat(default_worker_hooks());
  heartbeat.beat_if_due();
  EXPECT_EQ(heartbeat.next_beat(), std::nullopt);
}

TEST(RequestBudgetTest, CallsTheHooksOnceWhenTheLimitIsReached) {
  RecordingHooks hooks;
  int stops = 0;
  RequestBudget budget;
  budget.start(3, hooks, [&] { ++stops; });
  budget.count();
  budget.count();
  EXPECT_EQ(hooks.limits_reached, 0);
  budget.count();
  EXPECT_EQ(hooks.limits_reached, 1);
  EXPECT_EQ(stops, 1);
  budget.count();
  EXPECT_EQ(hooks.limits_reached, 1);
  EXPECT_EQ(budget.taken(), 4u);
}

TEST(RequestBudgetTest, NoLimitNeverCallsTheHooks) {
  RecordingHooks hooks;
  RequestBudget budget;
  budget.start(std::nullopt, hooks, [] {});
  for (int i = 0; i < 1000; ++i) budget.count();
  EXPECT_EQ(hooks.limits_reached, 0);
}

TEST(RequestBudgetTest, DefaultHooksStopTheServer) {
  int stops = 0;
  RequestBudget budget;
  budget.start(1, default_worker_hooks(), [&] { ++stops; });
  budget.count();
  EXPECT_EQ(stops, 1);
}

// Counts SIGTERMs and SIGINTs this process receives while it lives.
class SignalWitness {
 public:
  SignalWitness() {
    received.store(0);
    struct sigaction action {};
    action.sa_handler = [](int) { received.fetch_add(1); };
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, &old_term_);
    ::sigaction(SIGINT, &action, &old_int_);
  }
  ~SignalWitness() {
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGINT, &old_int_, nullptr);
  }
  SignalWitness(const SignalWitness&) = delete;
  SignalWitness& operator=(const SignalWitness&) = delete;

  static inline std::atomic<int> received{0};

 private:
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
};

asgi::App hello_app() {
  return [](asgi::Scope scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
    co_await send(asgi::HttpResponseStart{200, {{"content-length", "2"}}});
    co_await send(asgi::HttpResponseBody{"hi", false});
  };
}

// One request on its own connection; the response's first line, "" if none.
std::string status_line_of_get(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request = "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    char buffer[1024];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
      response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response.substr(0, response.find("\r\n"));
}

class EmbeddedLimitTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  Config limited_to(std::size_t requests) const {
    Config config;
    config.port = 0;
    config.log_level = "critical";
    config.server = GetParam();
    config.limit_max_requests = requests;
    return config;
  }
};

TEST_P(EmbeddedLimitTest, ServerStopsGracefullyByItselfAndSignalsNobody) {
  SignalWitness witness;
  BackgroundServer server(server_factory(GetParam()), limited_to(2),
                          Application::from_async("hello", hello_app()));
  ASSERT_TRUE(server.serving());
  EXPECT_EQ(status_line_of_get(server.port()), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_line_of_get(server.port()), "HTTP/1.1 200 OK");
  // No stop() from here: the second request ended the server's run.
  EXPECT_EQ(server.wait(), 0);
  EXPECT_EQ(SignalWitness::received.load(), 0);
}

TEST_P(EmbeddedLimitTest, HooksAreToldOfTheLimitAndOfHeartbeats) {
  RecordingHooks hooks(1h);
  BackgroundServer server(server_factory(GetParam()), limited_to(1),
                          Application::from_async("hello", hello_app()), &hooks);
  ASSERT_TRUE(server.serving());
  EXPECT_EQ(status_line_of_get(server.port()), "HTTP/1.1 200 OK");
  EXPECT_EQ(server.wait(), 0);
  EXPECT_EQ(hooks.limits_reached, 1);
  EXPECT_EQ(hooks.beats, 1);  // the one that says "up"; the next is an hour away
}

INSTANTIATE_TEST_SUITE_P(EveryServerKind, EmbeddedLimitTest,
                         ::testing::Values(ServerKind::loop, ServerKind::threaded),
                         [](const auto& info) {
                           return info.param == ServerKind::loop ? "loop" : "threaded";
                         });

}  // namespace
}  // namespace csgi::servers
