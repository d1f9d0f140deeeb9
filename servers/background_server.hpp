// A server running in this process on its own thread, for tests and tools
// that need a real socket without a subprocess:
//
//   BackgroundServer server(make_loop_server, config, app);   // config.port = 0
//   connect to 127.0.0.1:server.port() ...
//   server.stop(); EXPECT_EQ(server.wait(), 0);
//
// Works with any ServerFactory, so a test parametrised over factories covers
// every server kind.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>

#include "gateway/app.hpp"
#include "servers/config.hpp"
#include "servers/server.hpp"

namespace csgi::servers {

class BackgroundServer {
 public:
  // Binds as `config` says (port 0: a free port), makes the server with
  // `factory` and runs it on a new thread. Returns once the server accepts
  // connections, or once its startup failed (serving() is then false).
  // Throws what binding throws. `hooks` (null: the do-nothing ones) must
  // outlive the server.
  BackgroundServer(const ServerFactory& factory, const Config& config, const Application& app,
                   WorkerHooks* hooks = nullptr);
  ~BackgroundServer();  // stop(), then wait()
  BackgroundServer(const BackgroundServer&) = delete;
  BackgroundServer& operator=(const BackgroundServer&) = delete;

  std::uint16_t port() const { return endpoint_.port; }
  // The bound address (for a Unix socket, its path).
  const Endpoint& endpoint() const { return endpoint_; }
  bool serving() const { return serving_; }

  // Starts a graceful shutdown; returns at once. A second call forces it.
  void stop();
  // Waits for the server's thread to end; returns run()'s exit code.
  int wait();

 private:
  Endpoint endpoint_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  bool serving_ = false;
  int exit_code_ = -1;
};

}  // namespace csgi::servers
