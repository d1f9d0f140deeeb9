#include "tests/conformance/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <utility>

namespace csgi::conformance {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

Header parse_field(const std::string& line) {
  auto colon = line.find(':');
  if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
  return {lower(line.substr(0, colon)), trim(std::string_view(line).substr(colon + 1))};
}

}  // namespace

RawClient::RawClient(std::uint16_t port, Duration timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot connect to port " + std::to_string(port));
}

RawClient::~RawClient() { close(); }

void RawClient::close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("send failed");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void RawClient::send_request(std::string_view method, std::string_view target,
                             std::string_view extra_headers, std::string_view body) {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
  request.append(extra_headers);
  if (!body.empty()) request.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  request.append("\r\n").append(body);
  send(request);
}

bool RawClient::fill() {
  pollfd waiting{fd_, POLLIN, 0};
  int ready = ::poll(&waiting, 1, static_cast<int>(timeout_.count()));
  if (ready == 0) throw std::runtime_error("timed out waiting for the server");
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0 && errno == ECONNRESET) return false;
  if (n < 0) throw std::runtime_error("recv failed");
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return n > 0;
}

std::string RawClient::read_line() {
  for (;;) {
    auto end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (!fill()) throw std::runtime_error("connection closed in the middle of a line");
  }
}

std::string RawClient::read_exact(std::size_t n) {
  while (buffer_.size() < n)
    if (!fill()) throw std::runtime_error("connection closed in the middle of a body");
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

RawResponse RawClient::read_response(bool head_request) {
  RawResponse response;
  std::string status_line = read_line();
  if (status_line.rfind("HTTP/", 0) != 0 || status_line.size() < 12)
    throw std::runtime_error("bad status line: " + status_line);
  response.version = status_line.substr(5, 3);
  response.status = std::stoi(status_line.substr(9, 3));
  for (std::string line = read_line(); !line.empty(); line = read_line())
    response.headers.push_back(parse_field(line));
  if (head_request || response.status < 200 || response.status == 204 || response.status == 304)
    return response;
  auto encoding = response.header("transfer-encoding");
  if (encoding && lower(std::string(*encoding)) == "chunked") {
    response.chunked = true;
    for (;;) {
      std::size_t size = std::stoul(read_line(), nullptr, 16);
      if (size == 0) break;
      response.body += read_exact(size);
      read_exact(2);
    }
    for (std::string line = read_line(); !line.empty(); line = read_line())
      response.trailers.push_back(parse_field(line));
  } else if (auto length = response.header("content-length")) {
    response.body = read_exact(std::stoul(std::string(*length)));
  } else {
    while (fill()) {
    }
    response.body = std::exchange(buffer_, {});
  }
  return response;
}

bool RawClient::wait_closed(Duration timeout, std::string* received) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(left.count())) == 0) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return true;
    if (received) received->append(chunk, static_cast<std::size_t>(n));
  }
}

bool RawClient::stays_silent(Duration quiet) {
  pollfd waiting{fd_, POLLIN, 0};
  return ::poll(&waiting, 1, static_cast<int>(quiet.count())) == 0;
}

}  // namespace csgi::conformance
