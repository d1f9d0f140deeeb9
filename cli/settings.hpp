// The settings table: every server setting declared once, with its flag name,
// CSGI_* environment variable, value type, default, help text and the
// servers::Config member it sets. The command line (cli/command_line.cpp), the
// environment lookup and `csgi serve --help` are all generated from it, so a new
// Config field needs one line here and nothing elsewhere.
//
// Precedence, per setting: the flag > its CSGI_* variable > an optional
// fallback variable (WEB_CONCURRENCY for --workers) > the default in Config.
// Durations are seconds as decimal numbers ("2.5"), stored as milliseconds.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "servers/config.hpp"

namespace csgi::cli {

// A value that does not parse for its setting. what() names the source
// ("--port" or "CSGI_PORT") and says what was expected.
class SettingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Looks up one environment variable; nullopt when it is not set. Passed
// explicitly so tests need not touch the process environment.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment (getenv).
Environment process_environment();

struct Setting {
  std::string name;          // "timeout-keep-alive": the flag without dashes
  std::string section;       // heading it is listed under in --help
  std::string value_name;    // "SECONDS", "INT", "loop|threaded"; empty for an on/off flag
  std::string help;          // one sentence, without the default or the variable
  std::string fallback_env;  // consulted after env_name(); empty for none
  // Parses `text` into the member of `config`; throws SettingError naming `source`.
  std::function<void(servers::Config& config, std::string_view text, std::string_view source)>
      assign;
  // The member's value as its flag would spell it ("5", "loop", "none").
  std::function<std::string(const servers::Config& config)> format;
  // The address of the member inside `config`: which field this setting sets.
  std::function<const void*(const servers::Config& config)> member;

  bool is_switch() const { return value_name.empty(); }
  std::string flag() const;      // "--timeout-keep-alive"
  std::string env_name() const;  // "CSGI_TIMEOUT_KEEP_ALIVE"
  // The help line shown by --help: help, default and variables.
  std::string help_text() const;

  // Sets the member from `flag_value` when the flag was given, else from the
  // environment, else leaves `config` as it is (the default).
  void apply(servers::Config& config, const std::optional<std::string>& flag_value,
             const Environment& env) const;
};

// The whole table, in the order --help lists it.
const std::vector<Setting>& settings();

// The setting whose flag is --`name`, or nullptr.
const Setting* find_setting(std::string_view name);

}  // namespace csgi::cli
