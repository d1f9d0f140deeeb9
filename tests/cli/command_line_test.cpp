#include "cli/command_line.hpp"

#include <map>
#include <sstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/common.hpp"

namespace csgi::cli {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs the command line in-process with a serve() that records what it got.
struct Invocation {
  std::map<std::string, std::string> env;
  int serve_result = 0;

  int exit_code = -1;
  std::string out, err;
  std::optional<servers::Config> config;
  std::string app_name;

  Invocation& operator()(std::vector<const char*> args) {
    args.insert(args.begin(), "csgi");
    std::ostringstream out_stream, err_stream;
    auto serve = [this](const servers::Config& c, const Application& app) {
      config = c;
      app_name = app.name;
      return serve_result;
    };
    auto lookup = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      return it == env.end() ? std::nullopt : std::optional(it->second);
    };
    exit_code = run(args, serve, lookup, out_stream, err_stream);
    out = out_stream.str();
    err = err_stream.str();
    return *this;
  }
};

TEST(CommandLine, VersionPrintsVersionAndSpec) {
  Invocation run;
  run({"--version"});
  EXPECT_EQ(run.exit_code, 0);
  // The spec version is the one every scope carries.
  EXPECT_EQ(run.out, "csgi " CSGI_VERSION " (spec " + std::string(spec_version) + ")\n");
}

