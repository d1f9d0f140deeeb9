// The built-in apps, called in-process through their sync form (an async app
// runs on its own event loop through the gateway's adapter).
#include <chrono>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "apps/builtin.hpp"
#include "apps/registry.hpp"

namespace csgi::apps {
namespace {

using namespace std::chrono_literals;

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  std::string header(std::string_view name) const {
    return std::string(find_header(headers, name).value_or("<absent>"));
  }
};

Response call(const Application& app, wsgi::Environ environ, std::string request_body = {}) {
  wsgi::StringInputStream input(std::move(request_body));
  environ.input = &input;
  Response response;
  wsgi::StartResponse start_response([&](int status, Headers headers, std::exception_ptr) {
    response.status = status;
    response.headers = std::move(headers);
    return wsgi::Write([&](std::string_view data) { response.body += data; });
  });
  wsgi::Body body = app.as_sync()(environ, start_response);
  while (std::optional<std::string> chunk = body.next()) response.body += *chunk;
  body.close();
  return response;
}

wsgi::Environ get(std::string path, std::string query = {}) {
  wsgi::Environ environ;
  environ.path_info = path;
  environ.raw_path = path;
  environ.query_string = std::move(query);
  return environ;
}

constexpr std::string_view hello_json = R"({"message": "Hello World!"})";

class HelloApps : public ::testing::TestWithParam<std::string_view> {};

TEST_P(HelloApps, AnyPathAnswersHelloJsonWithContentLength) {
  Application app = find_builtin_app(GetParam())->make();
  for (std::string path : {"/", "/any/where"}) {
    Response response = call(app, get(path));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, hello_json);
    EXPECT_EQ(response.header("content-type"), "application/json");
    EXPECT_EQ(response.header("content-length"), std::to_string(hello_json.size()));
  }
}

TEST_P(HelloApps, DelayMsWaitsBeforeAnswering) {
  Application app = find_builtin_app(GetParam())->make();
  auto start = std::chrono::steady_clock::now();
  Response response = call(app, get("/", "x=1&delay_ms=30"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, hello_json);
}

INSTANTIATE_TEST_SUITE_P(BothInterfaces, HelloApps, ::testing::Values("hello", "hello-sync"));

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

TEST(Echo, AnswersTheScopeAndBodyLengthAsJson) {
  wsgi::Environ environ = get("/a b", "q=1");
  environ.request_method = "POST";
  environ.raw_path = "/a%20b";
  environ.script_name = "/mount";
  environ.headers = {{"x-twice", "1"}, {"host", "example"}, {"x-twice", "2"}};
  environ.remote = Endpoint{"127.0.0.1", 54321};
  environ.server = Endpoint{"127.0.0.1", 8000};
  Response response = call(echo_app(), environ, std::string(1000, 'x'));

  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("content-length"), std::to_string(response.body.size()));
  boost::json::object scope = boost::json::parse(response.body).as_object();
  EXPECT_EQ(scope["method"], "POST");
  EXPECT_EQ(scope["path"], "/a b");
  EXPECT_EQ(scope["raw_path"], "/a%20b");
  EXPECT_EQ(scope["query_string"], "q=1");
  EXPECT_EQ(scope["root_path"], "/mount");
  EXPECT_EQ(scope["scheme"], "http");
  EXPECT_EQ(scope["http_version"], "1.1");
  EXPECT_EQ(scope["body_length"], 1000);
  EXPECT_EQ(scope["client"], (boost::json::array{"127.0.0.1", 54321}));
  EXPECT_EQ(scope["server"], (boost::json::array{"127.0.0.1", 8000}));
  EXPECT_EQ(scope["headers"], (boost::json::array{boost::json::array{"x-twice", "1"},
                                                  boost::json::array{"host", "example"},
                                                  boost::json::array{"x-twice", "2"}}));
}

TEST(Echo, UnknownClientIsNull) {
  Response response = call(echo_app(), get("/"));
  boost::json::object scope = boost::json::parse(response.body).as_object();
  EXPECT_TRUE(scope["client"].is_null());
  EXPECT_EQ(scope["body_length"], 0);
}

TEST(Registry, ListsEachBuiltinAppOnceWithItsInterface) {
  std::vector<std::string_view> names;
  for (const BuiltinApp& app : builtin_apps()) {
    names.push_back(app.name);
    EXPECT_FALSE(app.description.empty()) << app.name;
    EXPECT_EQ(app.make().name, app.name);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"hello", "hello-sync", "echo"}));
  EXPECT_EQ(find_builtin_app("hello")->interface, Interface::async);
  EXPECT_EQ(find_builtin_app("hello-sync")->interface, Interface::sync);
  EXPECT_EQ(find_builtin_app("nope"), nullptr);
}

}  // namespace
}  // namespace csgi::apps
