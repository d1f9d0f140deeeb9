#include "apps/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apps/plugin.hpp"
#include "gateway/testing/client.hpp"

namespace csgi::apps {
namespace {

using ::testing::HasSubstr;

// The body of GET / through the sync form of `app`.
std::string get_body(const Application& app) {
  testing::TestResponse response = testing::Client(app).get("/");
  EXPECT_EQ(response.status, 200);
  return response.body;
}

std::string load_error(std::string_view spec) {
  try {
    load_app(spec);
  } catch (const AppLoadError& error) {
    return error.what();
  }
  return "<loaded>";
}

TEST(LoadApp, BuiltinNameGivesTheBuiltinApp) {
  EXPECT_EQ(load_app("echo").name, "echo");
}

TEST(LoadApp, UnknownNameListsTheBuiltinApps) {
  try {
    load_app("hullo");
    FAIL() << "loaded";
  } catch (const UnknownApp& error) {
    EXPECT_THAT(error.what(), HasSubstr("unknown app 'hullo'"));
    EXPECT_THAT(error.what(), HasSubstr("hello, hello-sync, echo"));
  }
}

TEST(LoadApp, PathsAndSharedObjectsArePlugins) {
  EXPECT_TRUE(is_plugin_spec("./lib.so"));
  EXPECT_TRUE(is_plugin_spec("lib.so"));
  EXPECT_TRUE(is_plugin_spec("lib.so:make_app"));
  EXPECT_TRUE(is_plugin_spec("build/libx"));
  EXPECT_FALSE(is_plugin_spec("hello"));
}

TEST(LoadApp, PluginDefaultEntryPointGivesItsApp) {
  Application app = load_app(CSGI_GREETING_PLUGIN);
  EXPECT_EQ(app.name, "greeting");
  EXPECT_EQ(get_body(app), "Hello from a plugin!\n");
}

TEST(LoadApp, PluginNamedEntryPointGivesThatApp) {
  Application app = load_app(CSGI_GREETING_PLUGIN ":csgi_greeting_async");
  EXPECT_EQ(app.name, "greeting-async");
  EXPECT_EQ(get_body(app), "Hello from a plugin!\n");
}

TEST(LoadApp, MissingPluginFileSaysWhy) {
  std::string error = load_error("/nonexistent/libnothing.so");
  EXPECT_THAT(error, HasSubstr("cannot load plugin"));
  EXPECT_THAT(error, HasSubstr("/nonexistent/libnothing.so"));
}

TEST(LoadApp, MissingEntryPointSaysWhichAndHowToDeclareIt) {
  std::string error = load_error(CSGI_GREETING_PLUGIN ":no_such_entry");
  EXPECT_THAT(error, HasSubstr("no entry point 'no_such_entry'"));
  EXPECT_THAT(error, HasSubstr("CSGI_PLUGIN"));
}

TEST(LoadApp, PluginOfAnotherAbiIsRefusedInOneLineNamingBothReleases) {
  std::string error = load_error(CSGI_OTHER_RELEASE_PLUGIN ":csgi_other_release");
  std::string host = "csgi " + std::string(csgi::release);
  EXPECT_THAT(error, HasSubstr("built against " + host + " (plugin ABI " +
                               std::to_string(plugin::abi_version + 1) + ")"));
  EXPECT_THAT(error, HasSubstr("but this is " + host + " (plugin ABI " +
                               std::to_string(plugin::abi_version) + ")"));
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace csgi::apps
