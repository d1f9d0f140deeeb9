// Where gateway code reports an app's error (spec/sync.md and spec/async.md,
// "Error Handling"): the "csgi.error" logger that the servers configure.
// Internal to gateway/: apps and servers log through their own loggers.
#pragma once

#include <exception>
#include <string_view>

namespace csgi::detail {

// Logs "<context> (<method> <path>): <what() of error>" at error level to
// "csgi.error". Before a server has set that logger up, one writing to stderr
// is registered under the name, and the server's set-up configures it later.
// Safe from any thread.
void log_app_error(std::string_view context, std::string_view method, std::string_view path,
                   std::exception_ptr error);

}  // namespace csgi::detail
