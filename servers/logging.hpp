// The two loggers every server writes to: "csgi.error" for what happens to the
// server and the app (gateway/error_log.hpp), "csgi.access" for one line per
// response.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "gateway/error_log.hpp"

namespace csgi::servers {

// Creates (once) or reconfigures both loggers; `level` is one of
// trace|debug|info|warning|error|critical. Lines go to stderr.
void setup_logging(const std::string& level, bool access_log);

// Referred to, not copied: it is asked for on every request. The error log
// is gateway/error_log.hpp's error_log(), shared with the adapters.
const std::shared_ptr<spdlog::logger>& access_log();

// Whether log_access writes anything: a caller may skip building its line.
bool access_log_enabled();
// Writes `127.0.0.1:54321 - "GET /api/?x=1 HTTP/1.1" 200` when access logging is on.
void log_access(std::string_view client, std::string_view method, std::string_view raw_path,
                std::string_view query_string, std::string_view http_version, int status);

// The lines every server kind logs at the same moments of its life, worded
// once, as uvicorn words them.
void log_server_process_started();                // "Started server process [pid]"
void log_running_on(std::string_view url);        // "csgi running on URL (Press CTRL+C to quit)"
void log_shutting_down();                         // "Shutting down"
void log_waiting_for_connections();               // graceful shutdown waits for them
void log_cancelling_connections(std::size_t count);  // graceful shutdown timed out
void log_server_process_finished();               // "Finished server process [pid]"
// Building the server's form of the app `name` threw `error`.
void log_app_load_failed(std::string_view name, std::exception_ptr error);

// True when `error` holds an exception of type E (or derived from it).
template <class E>
bool holds_exception(std::exception_ptr error) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace csgi::servers
