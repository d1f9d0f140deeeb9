// ws_load: the WebSocket load generator of bench/websocket.sh, on csgi's own
// client (client/websocket.hpp), one thread.
//
//   ws_load echo --port P [--path /ws/echo/] [--connections 64] [--size 32]
//                [--binary] [--seconds 5]
//       each connection sends a message and waits for its echo, again and
//       again; prints round_trips_per_s=
//   ws_load broadcast --port P [--path /ws/chat/] [--connections 1000]
//       every connection joins the room, then one sends a marker; prints
//       broadcast_ms= (until every connection has received it)
//   ws_load idle --port P [--path /ws/echo/] [--connections 1000]
//       opens the connections, prints "open", and holds them until stdin closes
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/websocket.hpp"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using csgi::client::WebSocket;

struct Options {
  std::string mode;
  int port = 0;
  std::string path;
  int connections = 0;
  std::size_t size = 32;
  bool binary = false;
  int seconds = 5;
};

Options parse(int argc, char** argv) {
  Options options;
  options.mode = argc > 1 ? argv[1] : "";
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (flag == "--port") options.port = std::stoi(value());
    else if (flag == "--path") options.path = value();
    else if (flag == "--connections") options.connections = std::stoi(value());
    else if (flag == "--size") options.size = std::stoul(value());
    else if (flag == "--binary") options.binary = true;
    else if (flag == "--seconds") options.seconds = std::stoi(value());
  }
  if (options.path.empty()) options.path = options.mode == "broadcast" ? "/ws/chat/" : "/ws/echo/";
  if (options.connections == 0) options.connections = options.mode == "echo" ? 64 : 1000;
  return options;
}

asio::awaitable<WebSocket> open(const Options& options) {
  csgi::client::WebSocketOptions ws;
  ws.per_message_deflate = false;  // the same work for every server
  ws.connect_timeout = std::chrono::seconds(30);
  co_return co_await csgi::client::websocket_connect(
      co_await asio::this_coro::executor,
      "ws://127.0.0.1:" + std::to_string(options.port) + options.path, ws);
}

asio::awaitable<void> echo_loop(const Options& options, Clock::time_point end, long& round_trips) {
  auto ws = co_await open(options);
  const std::string message(options.size, 'x');
  while (Clock::now() < end) {
    if (options.binary) co_await ws.send_binary(message);
    else co_await ws.send(message);
    if (!co_await ws.receive()) co_return;
    ++round_trips;
  }
  co_await ws.close();
}

int run_echo(const Options& options) {
  asio::io_context io(1);
  long round_trips = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(options.seconds);
  for (int i = 0; i < options.connections; ++i)
    asio::co_spawn(io, echo_loop(options, end, round_trips), asio::detached);
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("round_trips_per_s=%.0f\n", round_trips / seconds);
  return 0;
}

asio::awaitable<void> broadcast(const Options& options) {
  std::vector<WebSocket> members;
  for (int i = 0; i < options.connections; ++i) members.push_back(co_await open(options));
  // Let the joins settle: each member drains what arrived within 1 s of quiet.
  asio::steady_timer quiet(co_await asio::this_coro::executor, std::chrono::seconds(1));
  co_await quiet.async_wait(asio::use_awaitable);
  const std::string marker = "broadcast-marker";
  const auto start = Clock::now();
  co_await members.front().send(marker);
  long reached = 0;
  for (auto& member : members) {
    for (;;) {
      auto message = co_await member.receive();
      if (!message) break;
      if (message->data == marker) {
        ++reached;
        break;
      }
    }
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("broadcast_ms=%.1f reached=%ld\n", ms, reached);
  for (auto& member : members) co_await member.close();
}

asio::awaitable<void> idle(const Options& options) {
  std::vector<WebSocket> held;
  for (int i = 0; i < options.connections; ++i) held.push_back(co_await open(options));
  std::printf("open %d\n", options.connections);
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);  // the script lets go by closing stdin
}

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  if (options.port == 0) {
    std::fprintf(stderr, "usage: ws_load echo|broadcast|idle --port P [...]\n");
    return 2;
  }
  if (options.mode == "echo") return run_echo(options);
  asio::io_context io(1);
  int status = 0;
  auto done = [&status](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ws_load: %s\n", e.what());
      status = 1;
    }
  };
  if (options.mode == "broadcast") asio::co_spawn(io, broadcast(options), done);
  else asio::co_spawn(io, idle(options), done);
  io.run();
  return status;
}
