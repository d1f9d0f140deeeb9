// Helpers for the client tests: small HTTP servers written with POSIX sockets
// (each connection on its own thread, scripted by the test), an open-fd count,
// and a runner for one coroutine on an io_context.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace csgi::client::testing {

// Open file descriptors of this process.
inline int count_open_fds() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  closedir(dir);
  return count - 1;  // the directory stream itself
}

inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads one request (head and Content-Length body). "" when the peer closed first.
inline std::string read_request(int fd) {
  std::string data;
  char buffer[4096];
  for (;;) {
    auto head_end = data.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      auto at = data.find("content-length: ");
      if (at != std::string::npos && at < head_end) length = std::stoul(data.substr(at + 16));
      if (data.size() >= head_end + 4 + length) return data;
    }
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return "";
    data.append(buffer, static_cast<std::size_t>(n));
  }
}

// Blocks until the peer closes `fd` or `limit` passes (the stalling servers'
// "sleep": they wake as soon as the client gives up).
inline void wait_for_close(int fd, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0 && ::recv(fd, buffer, sizeof buffer, 0) <= 0) return;
  }
}

// Closes `fd` with a TCP reset instead of a FIN.
inline void reset(int fd) {
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd);
}

// A listening socket on 127.0.0.1, port 0. Every accepted connection runs
// `handle(fd, index)` on its own thread (index counts connections from 0); the
// fd is closed after the handler returns, unless it returns false (it closed
// or reset the fd itself).
class ScriptedServer {
 public:
  using Handler = std::function<bool(int fd, int index)>;

  explicit ScriptedServer(Handler handle, int backlog = 64) : handle_(std::move(handle)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, backlog);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_all(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listener_);
    std::lock_guard lock(mutex_);
    for (auto& thread : connections_) thread.join();
  }

  std::uint16_t port() const { return port_; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& target = "/") const { return origin() + target; }
  int accepted() const { return accepted_; }

 private:
  void accept_all() {
    while (!stopping_) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      int index = accepted_++;
      std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd, index] {
        if (handle_(fd, index)) ::close(fd);
      });
    }
  }

  Handler handle_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> connections_;
};

// Serves every request on a connection with `response` until the peer closes.
inline ScriptedServer::Handler answer_all(std::string response) {
  return [response](int fd, int) {
    while (!read_request(fd).empty()) send_all(fd, response);
    return true;
  };
}

// Runs `task` on `io` until it and everything it started are done, then
// rethrows what it threw. Fails the test if work is left over after `limit`
// (a leaked coroutine or socket operation).
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> task,
      std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  std::exception_ptr error;
  std::optional<T> result;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
    done = true;
  });
  io.restart();
  io.run_for(limit);
  if (!done) throw std::runtime_error("coroutine did not finish in time");
  if (!io.stopped()) throw std::runtime_error("work left on the io_context after the coroutine");
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace csgi::client::testing
