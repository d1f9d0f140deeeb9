// The built-in apps through the in-process test clients: each app in its
// native form and through the adapter to the other one.
#include <chrono>

#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "apps/builtin.hpp"
#include "apps/mysite.hpp"
#include "apps/registry.hpp"
#include "gateway/testing/async_client.hpp"
#include "gateway/testing/async_test.hpp"
#include "gateway/testing/client.hpp"

namespace csgi::apps {
namespace {

using namespace std::chrono_literals;
using testing::AsyncClient;
using testing::Client;
using testing::TestResponse;

constexpr std::string_view hello_json = R"({"message": "Hello World!"})";

void expect_hello(const TestResponse& response) {
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, hello_json);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("content-length"), std::to_string(hello_json.size()));
  EXPECT_EQ(response.json().at("message"), "Hello World!");
}

class HelloApps : public ::testing::TestWithParam<std::string_view> {
 protected:
  Application app_ = find_builtin_app(GetParam())->make();
};

TEST_P(HelloApps, AnyPathAnswersHelloJsonThroughTheSyncClient) {
  Client client(app_);
  for (const char* target : {"/", "/any/where?x=1"}) expect_hello(client.get(target));
  expect_hello(client.post("/", "ignored body"));
}

TEST_P(HelloApps, AnyPathAnswersHelloJsonThroughTheAsyncClient) {
  SyncExecutor executor;
  testing::run_async_test([&]() -> asgi::awaitable<void> {
    AsyncClient client(app_, executor);
    expect_hello(co_await client.get("/"));
    expect_hello(co_await client.get("/any/where"));
  });
}

TEST_P(HelloApps, DelayMsWaitsBeforeAnswering) {
  Client client(app_);
  auto start = std::chrono::steady_clock::now();
  TestResponse response = client.get("/?x=1&delay_ms=30");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  expect_hello(response);
}

INSTANTIATE_TEST_SUITE_P(BothInterfaces, HelloApps, ::testing::Values("hello", "hello-sync"),
                         [](const auto& info) {
                           return info.param == "hello" ? std::string("Async")
                                                        : std::string("Sync");
                         });

// The async hello waits on a timer, not a thread: concurrent delayed requests
// on one loop overlap instead of adding up.
TEST(Hello, DelayedRequestsOverlapOnOneLoop) {
  testing::run_async_test([]() -> asgi::awaitable<void> {
    SyncExecutor executor;
    AsyncClient client(hello_app(), executor);
    auto start = std::chrono::steady_clock::now();
    auto first = co_await client.open("GET", "/?delay_ms=100");
    auto second = co_await client.open("GET", "/?delay_ms=100");
    expect_hello(co_await first->response());
    expect_hello(co_await second->response());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 190ms);
  });
}

TEST(DelayFromQuery, ReadsAWholeNumberOfMilliseconds) {
  EXPECT_EQ(delay_from_query("delay_ms=250"), 250ms);
  EXPECT_EQ(delay_from_query("a=b&delay_ms=0&c"), 0ms);
  EXPECT_FALSE(delay_from_query("").has_value());
  EXPECT_FALSE(delay_from_query("delay_ms=").has_value());
  EXPECT_FALSE(delay_from_query("delay_ms=-5").has_value());
  EXPECT_FALSE(delay_from_query("delay_ms=1.5").has_value());
  EXPECT_FALSE(delay_from_query("xdelay_ms=5").has_value());
  EXPECT_FALSE(delay_from_query("delay_ms=60001").has_value());  // above max_delay
}

