#include "cli/settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "runtime/ascii.hpp"

namespace csgi::cli {
namespace {

using servers::Config;
using servers::LifespanMode;
using servers::ServerKind;
using servers::WsMode;
using namespace std::string_view_literals;

[[noreturn]] void reject(std::string_view source, std::string_view text, std::string_view expected) {
  throw SettingError(std::string(source) + ": '" + std::string(text) + "' is not " +
                     std::string(expected));
}

std::string join(const std::vector<std::string_view>& words, std::string_view separator) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

// ---- codecs: text <-> the type of a Config member ---------------------------

template <class T>
struct Codec;

template <>
struct Codec<std::string> {
  static std::string value_name() { return "TEXT"; }
  static std::string parse(std::string_view text, std::string_view) { return std::string(text); }
  static std::string format(const std::string& value) { return value; }
};

template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
struct Codec<T> {
  static std::string value_name() { return "INT"; }
  static T parse(std::string_view text, std::string_view source) {
    T value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
      reject(source, text,
             "an integer from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
                 std::to_string(std::numeric_limits<T>::max()));
    }
    return value;
  }
  static std::string format(T value) { return std::to_string(value); }
};

template <>
struct Codec<bool> {
  static std::string value_name() { return ""; }
  static bool parse(std::string_view text, std::string_view source) {
    std::string lower = ascii::to_lower(std::string(text));
    for (std::string_view yes : {"1"sv, "true"sv, "yes"sv, "on"sv}) {
      if (lower == yes) return true;
    }
    for (std::string_view no : {"0"sv, "false"sv, "no"sv, "off"sv}) {
      if (lower == no) return false;
    }
    reject(source, text, "a boolean (true/false, 1/0, yes/no, on/off)");
  }
  static std::string format(bool value) { return value ? "true" : "false"; }
};

// Durations are given in seconds, as uvicorn takes them, and kept in milliseconds.
template <>
struct Codec<std::chrono::milliseconds> {
  static std::string value_name() { return "SECONDS"; }
  static std::chrono::milliseconds parse(std::string_view text, std::string_view source) {
    double seconds = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    // The upper bound keeps the conversion to an integer count defined.
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(seconds) ||
        seconds < 0 || seconds > 1e9) {
      reject(source, text, "a number of seconds (0 or more, e.g. 2.5)");
    }
    return std::chrono::milliseconds(std::llround(seconds * 1000));
  }
  static std::string format(std::chrono::milliseconds value) {
    char buffer[32];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value.count() / 1000.0);
    return std::string(buffer, end);
  }
};

// The trusted proxies: addresses, networks, "unix" and "*", comma-separated.
template <>
struct Codec<ForwardedAllow> {
  static std::string value_name() { return "ADDRESSES"; }
  static ForwardedAllow parse(std::string_view text, std::string_view source) {
    try {
      return ForwardedAllow::parse(text);
    } catch (const std::invalid_argument& e) {
      reject(source, text, "a list of trusted proxies: " + std::string(e.what()));
    }
  }
  static std::string format(const ForwardedAllow& value) { return value.text(); }
};

// An optional limit: "none" (or an empty value) means no limit.
template <class T>
struct Codec<std::optional<T>> {
  static std::string value_name() { return Codec<T>::value_name(); }
  static std::optional<T> parse(std::string_view text, std::string_view source) {
    if (text.empty() || text == "none") return std::nullopt;
    return Codec<T>::parse(text, source);
  }
  static std::string format(const std::optional<T>& value) {
    return value ? Codec<T>::format(*value) : "none";
  }
};

// Enumerations: one name per value, the names forming the flag's choices.
template <class E>
struct Names;

template <>
struct Names<ServerKind> {
  static constexpr std::array values{std::pair{"loop"sv, ServerKind::loop},
                                     std::pair{"threaded"sv, ServerKind::threaded}};
};

template <>
struct Names<LifespanMode> {
  static constexpr std::array values{std::pair{"auto"sv, LifespanMode::auto_},
                                     std::pair{"on"sv, LifespanMode::on},
                                     std::pair{"off"sv, LifespanMode::off}};
};

template <>
struct Names<WsMode> {
  static constexpr std::array values{std::pair{"auto"sv, WsMode::auto_}, std::pair{"none"sv, WsMode::none}};
};

template <class E>
  requires std::is_enum_v<E>
struct Codec<E> {
  static std::string value_name() {
    std::vector<std::string_view> names;
    for (const auto& [name, value] : Names<E>::values) names.push_back(name);
    return join(names, "|");
  }
  static E parse(std::string_view text, std::string_view source) {
    for (const auto& [name, value] : Names<E>::values) {
      if (name == text) return value;
    }
    reject(source, text, "one of " + value_name());
  }
  static std::string format(E value) {
    for (const auto& [name, candidate] : Names<E>::values) {
      if (candidate == value) return std::string(name);
    }
    return "?";
  }
};

