#include "tests/conformance/fixture.hpp"

#include <algorithm>

#include "servers/threaded/threaded_server.hpp"

namespace csgi::conformance {

using servers::Config;

std::vector<ServerKind> server_kinds() {
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
  };
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  auto [server, app] = info.param;
  return server.name + (app == AppKind::async ? "_async" : "_sync");
}

Config ConformanceFixture::base_config() {
  Config config;
  config.port = 0;
  config.lifespan = servers::LifespanMode::on;
  config.timeout_graceful_shutdown = std::chrono::milliseconds(2000);
  config.access_log = false;
  return config;
}

}  // namespace csgi::conformance
