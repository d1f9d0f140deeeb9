// The app's tests, in-process: no socket, no server.
#include <csgi/gateway/testing/async_client.hpp>
#include <csgi/gateway/testing/async_test.hpp>

#include "app.hpp"

namespace {

using csgi::testing::AsyncClient;

// A router runs its sync views on a sync executor, as a server would.
struct App {
  csgi::SyncExecutor executor;
  csgi::Application app = hello::make_app();
  AsyncClient client{app, executor};
};

CSGI_ASYNC_TEST(Hello, test_api_with_async_client) {
  App hello;
  csgi::testing::TestResponse response = co_await hello.client.get("/api/items/42/");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.json().at("id").as_int64(), 42);
  EXPECT_EQ(response.json().at("name").as_string(), "item 42");
}

CSGI_ASYNC_TEST(Hello, ItemIdMustBeAnInteger) {
  App hello;
  csgi::testing::TestResponse response = co_await hello.client.get("/api/items/forty-two/");
  EXPECT_EQ(response.status, 404);
}

CSGI_ASYNC_TEST(Hello, SyncViewGreetsByName) {
  App hello;
  csgi::testing::TestResponse response = co_await hello.client.get("/hello/?name=csgi");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "Hello, csgi!\n");
}

CSGI_ASYNC_TEST(Hello, AsyncViewAnswersAfterItsTimer) {
  App hello;
  csgi::testing::TestResponse response = co_await hello.client.get("/slow/");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "Waited 10 ms without blocking anyone.\n");
}

}  // namespace