// ---- declaring a setting ------------------------------------------------------

struct Extra {
  std::string_view value_name = {};            // overrides the type's ("PATH")
  std::string_view fallback_env = {};          // read after CSGI_*
  std::vector<std::string_view> choices = {};  // allowed spellings of a text setting
  long long minimum = std::numeric_limits<long long>::min();  // integer settings
};

template <class T>
void check_minimum(const T& value, long long minimum, std::string_view source,
                   std::string_view text) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (std::cmp_less(value, minimum)) reject(source, text, "at least " + std::to_string(minimum));
  } else if constexpr (requires { value.has_value(); }) {
    if (value) check_minimum(*value, minimum, source, text);
  }
}

template <class T>
Setting field(std::string name, T Config::*member, std::string section, std::string help,
              Extra extra = {}) {
  using C = Codec<T>;
  Setting setting;
  setting.name = std::move(name);
  setting.section = std::move(section);
  setting.help = std::move(help);
  setting.fallback_env = std::string(extra.fallback_env);
  setting.value_name = !extra.value_name.empty() ? std::string(extra.value_name)
                       : !extra.choices.empty()  ? join(extra.choices, "|")
                                                 : C::value_name();
  setting.assign = [member, extra](Config& config, std::string_view text, std::string_view source) {
    if (!extra.choices.empty() &&
        std::find(extra.choices.begin(), extra.choices.end(), text) == extra.choices.end()) {
      reject(source, text, "one of " + join(extra.choices, "|"));
    }
    T value = C::parse(text, source);
    check_minimum(value, extra.minimum, source, text);
    config.*member = std::move(value);
  };
  setting.format = [member](const Config& config) { return C::format(config.*member); };
  setting.member = [member](const Config& config) -> const void* { return &(config.*member); };
  return setting;
}

