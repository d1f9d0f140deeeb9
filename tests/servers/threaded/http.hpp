// A minimal blocking HTTP/1.1 client over a raw socket for the threaded
// server's tests: connect, send bytes, read one response framed by
// Content-Length (or until close). Enough to observe what the server wrote,
// byte for byte, with no client library in between.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace csgi::servers::threaded::test {

struct Response {
  int status = 0;      // 0: no response (closed or timed out)
  std::string head;    // status line and headers
  std::string body;
};

class TestClient {
 public:
  explicit TestClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("connect failed");
  }
  ~TestClient() { ::close(fd_); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  Response get(std::string_view target, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    send("GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n");
    return read_response(timeout);
  }

  // Reads one response; status 0 if the connection closed or `timeout` passed first.
  Response read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Response response;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return response;
    }
    response.head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    response.status = std::stoi(response.head.substr(9, 3));
    std::size_t length = std::string::npos;
    if (auto at = lower(response.head).find("\ncontent-length:"); at != std::string::npos)
      length = std::stoul(response.head.substr(at + 16));
    if (lower(response.head).find("transfer-encoding: chunked") != std::string::npos) {
      response.body = read_chunked(deadline);
      return response;
    } else if (length == std::string::npos) {
      while (fill(deadline)) {
      }
    } else {
      while (buffer_.size() < length && fill(deadline)) {
      }
    }
    std::size_t take = std::min(length, buffer_.size());
    response.body = buffer_.substr(0, take);
    buffer_.erase(0, take);
    return response;
  }

  // True when `marker` arrived within `timeout` (kept in the buffer).
  bool received(std::string_view marker, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.find(marker) == std::string::npos) {
      if (!fill(deadline)) return false;
    }
    return true;
  }

  // The decoded body of a chunked response (no trailers expected).
  std::string read_chunked(std::chrono::steady_clock::time_point deadline) {
    std::string body;
    for (;;) {
      std::size_t line_end;
      while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline)) return body;
      }
      std::size_t size = std::stoul(buffer_.substr(0, line_end), nullptr, 16);
      while (buffer_.size() < line_end + 2 + size + 2) {
        if (!fill(deadline)) return body;
      }
      body += buffer_.substr(line_end + 2, size);
      buffer_.erase(0, line_end + 2 + size + 2);
      if (size == 0) return body;
    }
  }

  // True when the server closed the connection within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return closed_;
  }

 private:
  static std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  // Reads more into buffer_; false at EOF, on an error or at the deadline.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds{fd_, POLLIN, 0};
    if (::poll(&fds, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
  bool closed_ = false;
};

}  // namespace csgi::servers::threaded::test
