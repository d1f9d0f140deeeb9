#include "gateway/error_log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/common.hpp"

namespace csgi {

const std::shared_ptr<spdlog::logger>& error_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("csgi.error")) return existing;
    return spdlog::stderr_color_mt("csgi.error");
  }();
  return logger;
}

void log_app_error(std::string_view what_happened, std::string_view method, std::string_view path,
                   std::exception_ptr error) {
  if (error)
    error_log()->error("{} ({} {}): {}", what_happened, method, path, exception_message(error));
  else
    error_log()->error("{} ({} {})", what_happened, method, path);
}

}  // namespace csgi
