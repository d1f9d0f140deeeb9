// The parts of the app contract (spec/sync.md, spec/async.md) that every
// server must keep whatever its kind, run on every server kind with both app
// kinds: error lines that name the request, start_response checked at the
// call, write refused after the app returned, and one pending receive() and
// one pending send() at a time.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "gateway/testing/error_log_capture.hpp"
#include "tests/conformance/fixture.hpp"

namespace csgi::conformance {
namespace {

class GatewayContract : public Conformance {
 protected:
  // The log is captured from before the server starts until after it stopped,
  // so that no other thread logs while the capture is attached or detached.
  void SetUp() override { log_.emplace(); }
  void TearDown() override {
    if (server_) {
      server_->stop();
      server_->wait();
    }
    log_.reset();
  }

  bool logged(const std::string& text) const { return log_->text().find(text) != std::string::npos; }

  // GETs `path`, whose app fails (with a 500, or by cutting the response),
  // and expects an error line that names the request.
  // A forked worker logs to its own stderr, out of this process's capture;
  // the supervisor's log lines are tested through the csgi executable
  // (tests/servers/supervisor/).
  bool logs_elsewhere() const { return std::get<0>(GetParam()).name == "supervisor"; }

  void expect_error_line_naming(const std::string& path) {
    RawClient client = connect();
    client.send_request("GET", path);
    try {
      client.read_response();
    } catch (const std::runtime_error&) {
      // Cut after the response started: the error shows only in the log.
    }
    EXPECT_TRUE(eventually([&] { return logged("GET " + path); })) << log_->text();
  }

  // The body of a GET of `path` on a new connection.
  std::string get_body(const std::string& path) {
    RawClient client = connect();
    client.send_request("GET", path);
    return client.read_response().body;
  }

  std::optional<testing::ErrorLogCapture> log_;
};

TEST_P(GatewayContract, ExceptionBeforeStartLogLineNamesMethodAndPath) {
  if (logs_elsewhere()) GTEST_SKIP() << "worker logs are not captured here";
  start();
  expect_error_line_naming("/raise-before");
  EXPECT_TRUE(logged("boom before start"));
}

TEST_P(GatewayContract, ExceptionAfterStartLogLineNamesMethodAndPath) {
  if (logs_elsewhere()) GTEST_SKIP() << "worker logs are not captured here";
  start();
  expect_error_line_naming("/raise-after");
  EXPECT_TRUE(logged("boom after start"));
}

TEST_P(GatewayContract, IncompleteResponseLogLineNamesMethodAndPath) {
  if (logs_elsewhere()) GTEST_SKIP() << "worker logs are not captured here";
  if (app_kind() == AppKind::sync) GTEST_SKIP() << "no sync form of this scenario";
  start();
  expect_error_line_naming("/incomplete");
}

TEST_P(GatewayContract, InvalidResponseStartThrowsAtTheCall) {
  start();
  EXPECT_EQ(get_body("/bad-start"), "refused at start");
}

TEST_P(GatewayContract, WriteAfterAppReturnedThrows) {
  if (app_kind() == AppKind::async) GTEST_SKIP() << "an async app has no write callable";
  start();
  EXPECT_EQ(get_body("/late-write"), "late write refused");
}

TEST_P(GatewayContract, SecondPendingReceiveThrows) {
  if (app_kind() == AppKind::sync) GTEST_SKIP() << "a sync app cannot overlap its reads";
  start();
  EXPECT_EQ(get_body("/double-receive"), "second receive refused");
}

TEST_P(GatewayContract, SecondPendingSendThrows) {
  if (app_kind() == AppKind::sync) GTEST_SKIP() << "a sync app cannot overlap its writes";
  start();
  RawClient client = connect();
  client.send_request("GET", "/double-send");
  // The client reads nothing, so that the app's sends come to wait.
  EXPECT_TRUE(eventually([&] { return probe_->second_send.load() != 0; }));
  EXPECT_EQ(probe_->second_send.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Servers, GatewayContract, server_params(), param_name);

}  // namespace
}  // namespace csgi::conformance
