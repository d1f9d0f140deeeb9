// ResponseDriver: how a sync app's head and chunks reach the host that runs it,
// and what becomes of failures on the way.
#include <stdexcept>

#include <gmock/gmock.h>

#include "gateway/asgi.hpp"
#include "gateway/response_driver.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi::wsgi {
namespace {

using testing::ErrorLogCapture;
using test::returning;
using test::what;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A host that records what the driver sends as "head 200", "chunk hi more",
// "chunk hi end".
struct Host {
  std::vector<std::string> sent;
  ResponseDriver driver{
      [this](int status, Headers) { sent.push_back("head " + std::to_string(status)); },
      [this](std::string_view chunk, bool more) {
        sent.push_back("chunk " + std::string(chunk) + (more ? " more" : " end"));
      }};

  std::exception_ptr run(const App& app) {
    Environ environ;
    environ.path_info = "/page";
    try {
      driver.run(app, environ);
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  }
};

TEST(ResponseDriver, BodyOfOneChunkEndsWithThatChunk) {
  Host host;
  EXPECT_EQ(host.run(returning([] { return Body("hello"); })), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk hello end"));
  EXPECT_TRUE(host.driver.complete());
}

TEST(ResponseDriver, LastOfSeveralChunksEndsTheBody) {
  Host host;
  EXPECT_EQ(host.run(returning([] { return Body(std::vector<std::string>{"a", "b"}); })), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk a more", "chunk b end"));
}

TEST(ResponseDriver, GeneratedBodyEndsWithAnEmptyFinalChunk) {
  Host host;
  EXPECT_EQ(host.run(returning([] { return test::generated({"only"}); })), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk only more", "chunk  end"));
}

TEST(ResponseDriver, EmptyBodySendsTheHeadAndAnEmptyFinalChunk) {
  Host host;
  EXPECT_EQ(host.run(returning([] { return Body(); })), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk  end"));
}

TEST(ResponseDriver, WrittenBytesNeverEndTheBody) {
  Host host;
  App app = [](Environ&, StartResponse& start_response) {
    start_response(200, {})("pushed");
    return Body("pulled");
  };
  EXPECT_EQ(host.run(app), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk pushed more", "chunk pulled end"));
}

TEST(ResponseDriver, EmptyChunkBeforeStartResponseIsSkipped) {
  Host host;
  App lazy = [](Environ&, StartResponse& start_response) {
    auto step = std::make_shared<int>(0);
    return Body::generate([step, &start_response]() -> std::optional<std::string> {
      switch ((*step)++) {
        case 0: return "";  // nothing yet, and no start_response yet either
        case 1: start_response(200, {}); return "late";
        default: return std::nullopt;
      }
    });
  };
  EXPECT_EQ(host.run(lazy), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk late more", "chunk  end"));
}

TEST(ResponseDriver, NonEmptyChunkBeforeStartResponseIsAnError) {
  Host host;
  App app = [](Environ&, StartResponse&) { return Body("early"); };
  EXPECT_THAT(what(host.run(app)), HasSubstr("before start_response"));
  EXPECT_TRUE(host.sent.empty());
}

TEST(ResponseDriver, CloseFailingAfterACompleteResponseIsLoggedAndTheResponseStands) {
  ErrorLogCapture log;
  Host host;
  auto failing_close = [] {
    auto sent = std::make_shared<bool>(false);
    return Body::generate(
        [sent]() -> std::optional<std::string> {
          if (std::exchange(*sent, true)) return std::nullopt;
          return "all";
        },
        [] { throw std::runtime_error("close failed"); });
  };
  EXPECT_EQ(host.run(returning(failing_close)), nullptr);
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk all more", "chunk  end"));
  EXPECT_THAT(log.text(), HasSubstr("close failed"));
  EXPECT_THAT(log.text(), HasSubstr("GET /page"));
}

TEST(ResponseDriver, CloseFailingBeforeTheResponseIsCompleteIsNotTheReportedError) {
  ErrorLogCapture log;
  Host host;
  auto failing = [] {
    return Body::generate([]() -> std::optional<std::string> { throw std::runtime_error("next"); },
                          [] { throw std::runtime_error("close"); });
  };
  EXPECT_EQ(what(host.run(returning(failing))), "next");
  EXPECT_FALSE(host.driver.head_sent());
  EXPECT_EQ(log.text(), "");  // the host logs what it answers with a 500
}

TEST(ResponseDriver, DisconnectDuringCloseAfterACompleteResponseIsNotLogged) {
  ErrorLogCapture log;
  Host host;
  auto body = [] { return Body::generate([] { return std::optional<std::string>(); },
                                         [] { throw asgi::ClientDisconnected(); }); };
  EXPECT_EQ(host.run(returning(body)), nullptr);
  EXPECT_EQ(log.text(), "");
}

TEST(ResponseDriver, InvalidHeaderThrowsAtStartResponseAndRecordsNothing) {
  Host host;
  bool refused = false;
  App app = [&](Environ&, StartResponse& start_response) {
    try {
      start_response(200, {{"bad name", "x"}});
    } catch (const std::logic_error&) {
      refused = true;
    }
    start_response(201, {});  // the failed call counted for nothing
    return Body("ok");
  };
  EXPECT_EQ(host.run(app), nullptr);
  EXPECT_TRUE(refused);
  EXPECT_THAT(host.sent, ElementsAre("head 201", "chunk ok end"));
}

TEST(ResponseDriver, InvalidStatusOrValueThrowsAtStartResponse) {
  for (auto [status, headers] : {std::pair<int, Headers>{99, {}}, {600, {}},
                                 {200, {{"x-a", "line\r\nbreak"}}}}) {
    Host host;
    App app = [&](Environ&, StartResponse& start_response) {
      EXPECT_THROW(start_response(status, headers), std::logic_error) << status;
      start_response(200, {});
      return Body();
    };
    EXPECT_EQ(host.run(app), nullptr);
  }
}

TEST(ResponseDriver, WriteAfterTheAppReturnedThrows) {
  Host host;
  App app = [](Environ&, StartResponse& start_response) {
    Write write = start_response(200, {});
    write("early");
    return Body::generate([write]() -> std::optional<std::string> {
      write("late");
      return std::nullopt;
    });
  };
  std::exception_ptr error = host.run(app);
  EXPECT_EQ(what(error), "write called after the app returned");
  EXPECT_THAT(host.sent, ElementsAre("head 200", "chunk early more"));
}

}  // namespace
}  // namespace csgi::wsgi
