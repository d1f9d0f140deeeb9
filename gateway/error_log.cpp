#include "gateway/error_log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/common.hpp"

namespace csgi::detail {

namespace {

std::shared_ptr<spdlog::logger> error_logger() {
  if (auto logger = spdlog::get("csgi.error")) return logger;
  try {
    return spdlog::stderr_color_mt("csgi.error");
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get("csgi.error");  // another thread registered it first
  }
}

}  // namespace

void log_app_error(std::string_view context, std::string_view method, std::string_view path,
                   std::exception_ptr error) {
  error_logger()->error("{} ({} {}): {}", context, method, path, exception_message(error));
}

}  // namespace csgi::detail
