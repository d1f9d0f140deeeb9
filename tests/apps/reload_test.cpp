// apps/reload.hpp: builds of a plugin replacing one another under a server.
// Builds of tests/apps/plugins/answer.cpp answering "one" or "two", or whose
// factory throws, are put in place of a file the app watches.
#include "apps/reload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gateway/testing/client.hpp"
#include "gateway/testing/error_log_capture.hpp"
#include "tests/apps/plugins/plugin_file.hpp"

namespace csgi::apps {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Polls `condition` every 5 ms until it holds or `timeout` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 2000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class Reload : public ::testing::Test {
 protected:
  Application watched(const std::string& symbol = {}) {
    return plugin_app({file_.path(), symbol},
                      {.watch = true, .poll_interval = 5ms, .settle = 20ms});
  }

  static std::string get(const Application& app, std::string_view target = "/") {
    return testing::Client(app).get(target).body;
  }

  testing::PluginFile file_{CSGI_ANSWER_ONE};
};

TEST_F(Reload, NewBuildAnswersRequestsStartedAfterTheFileChanged) {
  Application app = watched();
  EXPECT_EQ(get(app), "one");
  file_.install(CSGI_ANSWER_TWO);
  EXPECT_TRUE(eventually([&] { return get(app) == "two"; }));
}

TEST_F(Reload, FileRewrittenInPlaceIsReloadedToo) {
  Application app = watched();
  EXPECT_EQ(get(app), "one");
  file_.overwrite(CSGI_ANSWER_TWO);
  EXPECT_TRUE(eventually([&] { return get(app) == "two"; }));
}

TEST_F(Reload, AsyncFormSwitchesToTheNewBuild) {
  Application app = watched("csgi_answer_async");
  SyncExecutor executor(1);
  testing::Client client(app.as_async(executor));
  EXPECT_EQ(client.get("/").body, "one");
  file_.install(CSGI_ANSWER_TWO);
  EXPECT_TRUE(eventually([&] { return client.get("/").body == "two"; }));
}

TEST_F(Reload, ResponseInFlightFinishesOnTheBuildItStartedOn) {
  Application app = watched();
  wsgi::App sync_app = app.as_sync();
  testing::SyncRequest request = testing::RequestFactory().environ("GET", "/stream");
  wsgi::StartResponse start_response([](int, Headers, std::exception_ptr) { return wsgi::Write{}; });
  wsgi::Body body = sync_app(request.environ, start_response);
  EXPECT_EQ(body.next(), "one\n");

  file_.install(CSGI_ANSWER_TWO);
  ASSERT_TRUE(eventually([&] { return get(app) == "two"; }));
  // The first build's code still produces the rest of its body.
  EXPECT_EQ(body.next(), "one\n");
  EXPECT_EQ(body.next(), "one\n");
  EXPECT_EQ(body.next(), std::nullopt);
  body.close();
}

TEST_F(Reload, ExceptionOfATypeTheBuildDefinesOutlivesTheBuild) {
  Application app = watched();
  auto sync_app = std::make_unique<wsgi::App>(app.as_sync());
  testing::SyncRequest request = testing::RequestFactory().environ("GET", "/fail-later");
  wsgi::StartResponse start_response([](int, Headers, std::exception_ptr) { return wsgi::Write{}; });
  auto body = std::make_unique<wsgi::Body>((*sync_app)(request.environ, start_response));
  EXPECT_EQ(body->next(), "one\n");
  file_.install(CSGI_ANSWER_TWO);
  ASSERT_TRUE(eventually([&] { return get(app) == "two"; }));

  std::exception_ptr error;
  try {
    body->next();
  } catch (...) {
    error = std::current_exception();
  }
  ASSERT_TRUE(error);
  body.reset();
  sync_app.reset();  // the first build's last users: it is unloaded
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "one failed later");
  }
}

TEST_F(Reload, BuildWhoseFactoryThrowsKeepsThePreviousOneAndLogsWhyInOneLine) {
  testing::ErrorLogCapture log;
  Application app = watched();
  EXPECT_EQ(get(app), "one");
  file_.install(CSGI_ANSWER_BROKEN);
  ASSERT_TRUE(eventually([&] { return log.text().find("failed") != std::string::npos; }));
  EXPECT_EQ(get(app), "one");
  EXPECT_THAT(log.text(), HasSubstr("Reloading " + file_.path() +
                                    " failed; build 1 keeps serving: "));
  EXPECT_THAT(log.text(), HasSubstr("this build cannot start"));

  file_.install(CSGI_ANSWER_TWO);  // the next change is tried again
  EXPECT_TRUE(eventually([&] { return get(app) == "two"; }));
}

TEST_F(Reload, FileThatIsNotALibraryKeepsThePreviousBuild) {
  testing::ErrorLogCapture log;
  Application app = watched();
  EXPECT_EQ(get(app), "one");
  std::FILE* file = std::fopen(file_.path().c_str(), "w");
  std::fputs("half a library", file);
  std::fclose(file);
  ASSERT_TRUE(eventually([&] { return log.text().find("failed") != std::string::npos; }));
  EXPECT_EQ(get(app), "one");
}

TEST_F(Reload, MissingFileIsALoadError) {
  EXPECT_THROW(plugin_app({file_.path() + ".missing", {}}, {}), AppLoadError);
}

// What a process forked from the test answers through its own copy of `app`.
std::string answer_in_forked_process(const Application& app) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "<no pipe>";
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string body = testing::Client(app).get("/").body;
    (void)!::write(pipe_fds[1], body.data(), body.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string answer;
  char buffer[64];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
  ::close(pipe_fds[0]);
  ::waitpid(pid, nullptr, 0);
  return answer;
}

TEST_F(Reload, ForkedProcessLoadsTheFileAfreshWithoutWatching) {
  Application app = plugin_app({file_.path(), {}}, {});
  file_.install(CSGI_ANSWER_TWO);
  EXPECT_EQ(answer_in_forked_process(app), "two");
  EXPECT_EQ(get(app), "one");  // this process keeps the build it loaded
}

TEST_F(Reload, ForkedProcessServesTheInheritedBuildWhenTheFileNoLongerLoads) {
  Application app = plugin_app({file_.path(), {}}, {});
  file_.install(CSGI_ANSWER_BROKEN);
  EXPECT_EQ(answer_in_forked_process(app), "one");
}

}  // namespace
}  // namespace csgi::apps
