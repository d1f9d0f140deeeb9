// Load from one AsyncClient: batches of concurrent GETs, then sequential
// keep-alive GETs, against one URL. Prints one line per phase:
//   concurrent requests=20000 batch=1000 connections=100 wall_s=0.712 rps=28090 errors=0
//   sequential requests=10000 wall_s=0.503 rps=19880 errors=0
//
//   bench_client_load URL [--concurrent 1000] [--batches 20] [--sequential 10000]
//                         [--connections 100]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "client/async_client.hpp"
#include "client/gather.hpp"

namespace {

using csgi::client::AsyncClient;
using csgi::client::awaitable;
using csgi::client::Response;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string url;
  int concurrent = 1000;
  int batches = 20;
  int sequential = 10000;
  std::size_t connections = 100;
};

void report(const char* phase, const std::string& extra, int requests, Clock::duration wall,
            int errors) {
  double seconds = std::chrono::duration<double>(wall).count();
  std::printf("%s requests=%d%s wall_s=%.3f rps=%.0f errors=%d\n", phase, requests, extra.c_str(),
              seconds, requests / seconds, errors);
  std::fflush(stdout);
}

awaitable<void> run_load(AsyncClient& client, const Settings& settings) {
  // Warm-up: one concurrent batch as wide as the pool opens all of its
  // connections, so that both phases measure reuse, not connects.
  {
    std::vector<awaitable<Response>> warm_up;
    for (std::size_t i = 0; i < settings.connections; ++i) warm_up.push_back(client.get(settings.url));
    co_await csgi::client::gather_settled(std::move(warm_up));
  }

  int errors = 0;
  auto started = Clock::now();
  for (int batch = 0; batch < settings.batches; ++batch) {
    std::vector<awaitable<Response>> calls;
    calls.reserve(settings.concurrent);
    for (int i = 0; i < settings.concurrent; ++i) calls.push_back(client.get(settings.url));
    auto outcomes = co_await csgi::client::gather_settled(std::move(calls));
    for (auto& outcome : outcomes)
      if (!csgi::client::succeeded(outcome) || std::get<0>(outcome).status != 200) ++errors;
  }
  report("concurrent",
         " batch=" + std::to_string(settings.concurrent) +
             " connections=" + std::to_string(settings.connections),
         settings.concurrent * settings.batches, Clock::now() - started, errors);

  errors = 0;
  started = Clock::now();
  for (int i = 0; i < settings.sequential; ++i) {
    try {
      if ((co_await client.get(settings.url)).status != 200) ++errors;
    } catch (const csgi::client::HttpError&) {
      ++errors;
    }
  }
  report("sequential", "", settings.sequential, Clock::now() - started, errors);
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (arg == "--concurrent") settings.concurrent = value();
    else if (arg == "--batches") settings.batches = value();
    else if (arg == "--sequential") settings.sequential = value();
    else if (arg == "--connections") settings.connections = static_cast<std::size_t>(value());
    else settings.url = arg;
  }
  if (settings.url.empty()) {
    std::fprintf(stderr, "usage: %s URL [--concurrent N] [--batches N] [--sequential N] "
                         "[--connections N]\n", argv[0]);
    std::exit(2);
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings = parse(argc, argv);
  boost::asio::io_context io(1);
  csgi::client::ClientOptions options;
  options.limits.max_connections = settings.connections;
  options.limits.max_keepalive = settings.connections;
  options.timeouts.pool = std::chrono::seconds(30);  // a batch queues behind the pool by design
  AsyncClient client(io.get_executor(), options);
  int status = 0;
  boost::asio::co_spawn(io, run_load(client, settings), [&](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "client_load: %s\n", e.what());
      status = 1;
    }
  });
  io.run();
  return status;
}
