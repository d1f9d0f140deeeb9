// The clients name the request being served in a `traceparent` header
// (runtime/trace.hpp): the echo app shows what reached the server.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "apps/builtin.hpp"
#include "client/async_client.hpp"
#include "client/client.hpp"
#include "servers/background_server.hpp"
#include "servers/logging.hpp"
#include "servers/server.hpp"
#include "tests/client/harness.hpp"

namespace csgi::client {
namespace {

std::optional<std::string> sent_traceparent(const Response& response) {
  boost::json::value echoed = response.json();
  for (const auto& header : echoed.at("headers").as_array()) {
    const auto& pair = header.as_array();
    if (pair[0].as_string() == "traceparent") return std::string(pair[1].as_string());
  }
  return std::nullopt;
}

class TraceTest : public ::testing::Test {
 protected:
  static servers::Config config() {
    servers::setup_logging("critical", false);
    servers::Config config;
    config.port = 0;
    config.access_log = false;
    return config;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()) + "/"; }

  servers::BackgroundServer server{servers::make_loop_server, config(), apps::echo_app()};
};

TEST_F(TraceTest, TheBlockingClientNamesTheRequestItsThreadServes) {
  Client client;
  EXPECT_FALSE(sent_traceparent(client.get(url())));  // serving nothing: no header
  TraceContext serving = TraceContext::for_request(std::nullopt);
  CurrentTrace current(&serving);
  EXPECT_EQ(sent_traceparent(client.get(url())), serving.traceparent());
}

TEST_F(TraceTest, TheAsyncClientNamesTheRequestItWasGiven) {
  boost::asio::io_context io;
  ClientOptions options;
  options.trace = TraceContext::for_request(std::nullopt);
  AsyncClient client(io.get_executor(), options);
  EXPECT_EQ(sent_traceparent(testing::run(io, client.get(url()))), options.trace->traceparent());
}

TEST_F(TraceTest, ATraceparentTheCallerSetsIsKept) {
  Client client;
  TraceContext serving = TraceContext::for_request(std::nullopt);
  CurrentTrace current(&serving);
  std::string own = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_EQ(sent_traceparent(client.get(url(), {.headers = {{"traceparent", own}}})), own);
}

}  // namespace
}  // namespace csgi::client
