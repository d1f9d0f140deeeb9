#include "csgi_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <regex>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"

namespace csgi::servers::testing {

// ---- CsgiProcess -------------------------------------------------------------

namespace {

std::vector<std::string> serve_command(std::vector<std::string> serve_args) {
  std::vector<std::string> args{CSGI_EXECUTABLE, "serve"};
  args.insert(args.end(), serve_args.begin(), serve_args.end());
  for (const char* extra : {"--host", "127.0.0.1", "--port", "0"}) args.emplace_back(extra);
  return args;
}

}  // namespace

CsgiProcess::CsgiProcess(std::vector<std::string> serve_args)
    : CsgiProcess(Command{serve_command(std::move(serve_args))}) {}

CsgiProcess::CsgiProcess(Command command) : child_(std::move(command.argv)) {}

CsgiProcess::~CsgiProcess() {
  if (child_.wait_exit(milliseconds(0))) return;
  ::kill(pid(), SIGTERM);
  if (!child_.wait_exit(milliseconds(3000))) {
    ::kill(pid(), SIGKILL);  // its workers get SIGTERM (PR_SET_PDEATHSIG)
    child_.wait_exit(milliseconds(3000));
  }
  // The log ends once the supervisor and every worker are gone (~ChildProcess).
}

std::size_t CsgiProcess::count_in_log(const std::string& text) const { return child_.count_in_output(text); }

bool CsgiProcess::wait_for_log(const std::string& text, std::size_t count, milliseconds timeout) {
  return child_.wait_for_output(
      [&](const std::string& log) { return scenario::occurrences(log, text) >= count; }, timeout);
}

std::string CsgiProcess::log() const { return child_.output(); }

std::uint16_t CsgiProcess::port(milliseconds timeout) {
  if (port_ != 0) return port_;
  static const std::regex running(R"(running on http://127\.0\.0\.1:(\d+))");
  child_.wait_for_output(
      [&](const std::string& log) {
        std::smatch match;
        if (!std::regex_search(log, match, running)) return false;
        port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
        return true;
      },
      timeout);
  return port_;
}

void CsgiProcess::signal(int signal_number) const { ::kill(pid(), signal_number); }

void CsgiProcess::signal_group(int signal_number) const { ::kill(-pid(), signal_number); }

std::vector<pid_t> CsgiProcess::workers() const { return children_of(pid()); }

std::optional<int> CsgiProcess::wait_exit(milliseconds timeout) { return child_.wait_exit(timeout); }

// ---- HttpConnection ----------------------------------------------------------

HttpConnection::HttpConnection(std::uint16_t port, milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::send_get(const std::string& target, bool keep_alive) {
  if (fd_ < 0) return false;
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
  return ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(request.size());
}

bool HttpConnection::fill() {
  char chunk[4096];
  auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;  // EOF, reset, or SO_RCVTIMEO
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<Reply> HttpConnection::read_reply() {
  if (fd_ < 0) return std::nullopt;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  std::string head = buffer_.substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Reply reply;
  reply.status = std::atoi(head.c_str() + head.find(' ') + 1);
  auto header = [&](const std::string& name) -> std::string {
    auto at = head.find("\r\n" + name + ":");
    if (at == std::string::npos) return {};
    at += name.size() + 3;
    return head.substr(at, head.find("\r\n", at) - at);
  };
  std::size_t length = std::strtoul(header("content-length").c_str(), nullptr, 10);
  reply.worker = static_cast<pid_t>(std::atoi(header("x-worker-pid").c_str()));
  reply.close = header("connection").find("close") != std::string::npos;
  while (buffer_.size() < head_end + 4 + length)
    if (!fill()) return std::nullopt;
  reply.body = buffer_.substr(head_end + 4, length);
  buffer_.erase(0, head_end + 4 + length);
  return reply;
}

std::optional<Reply> get_once(std::uint16_t port, const std::string& target, milliseconds timeout) {
  HttpConnection connection(port, timeout);
  return connection.get(target, false);
}

}  // namespace csgi::servers::testing
