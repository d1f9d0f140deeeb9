// The two loggers every server writes to: "csgi.error" for what happens to the
// server and the app, "csgi.access" for one line per response.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace csgi::servers {

// Creates (once) or reconfigures both loggers; `level` is one of
// trace|debug|info|warning|error|critical. Lines go to stderr.
void setup_logging(const std::string& level, bool access_log);

std::shared_ptr<spdlog::logger> error_log();
std::shared_ptr<spdlog::logger> access_log();

// Writes `127.0.0.1:54321 - "GET /api/?x=1 HTTP/1.1" 200` when access logging is on.
void log_access(std::string_view client, std::string_view method, std::string_view raw_path,
                std::string_view query_string, std::string_view http_version, int status);

// The message of an exception for log lines ("unknown exception" when it is
// not a std::exception).
std::string describe_exception(std::exception_ptr error);

}  // namespace csgi::servers
