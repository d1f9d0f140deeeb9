#include "servers/serve.hpp"

#include <malloc.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "servers/listener.hpp"
#include "servers/logging.hpp"
#include "servers/server.hpp"
#include "servers/supervisor/supervisor.hpp"
#include "servers/systemd.hpp"
#include "servers/threaded/threaded_server.hpp"

namespace csgi::servers {

ServerFactory server_factory(ServerKind kind) {
  switch (kind) {
    case ServerKind::loop: return make_loop_server;
    case ServerKind::threaded: return threaded_server_factory();
  }
  throw std::invalid_argument("unknown server kind");
}

std::size_t keep_freed_heap_memory(std::size_t bytes) {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_TRIM_THRESHOLD_")) return 0;
  if (::mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(bytes, INT_MAX))) == 1)
    return bytes;
#else
  (void)bytes;
#endif
  return 0;
}

int serve(const Config& config, const Application& app) {
  setup_logging(config.log_level, config.access_log);
  raise_open_file_limit();
  keep_freed_heap_memory(std::size_t{16} << 20);
  try {
    if (config.workers > 1 || config.supervise) return run_supervisor(config, app);
    ServerFactory factory = server_factory(config.server);
    auto server = factory(config, app, Listener::open(config));
    // systemd learns that the service is up once lifespan startup is over.
    return server->run({.handle_signals = true,
                        .on_started = [](bool serving) {
                          if (serving) systemd::notify("READY=1");
                        },
                        .on_stopping = [] { systemd::notify("STOPPING=1"); }});
  } catch (const std::exception& e) {
    error_log()->error("{}", e.what());
    return 1;
  }
}

}  // namespace csgi::servers
