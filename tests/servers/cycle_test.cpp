#include "servers/cycle.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace csgi::servers {
namespace {

// A connection with one GET request started, as a driver would hold it.
class CycleTest : public ::testing::Test {
 protected:
  CycleTest() : conn_(protocol_limits(config_), connection_info(config_)) {
    conn_.receive_data("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    auto event = conn_.next_event();
    EXPECT_TRUE(std::holds_alternative<protocol::RequestStarted>(event));
  }

  void start_response() {
    send_event(conn_, asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
    send_event(conn_, asgi::HttpResponseBody{"partial", true});
    conn_.consume_output(conn_.pending_output().size());
  }

  static std::exception_ptr failure() {
    return std::make_exception_ptr(std::runtime_error("boom"));
  }

  Config config_;
  protocol::ServerConnection conn_;
};

TEST_F(CycleTest, CompleteResponseKeepsConnectionAlive) {
  send_event(conn_, asgi::HttpResponseStart{204, {}});
  send_event(conn_, asgi::HttpResponseBody{"", false});
  EXPECT_EQ(end_cycle(conn_, nullptr, false), CycleEnd::keep_alive);
}

TEST_F(CycleTest, ExceptionBeforeStartQueues500AndCloses) {
  EXPECT_EQ(end_cycle(conn_, failure(), false), CycleEnd::close);
  std::string output(conn_.pending_output());
  EXPECT_EQ(output.rfind("HTTP/1.1 500 ", 0), 0u) << output;
  EXPECT_NE(output.find("connection: close"), std::string::npos) << output;
}

TEST_F(CycleTest, ExceptionAfterStartAborts) {
  start_response();
  EXPECT_EQ(end_cycle(conn_, failure(), false), CycleEnd::abort);
}

TEST_F(CycleTest, ReturnWithoutStartingGives500) {
  EXPECT_EQ(end_cycle(conn_, nullptr, false), CycleEnd::close);
  EXPECT_EQ(std::string(conn_.pending_output()).rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST_F(CycleTest, ReturnWithoutCompletingAborts) {
  start_response();
  EXPECT_EQ(end_cycle(conn_, nullptr, false), CycleEnd::abort);
}

TEST_F(CycleTest, ClientDisconnectedIsNotAnAppError) {
  auto gone = std::make_exception_ptr(asgi::ClientDisconnected());
  EXPECT_EQ(end_cycle(conn_, gone, false), CycleEnd::abort);
  EXPECT_TRUE(conn_.pending_output().empty());  // no 500 for a client that left
}

TEST_F(CycleTest, ClientGoneAbortsWhateverTheAppDid) {
  EXPECT_EQ(end_cycle(conn_, failure(), true), CycleEnd::abort);
  EXPECT_TRUE(conn_.pending_output().empty());
}

TEST_F(CycleTest, SendEventDispatchesToTheResponse) {
  send_event(conn_, asgi::HttpResponseStart{201, {}, false});
  send_event(conn_, asgi::HttpResponseBody{"made", false});
  EXPECT_EQ(conn_.pending_output().substr(0, 21), "HTTP/1.1 201 Created\r");
}

TEST_F(CycleTest, LifespanEventSentInAnHttpScopeIsAViolation) {
  EXPECT_THROW(send_event(conn_, asgi::LifespanStartupComplete{}), asgi::ProtocolViolation);
}

TEST(CycleSettings, LimitsComeFromConfig) {
  Config config;
  config.limit_request_line = 100;
  config.limit_request_head = 200;
  config.limit_request_fields = 3;
  config.limit_request_body = 1000;
  protocol::Limits limits = protocol_limits(config);
  EXPECT_EQ(limits.request_line, 100u);
  EXPECT_EQ(limits.request_head, 200u);
  EXPECT_EQ(limits.request_fields, 3u);
  EXPECT_EQ(limits.request_body, 1000u);
}

TEST(CycleSettings, DefaultConfigGivesTheProtocolsDefaultLimits) {
  protocol::Limits from_config = protocol_limits(Config{});
  protocol::Limits defaults;
  EXPECT_EQ(from_config.request_line, defaults.request_line);
  EXPECT_EQ(from_config.request_head, defaults.request_head);
  EXPECT_EQ(from_config.request_fields, defaults.request_fields);
  EXPECT_EQ(from_config.request_body, defaults.request_body);
}

}  // namespace
}  // namespace csgi::servers
