// What every conformance suite shares: the server kinds, the parameter set
// (every server kind with both app kinds), and a fixture that starts a server
// hosting the conformance app (tests/conformance/test_apps.hpp).
//
//   class MySuite : public ConformanceFixture {};
//   TEST_P(MySuite, ...) { start(); RawClient client = connect(); ... }
//   INSTANTIATE_TEST_SUITE_P(Servers, MySuite, every_server_and_app_kind(), param_name);
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "servers/background_server.hpp"
#include "servers/server.hpp"
#include "tests/conformance/raw_client.hpp"
#include "tests/conformance/test_apps.hpp"

namespace csgi::conformance {

struct ServerKind {
  std::string name;
  servers::ServerFactory factory;
};

// Every server kind; a new server joins by adding one line here (fixture.cpp).
std::vector<ServerKind> server_kinds();

// Failure messages name the server instead of dumping its bytes.
inline void PrintTo(const ServerKind& kind, std::ostream* out) { *out << kind.name; }

using Param = std::tuple<ServerKind, AppKind>;

// The parameters of every conformance suite.
inline auto every_server_and_app_kind() {
  return ::testing::Combine(::testing::ValuesIn(server_kinds()),
                            ::testing::Values(AppKind::async, AppKind::sync));
}

// "loop_async", "threaded_sync", ...
std::string param_name(const ::testing::TestParamInfo<Param>& info);

// Polls `condition` for up to `limit`.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

class ConformanceFixture : public ::testing::TestWithParam<Param> {
 protected:
  static servers::Config base_config();

  void start(servers::Config config = base_config()) {
    server_ = std::make_unique<servers::BackgroundServer>(std::get<0>(GetParam()).factory, config,
                                                          conformance_app(app_kind(), probe_));
    ASSERT_TRUE(server_->serving());
  }

  AppKind app_kind() const { return std::get<1>(GetParam()); }
  RawClient connect() { return RawClient(server_->port()); }

  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  std::unique_ptr<servers::BackgroundServer> server_;
};

}  // namespace csgi::conformance