CSGI_ASYNC_TEST(Echo, AnswersTheScopeAndBodyLengthAsJson) {
  SyncExecutor executor;
  AsyncClient client(echo_app(), executor);
  TestResponse response =
      co_await client.request("POST", "/a%20b?q=1", {{"X-Twice", "1"}, {"x-twice", "2"}},
                              std::string(1000, 'x'));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("content-length"), std::to_string(response.body.size()));
  boost::json::object scope = response.json().as_object();
  EXPECT_EQ(scope["method"], "POST");
  EXPECT_EQ(scope["path"], "/a b");
  EXPECT_EQ(scope["raw_path"], "/a%20b");
  EXPECT_EQ(scope["query_string"], "q=1");
  EXPECT_EQ(scope["root_path"], "");
  EXPECT_EQ(scope["scheme"], "http");
  EXPECT_EQ(scope["http_version"], "1.1");
  EXPECT_EQ(scope["body_length"], 1000);
  EXPECT_EQ(scope["client"], (boost::json::array{"127.0.0.1", 40000}));
  EXPECT_EQ(scope["server"], (boost::json::array{"testserver", 80}));
  // Lower-cased names, order and duplicates kept.
  boost::json::array headers = scope["headers"].as_array();
  boost::json::array twice;
  for (const auto& header : headers) {
    if (header.as_array()[0] == "x-twice") twice.push_back(header.as_array()[1]);
  }
  EXPECT_EQ(twice, (boost::json::array{"1", "2"}));
}

CSGI_ASYNC_TEST(Echo, ReadsABodyStreamedInPieces) {
  SyncExecutor executor;
  AsyncClient client(echo_app(), executor);
  auto exchange = co_await client.open("PUT", "/", {{"transfer-encoding", "chunked"}});
  exchange->send_body("abc");
  exchange->send_body("defg");
  exchange->send_body("", false);
  TestResponse response = co_await exchange->response();
  EXPECT_EQ(response.json().at("body_length"), 7);
}

TEST(Echo, WorksThroughTheSyncClient) {
  Client client(echo_app());
  TestResponse response = client.post("/p", "12345");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.json().at("body_length"), 5);
  EXPECT_EQ(response.json().at("path"), "/p");
}

// The article's test: the async /api/ called in-process (no socket), and the
// answer says where and when the view ran.
CSGI_ASYNC_TEST(Mysite, AsyncApiAnswersThroughTheInProcessClientWithWhereAndWhenItRan) {
  SyncExecutor executor;
  AsyncClient client(mysite_async_app(), executor);
  TestResponse response = co_await client.get("/api/?task_id=7&delay_ms=20");
  EXPECT_EQ(response.status, 200);
  boost::json::object answer = response.json().as_object();
  EXPECT_EQ(answer.at("message"), "Hello Async World!");
  EXPECT_EQ(answer.at("task_id"), "7");
  const boost::json::object& served = answer.at("served").as_object();
  EXPECT_EQ(served.at("pid").to_number<long>(), static_cast<long>(::getpid()));
  EXPECT_GT(served.at("thread").to_number<long>(), 0);
  EXPECT_GE(served.at("finished_us").to_number<std::int64_t>() -
                served.at("started_us").to_number<std::int64_t>(),
            20000);
}

// The readiness probe's view (docs/deployment.md), on both variants.
TEST(Mysite, HealthAnswersOkOnBothVariants) {
  for (auto app : {mysite_app(), mysite_async_app()}) {
    Client client(app);
    auto response = client.get("/health/");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "ok\n");
  }
}

TEST(Mysite, CallCountOutsideItsRangeAnswers400WithTheReason) {
  Client client(mysite_app());
  for (std::string view : {"/api/aggregated/", "/api/aggregated/sync/"}) {
    for (std::string n : {"0", "10001", "ten", "5x"}) {
      auto response = client.get(view + "?n=" + n);
      EXPECT_EQ(response.status, 400) << view << " n=" << n;
      std::string error(response.json().as_object().at("error").as_string());
      EXPECT_EQ(error, "n must be an integer from 1 to 10000, not \"" + n + "\"");
    }
  }
}

TEST(Registry, ListsEachBuiltinAppOnceWithItsInterface) {
  std::vector<std::string_view> names;
  for (const BuiltinApp& app : builtin_apps()) {
    names.push_back(app.name);
    EXPECT_FALSE(app.description.empty()) << app.name;
    EXPECT_EQ(app.make().name, app.name);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"hello", "hello-sync", "echo", "mysite",
                                                  "mysite-async"}));
  EXPECT_EQ(find_builtin_app("hello")->interface, Interface::async);
  EXPECT_EQ(find_builtin_app("hello-sync")->interface, Interface::sync);
  EXPECT_EQ(find_builtin_app("mysite")->interface, Interface::mixed);
  EXPECT_EQ(find_builtin_app("nope"), nullptr);
}

}  // namespace
}  // namespace csgi::apps
