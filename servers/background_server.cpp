#include "servers/background_server.hpp"

#include <future>

#include "servers/listener.hpp"

namespace csgi::servers {

BackgroundServer::BackgroundServer(const ServerFactory& factory, const Config& config,
                                   const Application& app, WorkerHooks* hooks) {
  Listener listener = Listener::open(config);
  endpoint_ = listener.local_endpoint();
  server_ = factory(config, app, std::move(listener));
  auto started = std::make_shared<std::promise<bool>>();
  auto result = started->get_future();
  thread_ = std::thread([this, started, hooks] {
    bool reported = false;
    RunOptions options;
    options.hooks = hooks;
    options.on_started = [&](bool serving) {
      reported = true;
      started->set_value(serving);
    };
    exit_code_ = server_->run(options);
    // A server that failed before its startup ended never called on_started.
    if (!reported) started->set_value(false);
  });
  serving_ = result.get();
}

BackgroundServer::~BackgroundServer() {
  stop();
  wait();
}

void BackgroundServer::stop() {
  if (thread_.joinable()) server_->stop();
}

int BackgroundServer::wait() {
  if (thread_.joinable()) thread_.join();
  return exit_code_;
}

}  // namespace csgi::servers
