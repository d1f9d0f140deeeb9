#include "cli/settings.hpp"

#include <map>
#include <set>

#include <boost/pfr.hpp>
#include <gtest/gtest.h>

namespace csgi::cli {
namespace {

using namespace std::chrono_literals;
using servers::Config;

Environment environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

const Setting& setting(std::string_view name) {
  const Setting* found = find_setting(name);
  if (!found) throw std::logic_error("no setting " + std::string(name));
  return *found;
}

// Applies one setting the way the command line does.
Config resolve(std::string_view name, std::optional<std::string> flag,
             std::map<std::string, std::string> env = {}) {
  Config config;
  setting(name).apply(config, flag, environment(std::move(env)));
  return config;
}

TEST(Settings, FlagAndVariableNamesComeFromTheSettingName) {
  EXPECT_EQ(setting("timeout-keep-alive").flag(), "--timeout-keep-alive");
  EXPECT_EQ(setting("timeout-keep-alive").env_name(), "CSGI_TIMEOUT_KEEP_ALIVE");
  EXPECT_EQ(setting("port").env_name(), "CSGI_PORT");
}

TEST(Settings, DefaultWhenNeitherFlagNorVariableIsGiven) {
  EXPECT_EQ(resolve("port", std::nullopt).port, Config{}.port);
  EXPECT_EQ(resolve("backlog", std::nullopt).backlog, 4096);
  EXPECT_EQ(resolve("timeout-keep-alive", std::nullopt).timeout_keep_alive, 5s);
}

TEST(Settings, VariableOverridesDefault) {
  EXPECT_EQ(resolve("port", std::nullopt, {{"CSGI_PORT", "9001"}}).port, 9001);
}

TEST(Settings, FlagOverridesVariable) {
  EXPECT_EQ(resolve("port", "9002", {{"CSGI_PORT", "9001"}}).port, 9002);
}

TEST(Settings, EmptyVariableCountsAsUnset) {
  EXPECT_EQ(resolve("port", std::nullopt, {{"CSGI_PORT", ""}}).port, Config{}.port);
}

TEST(Settings, WorkersFallBackToWebConcurrencyAfterTheirOwnVariable) {
  EXPECT_EQ(resolve("workers", std::nullopt).workers, 1u);
  EXPECT_EQ(resolve("workers", std::nullopt, {{"WEB_CONCURRENCY", "4"}}).workers, 4u);
  EXPECT_EQ(resolve("workers", std::nullopt, {{"WEB_CONCURRENCY", "4"}, {"CSGI_WORKERS", "3"}})
                .workers,
            3u);
  EXPECT_EQ(resolve("workers", "2", {{"WEB_CONCURRENCY", "4"}, {"CSGI_WORKERS", "3"}}).workers, 2u);
}

TEST(Settings, DurationsAreSecondsAsDecimals) {
  EXPECT_EQ(resolve("timeout-keep-alive", "2.5").timeout_keep_alive, 2500ms);
  EXPECT_EQ(resolve("timeout-graceful-shutdown", "0").timeout_graceful_shutdown, 0ms);
  EXPECT_EQ(resolve("timeout-request-head", "0.001").timeout_request_head, 1ms);
  EXPECT_THROW(resolve("timeout-keep-alive", "-1"), SettingError);
  EXPECT_THROW(resolve("timeout-keep-alive", "5s"), SettingError);
}

TEST(Settings, OptionalLimitsAcceptNone) {
  EXPECT_EQ(resolve("limit-concurrency", "100").limit_concurrency, 100u);
  EXPECT_FALSE(resolve("limit-concurrency", "none").limit_concurrency.has_value());
  EXPECT_EQ(resolve("limit-request-body", "1048576").limit_request_body, 1048576u);
}

TEST(Settings, ChoicesAreChecked) {
  EXPECT_EQ(resolve("server", "threaded").server, servers::ServerKind::threaded);
  EXPECT_EQ(resolve("lifespan", "off").lifespan, servers::LifespanMode::off);
  EXPECT_EQ(resolve("log-level", "debug").log_level, "debug");
  EXPECT_THROW(resolve("server", "forking"), SettingError);
  EXPECT_THROW(resolve("log-level", "verbose"), SettingError);
}

TEST(Settings, SwitchesTakeBooleanWords) {
  EXPECT_FALSE(resolve("access-log", std::nullopt, {{"CSGI_ACCESS_LOG", "0"}}).access_log);
  EXPECT_FALSE(resolve("access-log", "off").access_log);
  EXPECT_TRUE(resolve("supervise", "yes").supervise);
  EXPECT_THROW(resolve("access-log", "maybe"), SettingError);
}

TEST(Settings, IntegersAreRangeChecked) {
  EXPECT_THROW(resolve("port", "65536"), SettingError);
  EXPECT_THROW(resolve("port", "-1"), SettingError);
  EXPECT_THROW(resolve("threads", "0"), SettingError);
  EXPECT_THROW(resolve("workers", "two"), SettingError);
  EXPECT_EQ(resolve("fd", "3").fd, 3);
}

TEST(Settings, ErrorNamesWhereTheValueCameFrom) {
  try {
    resolve("port", std::nullopt, {{"CSGI_PORT", "http"}});
    FAIL() << "no error";
  } catch (const SettingError& error) {
    EXPECT_NE(std::string(error.what()).find("CSGI_PORT: 'http'"), std::string::npos)
        << error.what();
  }
  try {
    resolve("port", "http");
    FAIL() << "no error";
  } catch (const SettingError& error) {
    EXPECT_NE(std::string(error.what()).find("--port: 'http'"), std::string::npos)
        << error.what();
  }
}

TEST(Settings, EveryDefaultFormatsToTextItsOwnParserAccepts) {
  for (const Setting& s : settings()) {
    Config config;
    std::string text = s.format(config);
    ASSERT_NO_THROW(s.assign(config, text, s.flag())) << s.name << " = " << text;
    EXPECT_EQ(s.format(config), text) << s.name;
  }
}

TEST(Settings, HelpTextStatesDefaultAndVariables) {
  EXPECT_NE(setting("backlog").help_text().find("[default: 4096] [env: CSGI_BACKLOG]"),
            std::string::npos);
  EXPECT_NE(setting("timeout-keep-alive").help_text().find("[default: 5]"), std::string::npos);
  EXPECT_NE(setting("workers").help_text().find("CSGI_WORKERS, then WEB_CONCURRENCY"),
            std::string::npos);
}

TEST(Settings, NamesAreUnique) {
  std::set<std::string> names;
  for (const Setting& s : settings()) EXPECT_TRUE(names.insert(s.name).second) << s.name;
}

TEST(Settings, EveryConfigFieldHasExactlyOneSetting) {
  const Config config;
  std::size_t field_index = 0;
  boost::pfr::for_each_field(config, [&](const auto& field) {
    std::size_t covering = 0;
    for (const Setting& s : settings()) covering += s.member(config) == &field ? 1 : 0;
    EXPECT_EQ(covering, 1u) << "Config field " << field_index
                            << " (in declaration order) has no setting in cli/settings.cpp";
    ++field_index;
  });
}

}  // namespace
}  // namespace csgi::cli
