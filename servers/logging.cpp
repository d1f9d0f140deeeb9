#include "servers/logging.hpp"

#include <unistd.h>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/common.hpp"

namespace csgi::servers {

namespace {

void set_pattern(spdlog::logger& logger);

std::shared_ptr<spdlog::logger> make_logger(const char* name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  set_pattern(*logger);
  return logger;
}

// uvicorn prints "INFO:     message": the level in capitals, a colon, and padding
// to a fixed column. `%*` in the pattern below is that prefix.
class LevelPrefixFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view names[] = {"TRACE:    ", "DEBUG:    ", "INFO:     ",
                                                 "WARNING:  ", "ERROR:    ", "CRITICAL: ", ""};
    auto name = names[static_cast<int>(msg.level)];
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelPrefixFlag>();
  }
};

void set_pattern(spdlog::logger& logger) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LevelPrefixFlag>('*').set_pattern("%^%*%$%v");
  logger.set_formatter(std::move(formatter));
}

bool access_enabled = true;

}  // namespace

void setup_logging(const std::string& level, bool access_log_on) {
  auto parsed = spdlog::level::from_str(level == "warning" ? "warn" : level);
  for (const auto& logger : {error_log(), access_log()}) {
    set_pattern(*logger);
    logger->set_level(parsed);
    logger->flush_on(spdlog::level::info);
  }
  access_enabled = access_log_on;
}

const std::shared_ptr<spdlog::logger>& access_log() {
  static const auto logger = make_logger("csgi.access");
  return logger;
}

bool access_log_enabled() { return access_enabled && access_log()->should_log(spdlog::level::info); }

void log_access(std::string_view client, std::string_view method, std::string_view raw_path,
                std::string_view query_string, std::string_view http_version, int status) {
  if (!access_log_enabled()) return;
  auto& logger = *access_log();
  if (query_string.empty())
    logger.info("{} - \"{} {} HTTP/{}\" {}", client, method, raw_path, http_version, status);
  else
    logger.info("{} - \"{} {}?{} HTTP/{}\" {}", client, method, raw_path, query_string,
                http_version, status);
}

void log_server_process_started() { error_log()->info("Started server process [{}]", ::getpid()); }

void log_running_on(std::string_view url) {
  error_log()->info("csgi running on {} (Press CTRL+C to quit)", url);
}

void log_shutting_down() { error_log()->info("Shutting down"); }

void log_waiting_for_connections() {
  error_log()->info("Waiting for connections to close. (CTRL+C to force quit)");
}

void log_cancelling_connections(std::size_t count) {
  error_log()->warn("Cancel {} running connection(s), timeout graceful shutdown exceeded", count);
}

void log_server_process_finished() { error_log()->info("Finished server process [{}]", ::getpid()); }

void log_app_load_failed(std::string_view name, std::exception_ptr error) {
  error_log()->error("Error loading the app {}: {}", name, exception_message(error));
}

}  // namespace csgi::servers
