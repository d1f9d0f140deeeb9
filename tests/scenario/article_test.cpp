// The article's scenario, scaled down (100 ms views instead of 1 s, a 250 ms
// read timeout instead of 5 s): an async view that calls a view of its own
// server ten times at once, on each server kind (DESIGN.md, "The article's
// scenario"). The multi-worker row runs in `csgi scenario`, which forks
// (scenario_command_test.cpp).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apps/mysite.hpp"
#include "client/client.hpp"
#include "servers/background_server.hpp"
#include "servers/server.hpp"

namespace csgi {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr int calls = 6;
constexpr int delay_ms = 100;

struct Outcome {
  int status = 0;
  int succeeded = 0;
  int timed_out = 0;
  double seconds = 0;  // the view's own measurement of its calls
  std::vector<double> finished_ms;
  std::size_t calls_made = 0;
  std::string first_error;
};

Outcome aggregate(servers::ServerKind kind, const Application& app, std::string_view view,
                  int timeout_ms, std::optional<std::size_t> threads = std::nullopt) {
  servers::Config config;
  config.port = 0;
  config.server = kind;
  config.threads = threads.value_or(kind == servers::ServerKind::threaded ? 16 : 1);
  config.access_log = false;
  servers::BackgroundServer server(servers::server_factory(kind), config, app);
  client::Client client;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + std::string(view) +
                    "?n=" + std::to_string(calls) + "&delay_ms=" + std::to_string(delay_ms) +
                    "&timeout_ms=" + std::to_string(timeout_ms);
  client::RequestOptions options;
  options.timeouts = client::Timeouts::all(10s);
  client::Response response = client.get(url, options);
  Outcome outcome;
  outcome.status = response.status;
  json::object body = response.json().as_object();
  std::string debug(body.at("debug_message").as_string());
  outcome.seconds = std::stod(debug.substr(debug.find("in ") + 3));
  outcome.calls_made = body.at("calls").as_array().size();
  for (const json::value& call : body.at("calls").as_array()) {
    const json::object& c = call.as_object();
    if (c.contains("error") && outcome.first_error.empty())
      outcome.first_error = std::string(c.at("error").as_string());
    if (!c.contains("error")) {
      ++outcome.succeeded;
      outcome.finished_ms.push_back(c.at("finished_ms").to_number<double>());
    } else if (std::string(c.at("error").as_string()).starts_with("ReadTimeout")) {
      ++outcome.timed_out;
    }
  }
  return outcome;
}

TEST(Article, SingleLoopWorkerSerialisesSyncCallsUntilTheClientTimesOut) {
  Outcome outcome = aggregate(servers::ServerKind::loop, apps::mysite_app(), "/api/aggregated/", 250);
  EXPECT_EQ(outcome.status, 504);
  EXPECT_GE(outcome.timed_out, 1);
  EXPECT_EQ(outcome.succeeded + outcome.timed_out, calls);
  // One sync thread: the k-th call to finish finished no sooner than k delays
  // after the start (a lower bound that a loaded machine cannot break).
  for (std::size_t i = 0; i < outcome.finished_ms.size(); ++i)
    EXPECT_GE(outcome.finished_ms[i], (i + 1) * delay_ms * 0.95);
}

TEST(Article, AsyncApiViewAnswersAllCallsAtOnceOnOneLoop) {
  Outcome outcome =
      aggregate(servers::ServerKind::loop, apps::mysite_async_app(), "/api/aggregated/", 2000);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.succeeded, calls);
  EXPECT_LT(outcome.seconds, 3 * delay_ms / 1000.0);
}

TEST(Article, ThreadedServerRunsTheAsyncViewInItsOwnLoopAndTheCallsInParallel) {
  Outcome outcome =
      aggregate(servers::ServerKind::threaded, apps::mysite_app(), "/api/aggregated/", 2000);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.succeeded, calls);
  EXPECT_LT(outcome.seconds, 3 * delay_ms / 1000.0);
}

TEST(Article, SyncAggregatedViewTakesTheSumOfItsCalls) {
  Outcome outcome =
      aggregate(servers::ServerKind::threaded, apps::mysite_app(), "/api/aggregated/sync/", 2000);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.succeeded, calls);
  EXPECT_GE(outcome.seconds, calls * delay_ms / 1000.0 * 0.95);
}

TEST(Article, SyncAggregatedViewFailsFastOnOneLoopWorkerAndSaysWhy) {
  // On one loop worker the sync view holds the only sync thread that its own
  // calls need: the server sees that the first call can never start and
  // answers 503 at once, and the view stops at that first failed call.
  Outcome outcome =
      aggregate(servers::ServerKind::loop, apps::mysite_app(), "/api/aggregated/sync/", 5000);
  EXPECT_EQ(outcome.status, 503);
  EXPECT_EQ(outcome.calls_made, 1u);
  EXPECT_LT(outcome.seconds, 0.2);
  EXPECT_NE(outcome.first_error.find("HTTP 503: Deadlock avoided"), std::string::npos)
      << outcome.first_error;
  EXPECT_NE(outcome.first_error.find("--workers"), std::string::npos);
}

TEST(Article, SyncAggregatedViewSucceedsOnALoopWorkerWithASecondThread) {
  // A free thread serves the calls: nothing is refused.
  Outcome outcome =
      aggregate(servers::ServerKind::loop, apps::mysite_app(), "/api/aggregated/sync/", 2000, 2);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.succeeded, calls);
}

}  // namespace
}  // namespace csgi