std::vector<Setting> make_table() {
  const std::string bind = "Binding", server = "Server", timeouts = "Timeouts",
                    limits = "Limits", logging = "Logging", proxies = "Proxies",
                    websocket = "WebSocket";
  return {
      field("host", &Config::host, bind, "Bind the socket to this host.", {.value_name = "HOST"}),
      field("port", &Config::port, bind, "Bind the socket to this port; 0 picks a free one."),
      field("uds", &Config::uds, bind, "Bind to this Unix domain socket instead of TCP.",
            {.value_name = "PATH"}),
      field("fd", &Config::fd, bind,
            "Serve on this already-listening socket (inherited file descriptor) instead.",
            {.minimum = -1}),
      field("backlog", &Config::backlog, bind,
            "Length of the queue of connections waiting to be accepted.", {.minimum = 1}),
      field("fd-name", &Config::fd_name, bind,
            "Socket activation: serve on the socket systemd passed under this name "
            "(LISTEN_FDNAMES); empty takes the only one.",
            {.value_name = "NAME"}),

      field("server", &Config::server, server,
            "Server kind: one event-loop thread, or one thread per connection."),
      field("threads", &Config::threads, server,
            "Sync-app threads on the loop server (default 1); connection threads on the "
            "threaded server (default 64).",
            {.minimum = 1}),
      field("sync-batch-scheduling", &Config::sync_batch_scheduling, server,
            "Loop server: run the sync-app threads under Linux's SCHED_BATCH, so that waking "
            "one does not preempt the event loop on a shared core (fewer thread switches "
            "per sync request). Threads the app starts from them inherit the policy."),
      field("workers", &Config::workers, server,
            "Worker processes; more than one starts the supervisor.",
            {.fallback_env = "WEB_CONCURRENCY", .minimum = 1}),
      field("supervise", &Config::supervise, server,
            "Run under the supervisor even with one worker (restarts it when it dies)."),
      field("reload", &Config::reload, server,
            "Watch the plugin file and load it again once it has changed and stopped "
            "changing: new requests go to the new build, requests in flight finish on the old "
            "one, and a build that fails to load leaves the old one serving. Every worker "
            "reloads."),
      field("lifespan", &Config::lifespan, server,
            "Lifespan protocol: auto tolerates apps without it, on requires it, off skips it."),
      field("root-path", &Config::root_path, server,
            "Mount point of the app behind a proxy, given to it as root_path.",
            {.value_name = "PATH"}),
      field("server-header", &Config::server_header, server,
            "Value of the Server response header; empty sends none."),

      field("proxy-headers", &Config::proxy_headers, proxies,
            "Take the client and scheme from X-Forwarded-For, X-Forwarded-Proto or Forwarded "
            "when the peer is a trusted proxy."),
      field("forwarded-allow-ips", &Config::forwarded_allow_ips, proxies,
            "Trusted proxies: addresses, CIDR networks, 'unix' for Unix-socket peers, '*' for "
            "all.",
            {.fallback_env = "FORWARDED_ALLOW_IPS"}),
      field("proxy-protocol", &Config::proxy_protocol, proxies,
            "Every connection starts with a PROXY protocol header (v1 or v2) from a trusted "
            "proxy; others are closed."),

      field("timeout-keep-alive", &Config::timeout_keep_alive, timeouts,
            "Close a keep-alive connection idle for this long."),
      field("timeout-request-head", &Config::timeout_request_head, timeouts,
            "Close a connection whose request line and headers take longer than this."),
      field("timeout-graceful-shutdown", &Config::timeout_graceful_shutdown, timeouts,
            "On TERM/INT, wait this long for in-flight requests before cancelling them."),
      field("timeout-worker-healthcheck", &Config::timeout_worker_healthcheck, timeouts,
            "Supervisor: restart a worker silent for this long."),

      field("limit-concurrency", &Config::limit_concurrency, limits,
            "Answer 503 above this many requests in flight (none: no limit).", {.minimum = 1}),
      field("limit-max-requests", &Config::limit_max_requests, limits,
            "Recycle a worker after this many requests (none: never).", {.minimum = 1}),
      field("limit-max-requests-jitter", &Config::limit_max_requests_jitter, limits,
            "Add up to this many requests at random to --limit-max-requests, per worker."),
      field("limit-request-line", &Config::limit_request_line, limits,
            "Longest request line in bytes; longer gets 414.", {.minimum = 1}),
      field("limit-request-head", &Config::limit_request_head, limits,
            "Largest request head (line and headers) in bytes; larger gets 431.", {.minimum = 1}),
      field("limit-request-fields", &Config::limit_request_fields, limits,
            "Most header fields in a request; more gets 431.", {.minimum = 1}),
      field("limit-request-body", &Config::limit_request_body, limits,
            "Largest request body in bytes; larger gets 413 (none: no limit)."),

      field("ws", &Config::ws, websocket,
            "WebSocket: serve handshakes, or pass them to the app as plain HTTP requests."),
      field("ws-max-size", &Config::ws_max_size, websocket,
            "Largest WebSocket message in bytes; larger closes the connection with 1009.",
            {.minimum = 1}),
      field("ws-max-queue", &Config::ws_max_queue, websocket,
            "Received WebSocket messages held for the app; above it, reading stops.",
            {.minimum = 1}),
      field("ws-ping-interval", &Config::ws_ping_interval, websocket,
            "Send a WebSocket ping this often (0: never)."),
      field("ws-ping-timeout", &Config::ws_ping_timeout, websocket,
            "Close a WebSocket whose ping is not answered within this (1011)."),
      field("ws-per-message-deflate", &Config::ws_per_message_deflate, websocket,
            "Accept permessage-deflate compression when a WebSocket client offers it."),

      field("log-level", &Config::log_level, logging, "Lowest level of the error log.",
            {.choices = {"trace", "debug", "info", "warning", "error", "critical"}}),
      field("access-log", &Config::access_log, logging, "Log one line per response."),
  };
}

std::string upper_snake(std::string_view name) {
  std::string out;
  for (char c : name) {
    out += c == '-' ? '_' : ascii::upper(c);
  }
  return out;
}

}  // namespace

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

std::string Setting::flag() const { return "--" + name; }

std::string Setting::env_name() const { return "CSGI_" + upper_snake(name); }

std::string Setting::help_text() const {
  std::string text = help;
  std::string default_value = format(Config{});
  if (!default_value.empty()) text += " [default: " + default_value + "]";
  text += " [env: " + env_name();
  if (!fallback_env.empty()) text += ", then " + fallback_env;
  text += "]";
  return text;
}

void Setting::apply(Config& config, const std::optional<std::string>& flag_value,
                    const Environment& env) const {
  if (flag_value) return assign(config, *flag_value, flag());
  for (const std::string& variable : {env_name(), fallback_env}) {
    if (variable.empty()) continue;
    // An empty variable counts as unset, as in most shells' `VAR= cmd` idiom.
    std::optional<std::string> value = env(variable);
    if (value && !value->empty()) return assign(config, *value, variable);
  }
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = make_table();
  return table;
}

const Setting* find_setting(std::string_view name) {
  for (const Setting& setting : settings()) {
    if (setting.name == name) return &setting;
  }
  return nullptr;
}

}  // namespace csgi::cli
