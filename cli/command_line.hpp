// The `csgi` command line: `csgi serve APP [settings]`, `csgi apps`,
// `csgi scenario` (scenario/scenario.hpp), `csgi --version`, and the help of each; and the same settings for a program
// that embeds a server (run_embedded). Flags come from the settings table
// (cli/settings.hpp); APP is loaded by apps/loader.hpp.
#pragma once

#include <functional>
#include <iosfwd>
#include <span>

#include "cli/settings.hpp"
#include "gateway/app.hpp"
#include "servers/config.hpp"

namespace csgi::cli {

// Exit codes of the command line, beyond what `serve` itself returns.
inline constexpr int exit_ok = 0;
inline constexpr int exit_app_load_failed = 1;  // a plugin could not be loaded (dlerror says why)
inline constexpr int exit_usage = 2;            // bad flag, bad value, unknown app

// What `csgi serve` hands the resolved settings and the loaded app to:
// servers::serve in the executable, a recorder in tests. Its result is the
// process exit code.
using ServeFunction = std::function<int(const servers::Config&, const Application&)>;

// Runs the command line `args` (args[0] is the program name) and returns the
// process exit code. Output (help, version, the app list) goes to `out`; errors
// and usage messages to `err`. Settings not given as flags are read from `env`.
int run(std::span<const char* const> args, const ServeFunction& serve, const Environment& env,
        std::ostream& out, std::ostream& err);

// The command line of a program that serves `app` itself (cli/embed.hpp): the
// settings of `csgi serve` as flags and variables, without APP, plus --help
// and --version. Same exit codes and streams as run().
int run_embedded(std::span<const char* const> args, const Application& app,
                 const ServeFunction& serve, const Environment& env, std::ostream& out,
                 std::ostream& err);

}  // namespace csgi::cli
