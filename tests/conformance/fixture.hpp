// The fixture of the conformance suites: every server kind (loop, threaded,
// and the supervisor with two loop workers), each hosting the
// async and the sync conformance app (tests/conformance/test_apps.hpp). A new
// server joins by adding one line to server_kinds(); a suite instantiates
// Conformance (or a fixture derived from it) over server_params().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "servers/background_server.hpp"
#include "servers/server.hpp"
#include "servers/threaded/threaded_server.hpp"
#include "tests/conformance/eventually.hpp"
#include "tests/conformance/forked_supervisor.hpp"
#include "tests/conformance/raw_client.hpp"
#include "tests/conformance/test_apps.hpp"

namespace csgi::conformance {

using namespace std::chrono_literals;
using servers::Config;

struct ServerKind {
  std::string name;
  servers::ServerFactory factory;
};

inline std::vector<ServerKind> server_kinds() {
  return {
      {"loop", servers::make_loop_server},
      // Scenarios hold several connections at once; with one thread per
      // connection the threaded server needs a few threads for them.
      {"threaded",
       [](const Config& config, const Application& app, servers::Listener listener) {
         Config threaded = config;
         threaded.threads = std::max<std::size_t>(config.thread_count(), 4);
         return servers::make_threaded_server(threaded, app, std::move(listener));
       }},
      {"supervisor",
       [](const Config& config, const Application& app, servers::Listener listener) {
         return std::make_unique<ForkedSupervisor>(config, app, std::move(listener));
       }},
  };
}

// Failure messages name the server instead of dumping its bytes.
inline void PrintTo(const ServerKind& kind, std::ostream* out) { *out << kind.name; }

using Param = std::tuple<ServerKind, AppKind>;

inline std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  auto [server, app] = info.param;
  return server.name + (app == AppKind::async ? "_async" : "_sync");
}

class Conformance : public ::testing::TestWithParam<Param> {
 protected:
  static Config base_config() {
    Config config;
    config.port = 0;
    config.lifespan = servers::LifespanMode::on;
    config.timeout_graceful_shutdown = 2000ms;
    config.access_log = false;
    return config;
  }

  void start(Config config = base_config()) {
    server_ = std::make_unique<servers::BackgroundServer>(std::get<0>(GetParam()).factory, config,
                                                 conformance_app(app_kind(), probe_));
    ASSERT_TRUE(server_->serving());
  }

  AppKind app_kind() const { return std::get<1>(GetParam()); }
  RawClient connect() { return RawClient(server_->port()); }

  std::shared_ptr<Probe> probe_ = shared_probe();
  std::unique_ptr<servers::BackgroundServer> server_;
};

// An error answer on `client`: `status` with Connection: close, then the
// server closes the connection.
inline void expect_answer_then_close(RawClient& client, int status) {
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, status);
  EXPECT_EQ(response.header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(1000ms));
}

// Every server kind with both app kinds.
inline auto server_params() {
  return ::testing::Combine(::testing::ValuesIn(server_kinds()),
                            ::testing::Values(AppKind::async, AppKind::sync));
}

}  // namespace csgi::conformance
