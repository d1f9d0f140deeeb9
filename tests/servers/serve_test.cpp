#include "servers/serve.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <malloc.h>

#include "servers/background_server.hpp"
#include "servers/listener.hpp"
#include "servers/server.hpp"
#include "servers/supervisor/exit_codes.hpp"

namespace csgi::servers {
namespace {

// The buffers of large messages, freed, stay with the process for the next
// ones instead of going back to the system at each free; an operator's
// MALLOC_TRIM_THRESHOLD_ wins.
TEST(KeepFreedHeapMemory, FreedBuffersStayForTheNextMessages) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's malloc and its settings";
#endif
#endif
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_TRIM_THRESHOLD_")) GTEST_SKIP() << "the environment sets the threshold";
  ::setenv("MALLOC_TRIM_THRESHOLD_", "131072", 1);
  EXPECT_EQ(keep_freed_heap_memory(std::size_t{16} << 20), 0u);
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  ASSERT_EQ(keep_freed_heap_memory(std::size_t{16} << 20), std::size_t{16} << 20);
  std::vector<void*> buffers;
  for (int i = 0; i < 32; ++i) {
    buffers.push_back(std::malloc(64 * 1024));
    std::memset(buffers.back(), 1, 64 * 1024);
  }
  for (void* buffer : buffers) std::free(buffer);
  // glibc's default would have trimmed the heap's free top to 128 KiB.
  EXPECT_GE(::mallinfo2().keepcost, std::size_t{512} << 10);
#else
  GTEST_SKIP() << "glibc only";
#endif
}

asgi::App failing_lifespan_app() {
  return [](asgi::Scope scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    co_await send(asgi::LifespanStartupFailed{"cannot reach the database"});
  };
}

asgi::App hello_app() {
  return [](asgi::Scope scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
    co_await send(asgi::HttpResponseStart{200, {{"content-length", "2"}}});
    co_await send(asgi::HttpResponseBody{"hi", false});
  };
}

Config quiet_config() {
  Config config;
  config.port = 0;
  config.log_level = "critical";
  return config;
}

TEST(Serve, FailedLifespanStartupReturns3) {
  Config config = quiet_config();
  config.lifespan = LifespanMode::on;
  EXPECT_EQ(serve(config, Application::from_async("failing", failing_lifespan_app())), 3);
}

TEST(Serve, LifespanOnAndAnAppThatReturnsBeforeSendingReturns3OnEitherServer) {
  asgi::App app = [](asgi::Scope scope, asgi::Receive receive, asgi::Send) -> asgi::awaitable<void> {
    if (scope.type == asgi::ScopeType::lifespan) co_await receive();
  };
  for (ServerKind kind : {ServerKind::loop, ServerKind::threaded}) {
    Config config = quiet_config();
    config.server = kind;
    config.lifespan = LifespanMode::on;
    EXPECT_EQ(serve(config, Application::from_async("returns", app)), worker_exit::boot_failed);
  }
}

// An app whose forms cannot be built, as one whose settings are missing.
Application unbuildable_app() {
  Application app = Application::from_async("unbuildable", hello_app());
  app.as_async = [](SyncExecutor&) -> asgi::App { throw std::runtime_error("no settings"); };
  app.as_sync = []() -> wsgi::App { throw std::runtime_error("no settings"); };
  return app;
}

TEST(Serve, AppThatCannotBeBuiltReturns4OnEitherServer) {
  for (ServerKind kind : {ServerKind::loop, ServerKind::threaded}) {
    Config config = quiet_config();
    config.server = kind;
    EXPECT_EQ(serve(config, unbuildable_app()), worker_exit::app_load_failed);
  }
}

TEST(Serve, AddressInUseReturns1) {
  Listener taken = Listener::open(quiet_config());
  Config config = quiet_config();
  config.port = taken.port();
  EXPECT_EQ(serve(config, Application::from_async("hello", hello_app())), 1);
}

TEST(LoopServer, StopBeforeRunEndsRightAfterStartup) {
  Config config = quiet_config();
  auto server = make_loop_server(config, Application::from_async("hello", hello_app()),
                                 Listener::open(config));
  server->stop();
  EXPECT_EQ(server->run({}), 0);
}

TEST(LoopServer, ServesOnAUnixSocket) {
  Config config = quiet_config();
  config.uds = "/tmp/csgi-loop-test-" + std::to_string(::getpid()) + ".sock";
  BackgroundServer server(make_loop_server, config, Application::from_async("hello", hello_app()));
  ASSERT_TRUE(server.serving());

  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, config.uds.c_str(), config.uds.size());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[1024];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, n);
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_EQ(response.substr(response.size() - 2), "hi");
  server.stop();
  EXPECT_EQ(server.wait(), 0);
}

}  // namespace
}  // namespace csgi::servers
