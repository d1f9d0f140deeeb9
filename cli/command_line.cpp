#include "cli/command_line.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/loader.hpp"
#include "apps/registry.hpp"
#include "gateway/common.hpp"
#include "scenario/report.hpp"
#include "scenario/scenario.hpp"

namespace csgi::cli {
namespace {

// The spec version is the one the scopes carry (csgi::spec_version).
std::string version_line() {
  return "csgi " CSGI_VERSION " (spec " + std::string(spec_version) + ")";
}

// Lists a flag by its names alone ("--access-log, --no-access-log"); CLI11
// would append the value each name stands for ("--no-access-log{false}").
class Formatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* option, bool is_positional) const override {
    if (is_positional || option->get_items_expected_max() != 0) {
      return CLI::Formatter::make_option_name(option, is_positional);
    }
    std::string names;
    auto add = [&](std::string_view dashes, const std::string& name) {
      names += (names.empty() ? "" : ", ") + std::string(dashes) + name;
    };
    for (const std::string& name : option->get_snames()) add("-", name);
    for (const std::string& name : option->get_lnames()) add("--", name);
    return names;
  }
};

// What CLI11 parsed for each setting, kept as text until the table converts it,
// so a flag and an environment variable go through the same parser.
struct ParsedSettings {
  std::vector<std::string> text;       // parallel to settings()
  std::vector<CLI::Option*> options;   // count() > 0: the flag was given
};

void add_setting_options(CLI::App& command, ParsedSettings& parsed) {
  const std::vector<Setting>& table = settings();
  parsed.text.resize(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    const Setting& setting = table[i];
    CLI::Option* option =
        setting.is_switch()
            ? command.add_flag(setting.flag() + ",!--no-" + setting.name,
                               parsed.text[i], setting.help_text())
            : command.add_option(setting.flag(), parsed.text[i], setting.help_text())
                  ->type_name(setting.value_name);
    // The last occurrence wins, so a wrapper script's flags can be overridden.
    option->group(setting.section)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    parsed.options.push_back(option);
  }
}

servers::Config resolve_settings(const ParsedSettings& parsed, const Environment& env) {
  servers::Config config;
  const std::vector<Setting>& table = settings();
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::optional<std::string> flag_value;
    if (parsed.options[i]->count() > 0) flag_value = parsed.text[i];
    table[i].apply(config, flag_value, env);
  }
  return config;
}

void list_apps(std::ostream& out) {
  std::size_t width = 0;
  for (const apps::BuiltinApp& app : apps::builtin_apps()) width = std::max(width, app.name.size());
  out << "Built-in apps (csgi serve NAME):\n";
  for (const apps::BuiltinApp& app : apps::builtin_apps()) {
    out << "  " << std::left << std::setw(static_cast<int>(width)) << app.name << "  "
        << std::setw(5) << apps::to_string(app.interface) << "  " << app.description << '\n';
  }
  out << "Or a plugin: csgi serve path/to/lib.so[:symbol] (see apps/plugin.hpp)\n";
}

// The settings of `parsed` and `env`, or nullopt after reporting the one that
// does not parse.
std::optional<servers::Config> resolve_or_report(const ParsedSettings& parsed,
                                                 const Environment& env, std::string_view command,
                                                 std::ostream& err) {
  try {
    return resolve_settings(parsed, env);
  } catch (const SettingError& error) {
    err << command << ": " << error.what() << '\n';
    return std::nullopt;
  }
}

int serve_app(const std::string& app_spec, const ParsedSettings& parsed, const Environment& env,
              const ServeFunction& serve, std::ostream& err) {
  std::optional<servers::Config> config = resolve_or_report(parsed, env, "csgi serve", err);
  if (!config) return exit_usage;
  if (config->reload && apps::find_builtin_app(app_spec)) {
    err << "csgi serve: --reload watches a plugin file; '" << app_spec
        << "' is a built-in app\n";
    return exit_usage;
  }
  try {
    return serve(*config, apps::load_app(app_spec, {.watch = config->reload}));
  } catch (const apps::UnknownApp& error) {
    err << "csgi serve: " << error.what() << '\n';
    return exit_usage;
  } catch (const apps::AppLoadError& error) {
    err << "csgi serve: " << error.what() << '\n';
    return exit_app_load_failed;
  }
}

// What `csgi scenario` was asked for.
struct ScenarioRequest {
  int sleep_ms = 1000;
  int timeout_ms = 5000;
  bool json = false;
  std::string html;  // a file to write the page to; empty: none
};