TEST(CommandLine, ServeLoadsTheAppAndPassesResolvedSettings) {
  Invocation run;
  run.env = {{"CSGI_HOST", "0.0.0.0"}, {"CSGI_PORT", "9000"}};
  run({"serve", "hello", "--port", "0", "--timeout-keep-alive", "0.5", "--no-access-log"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(run.config);
  EXPECT_EQ(run.app_name, "hello");
  EXPECT_EQ(run.config->host, "0.0.0.0");  // from the environment
  EXPECT_EQ(run.config->port, 0);          // the flag beats CSGI_PORT
  EXPECT_EQ(run.config->timeout_keep_alive, 500ms);
  EXPECT_FALSE(run.config->access_log);
  EXPECT_EQ(run.config->backlog, 4096);    // default
}

TEST(CommandLine, SwitchFlagBeatsVariableBothWays) {
  Invocation run;
  run.env = {{"CSGI_ACCESS_LOG", "false"}};
  run({"serve", "hello"});
  EXPECT_FALSE(run.config->access_log);
  run({"serve", "hello", "--access-log"});
  EXPECT_TRUE(run.config->access_log);
}

TEST(CommandLine, LastOccurrenceOfAFlagWins) {
  Invocation run;
  run({"serve", "hello", "--threads", "2", "--threads", "8"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.config->threads, 8u);
}

TEST(CommandLine, ServeReturnsWhatTheServerReturns) {
  Invocation run;
  run.serve_result = 3;
  run({"serve", "hello-sync"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.app_name, "hello-sync");
}

TEST(CommandLine, UnknownAppIsAUsageErrorListingTheBuiltinApps) {
  Invocation run;
  run({"serve", "helo"});
  EXPECT_EQ(run.exit_code, exit_usage);
  EXPECT_FALSE(run.config);
  EXPECT_THAT(run.err, HasSubstr("unknown app 'helo'"));
  EXPECT_THAT(run.err, HasSubstr("hello, hello-sync, echo"));
}

TEST(CommandLine, PluginThatCannotBeLoadedExitsOneWithTheReason) {
  Invocation run;
  run({"serve", "/nonexistent/libmissing.so"});
  EXPECT_EQ(run.exit_code, exit_app_load_failed);
  EXPECT_THAT(run.err, HasSubstr("/nonexistent/libmissing.so"));
  EXPECT_THAT(run.err, HasSubstr("No such file"));
}

TEST(CommandLine, ReloadOfABuiltinAppIsAUsageError) {
  Invocation run;
  run({"serve", "hello", "--reload"});
  EXPECT_EQ(run.exit_code, exit_usage);
  EXPECT_FALSE(run.config);
  EXPECT_THAT(run.err, HasSubstr("--reload watches a plugin file"));
}

TEST(CommandLine, BadValueIsAUsageErrorNamingTheFlag) {
  Invocation run;
  run({"serve", "hello", "--port", "eighty"});
  EXPECT_EQ(run.exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("--port: 'eighty'"));
  EXPECT_FALSE(run.config);
}

TEST(CommandLine, BadVariableIsAUsageErrorNamingTheVariable) {
  Invocation run;
  run.env = {{"CSGI_LIFESPAN", "sometimes"}};
  run({"serve", "hello"});
  EXPECT_EQ(run.exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("CSGI_LIFESPAN: 'sometimes' is not one of auto|on|off"));
}

TEST(CommandLine, UnknownFlagIsAUsageError) {
  Invocation run;
  run({"serve", "hello", "--prot", "80"});
  EXPECT_EQ(run.exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("--prot"));
}

TEST(CommandLine, MissingCommandOrAppIsAUsageError) {
  Invocation run;
  EXPECT_EQ(run({}).exit_code, exit_usage);
  EXPECT_EQ(run({"serve"}).exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("APP"));
}

TEST(CommandLine, ScenarioSleepOrTimeoutOutOfRangeIsAUsageError) {
  Invocation run;
  EXPECT_EQ(run({"scenario", "--sleep-ms", "0"}).exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("--sleep-ms"));
  EXPECT_EQ(run({"scenario", "--timeout-ms", "-5"}).exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("--timeout-ms"));
}

TEST(CommandLine, ScenarioHelpNamesItsOptionsAndExitStatus) {
  Invocation run;
  run({"scenario", "--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* option : {"--sleep-ms", "--timeout-ms", "--json", "--html"})
    EXPECT_THAT(run.out, HasSubstr(option));
  EXPECT_THAT(run.out, HasSubstr("Exit status: 0 when every row behaves as the story says"));
}

TEST(CommandLine, AppsListsEachBuiltinAppWithItsInterface) {
  Invocation run;
  run({"apps"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("hello         async  "));
  EXPECT_THAT(run.out, HasSubstr("hello-sync    sync   "));
  EXPECT_THAT(run.out, HasSubstr("echo          async  "));
  EXPECT_THAT(run.out, HasSubstr("mysite        mixed  "));
  EXPECT_THAT(run.out, HasSubstr("lib.so[:symbol]"));
}

TEST(CommandLine, ServeHelpIsGeneratedFromTheSettingsTable) {
  Invocation run;
  run({"serve", "--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_FALSE(run.config);
  for (const Setting& setting : settings()) {
    EXPECT_THAT(run.out, HasSubstr(setting.flag())) << setting.name;
    EXPECT_THAT(run.out, HasSubstr(setting.help_text())) << setting.name;
  }
  EXPECT_THAT(run.out, HasSubstr("--no-access-log"));
  EXPECT_THAT(run.out, HasSubstr("Timeouts"));
}

// A program serving its own app (cli/embed.hpp) with the settings of `csgi serve`.
struct EmbeddedInvocation {
  int exit_code = -1;
  std::string out, err;
  std::optional<servers::Config> config;
  std::string app_name;

  EmbeddedInvocation& operator()(std::vector<const char*> args) {
    args.insert(args.begin(), "/opt/bin/myserver");
    std::ostringstream out_stream, err_stream;
    auto serve = [this](const servers::Config& c, const Application& app) {
      config = c;
      app_name = app.name;
      return 0;
    };
    auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    Application app = Application::from_sync("mine", {});
    exit_code = run_embedded(args, app, serve, no_env, out_stream, err_stream);
    out = out_stream.str();
    err = err_stream.str();
    return *this;
  }
};

TEST(EmbeddedCommandLine, ServesTheProgramsAppWithTheSettingsOfServe) {
  EmbeddedInvocation run;
  run({"--port", "0", "--server", "threaded", "--threads", "4"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.app_name, "mine");
  EXPECT_EQ(run.config->port, 0);
  EXPECT_EQ(run.config->server, servers::ServerKind::threaded);
  EXPECT_EQ(run.config->thread_count(), 4u);
}

TEST(EmbeddedCommandLine, HelpNamesTheProgramAndListsEverySetting) {
  EmbeddedInvocation run;
  run({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("myserver"));
  for (const Setting& setting : settings()) EXPECT_THAT(run.out, HasSubstr(setting.flag()));
  EXPECT_FALSE(run.config);
}

TEST(EmbeddedCommandLine, AnAppArgumentOrABadValueIsAUsageError) {
  EmbeddedInvocation run;
  run({"hello"});
  EXPECT_EQ(run.exit_code, exit_usage);
  run({"--port", "http"});
  EXPECT_EQ(run.exit_code, exit_usage);
  EXPECT_THAT(run.err, HasSubstr("myserver: "));
  EXPECT_FALSE(run.config);
}

}  // namespace
}  // namespace csgi::cli
