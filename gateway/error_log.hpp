// The "csgi.error" logger: what happens to the server and the app (spec/sync.md
// and spec/async.md, "Error Handling"). Defined here, below every server, so
// that the adapters, the middleware and the servers write to one logger
// through one accessor; a server's set-up (servers/logging.hpp) configures its
// level and format.
#pragma once

#include <exception>
#include <memory>
#include <string_view>

#include <spdlog/logger.h>

namespace csgi {

// The logger, created (writing to stderr) on first use. Referred to, not
// copied: it is asked for on every error. Safe from any thread.
const std::shared_ptr<spdlog::logger>& error_log();

// Logs "<what happened> (<method> <path>)" at error level, followed by ": " and
// the exception's what() when `error` is set: every line about an app's
// failure names the request it failed on.
void log_app_error(std::string_view what_happened, std::string_view method, std::string_view path,
                   std::exception_ptr error = nullptr);

}  // namespace csgi