void add_scenario_command(CLI::App& app, ScenarioRequest& request) {
  CLI::App* command = app.add_subcommand(
      "scenario", "Reproduce the article's story (an async view calling its own sync view) on "
                  "every server set-up, on free local ports, and check it.");
  command->add_option("--sleep-ms", request.sleep_ms, "How long each /api/ call sleeps.")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  command->add_option("--timeout-ms", request.timeout_ms, "The aggregated views' read timeout.")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  command->add_flag("--json", request.json, "Print the result as JSON instead of text.");
  command->add_option("--html", request.html,
                      "Also write a self-contained HTML page with an SVG timeline to FILE.")
      ->type_name("FILE");
  command->footer("Exit status: 0 when every row behaves as the story says, 1 otherwise.");
}

int run_scenario_command(const ScenarioRequest& request, std::ostream& out, std::ostream& err) {
  scenario::Options options;
  options.sleep = std::chrono::milliseconds(request.sleep_ms);
  options.timeout = std::chrono::milliseconds(request.timeout_ms);
  scenario::Report report;
  try {
    report = scenario::run_scenario(options);
  } catch (const std::exception& error) {
    err << "csgi scenario: " << error.what() << '\n';
    return 1;
  }
  if (request.json)
    out << scenario::to_json(report) << '\n';
  else
    scenario::write_text(out, report);
  if (!request.html.empty()) {
    std::ofstream page(request.html);
    scenario::write_html(page, report);
    if (!page) {
      err << "csgi scenario: could not write " << request.html << '\n';
      return 1;
    }
  }
  return report.as_expected ? exit_ok : 1;
}

// Parses `args` for `command`; returns the exit code when that ends the run
// (help, version, a bad flag), nullopt when there is something to do.
std::optional<int> parse(CLI::App& command, std::span<const char* const> args, std::ostream& out,
                         std::ostream& err) {
  try {
    command.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return command.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return command.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return command.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    command.exit(e, out, err);
    return exit_usage;
  }
  return std::nullopt;
}

}  // namespace

int run(std::span<const char* const> args, const ServeFunction& serve, const Environment& env,
        std::ostream& out, std::ostream& err) {
  CLI::App app{"csgi: serve C++ web apps written against the csgi interfaces.", "csgi"};
  app.formatter(std::make_shared<Formatter>());
  app.set_version_flag("--version", version_line());
  app.require_subcommand(1);

  CLI::App* serve_command = app.add_subcommand("serve", "Serve APP until TERM or INT.");
  std::string app_spec;
  serve_command->add_option("APP", app_spec, "A built-in app (see `csgi apps`) or a plugin "
                                             "path/to/lib.so[:symbol].")
      ->required();
  ParsedSettings parsed;
  add_setting_options(*serve_command, parsed);
  serve_command->footer(
      "Each setting can also come from its environment variable; a flag wins over the "
      "variable, the variable over the default. Durations are in seconds.\n"
      "Exit status: 0 stopped cleanly; 1 failed (could not listen, plugin not loaded, "
      "...); 2 bad usage; 3 lifespan startup failed; 4 the app could not be built.");

  app.add_subcommand("apps", "List the built-in apps.");
  ScenarioRequest scenario_request;
  add_scenario_command(app, scenario_request);

  if (std::optional<int> done = parse(app, args, out, err)) return *done;

  if (app.got_subcommand("apps")) {
    list_apps(out);
    return exit_ok;
  }
  if (app.got_subcommand("scenario")) return run_scenario_command(scenario_request, out, err);
  return serve_app(app_spec, parsed, env, serve, err);
}

int run_embedded(std::span<const char* const> args, const Application& app,
                 const ServeFunction& serve, const Environment& env, std::ostream& out,
                 std::ostream& err) {
  std::string program =
      args.empty() ? "server" : std::filesystem::path(args.front()).filename().string();
  CLI::App command{"Serves " + (app.name.empty() ? program : app.name) + " until TERM or INT.",
                   program};
  command.formatter(std::make_shared<Formatter>());
  command.set_version_flag("--version", version_line());
  ParsedSettings parsed;
  add_setting_options(command, parsed);
  command.footer("Each setting can also come from its environment variable; a flag wins over "
                 "the variable, the variable over the default. Durations are in seconds.");

  if (std::optional<int> done = parse(command, args, out, err)) return *done;
  std::optional<servers::Config> config = resolve_or_report(parsed, env, program, err);
  return config ? serve(*config, app) : exit_usage;
}

}  // namespace csgi::cli
