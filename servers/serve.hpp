// The one entry point the CLI calls: runs the server `config` names (loop or
// threaded, under the supervisor when workers > 1) until it is stopped.
#pragma once

#include "gateway/app.hpp"
#include "servers/config.hpp"

namespace csgi::servers {

// Returns the process exit code: 0 after a clean stop, 3 when lifespan startup
// failed, 1 for other failures (the reason is logged to csgi.error).
int serve(const Config& config, const Application& app);

}  // namespace csgi::servers
