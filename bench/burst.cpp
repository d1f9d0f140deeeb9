// Load tool for the benchmarks that wrk cannot express.
//
//   bench_burst burst --port P --connections N --target "/?delay_ms=1000"
//       opens N connections at once, sends one request on each as soon as it is
//       open, and reports how many were answered 200, when the last connection
//       was open, and how long the slowest answer took: from the start of the
//       burst (slowest), and from its own connect (longest).
//   bench_burst hold --port P --connections N --seconds S
//       opens N keep-alive connections, makes one request on each, then keeps them
//       idle for S seconds (prints "holding N" when they are all idle), so that a
//       script can read the server's memory.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <thread>

#include <boost/asio.hpp>

namespace asio = boost::asio;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  unsigned short port = 8000;
  int connections = 1000;
  std::string target = "/";
  int seconds = 10;
};

struct Result {
  int status = 0;
  double opening = 0;    // seconds from the start until this connection's connect began
  double connected = 0;  // ... until the connection was open
  double seconds = 0;    // ... until the answer was read
  std::string error;
};

// One request on an open socket; reads the head and a Content-Length body.
asio::awaitable<int> request_once(tcp::socket& socket, const std::string& request) {
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  std::string data;
  auto end = co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n",
                                             asio::use_awaitable);
  int status = std::atoi(data.c_str() + 9);
  std::size_t length = 0;
  std::string head = data.substr(0, end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto at = head.find("content-length:"); at != std::string::npos)
    length = std::strtoul(head.c_str() + at + 15, nullptr, 10);
  if (data.size() < end + length)
    co_await asio::async_read(socket, asio::dynamic_buffer(data),
                              asio::transfer_exactly(end + length - data.size()),
                              asio::use_awaitable);
  co_return status;
}

asio::awaitable<void> one(const Options& options, tcp::endpoint endpoint, clock_type::time_point start,
                          Result& result, std::vector<tcp::socket>* keep) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  try {
    // The connect is tried at once and waited for only if the handshake has
    // not completed yet, so that each connection sends its request as soon as
    // it is open instead of after every other connect was started.
    result.opening = std::chrono::duration<double>(clock_type::now() - start).count();
    socket.open(endpoint.protocol());
    socket.non_blocking(true);
    boost::system::error_code error;
    socket.connect(endpoint, error);
    if (error == asio::error::in_progress || error == asio::error::would_block) {
      co_await socket.async_wait(tcp::socket::wait_write, asio::use_awaitable);
      int code = 0;
      socklen_t size = sizeof code;
      ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &code, &size);
      error = boost::system::error_code(code, boost::system::system_category());
    }
    if (error) throw boost::system::system_error(error);
    result.connected = std::chrono::duration<double>(clock_type::now() - start).count();
    std::string request = "GET " + options.target + " HTTP/1.1\r\nHost: " + options.host + "\r\n\r\n";
    result.status = co_await request_once(socket, request);
    result.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    if (keep) keep->push_back(std::move(socket));
  } catch (const std::exception& e) {
    result.error = e.what();
  }
}

int run(const Options& options) {
  asio::io_context io(1);
  tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
  std::vector<Result> results(options.connections);
  std::vector<tcp::socket> kept;
  auto start = clock_type::now();
  for (auto& result : results)
    asio::co_spawn(io, one(options, endpoint, start, result, options.mode == "hold" ? &kept : nullptr),
                   asio::detached);
  io.run();
  int ok = 0;
  double slowest = 0, last_connected = 0, longest = 0;
  std::vector<double> answered;
  std::string first_error;
  for (auto& r : results) {
    if (r.status == 200) ++ok, answered.push_back(r.seconds);
    slowest = std::max(slowest, r.seconds);
    longest = std::max(longest, r.seconds - r.opening);
    last_connected = std::max(last_connected, r.connected);
    if (!r.error.empty() && first_error.empty()) first_error = r.error;
  }
  std::sort(answered.begin(), answered.end());
  auto at = [&](double q) {
    return answered.empty() ? 0.0 : answered[static_cast<std::size_t>(q * (answered.size() - 1))];
  };
  // slowest, p50, p99: from the start of the burst. The client opens the
  // connections as fast as its one core allows (last_connected says when it
  // was done), so `longest` is the server's share: the longest time from a
  // connection's connect to its answer.
  std::printf(
      "connections=%d ok=%d failed=%d slowest=%.3fs last_connected=%.3fs p50=%.3fs p99=%.3fs "
      "longest=%.3fs%s%s\n",
      options.connections, ok, options.connections - ok, slowest, last_connected, at(0.5), at(0.99),
      longest, first_error.empty() ? "" : " first_error=", first_error.c_str());
  std::fflush(stdout);
  if (options.mode == "hold") {
    std::printf("holding %zu\n", kept.size());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(options.seconds));
  }
  return ok == options.connections ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_burst burst|hold [--host H] [--port P] [--connections N] "
                         "[--target T] [--seconds S]\n");
    return 2;
  }
  Options options;
  options.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--host") options.host = value;
    else if (flag == "--port") options.port = static_cast<unsigned short>(std::stoi(value));
    else if (flag == "--connections") options.connections = std::stoi(value);
    else if (flag == "--target") options.target = value;
    else if (flag == "--seconds") options.seconds = std::stoi(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  return run(options);
}
