// Both server kinds behind a proxy: proxy headers and the PROXY protocol
// change the client and scheme the app and the access log see, only for a
// trusted peer; a connection that should carry a PROXY header and does not
// is closed.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include "servers/background_server.hpp"
#include "servers/logging.hpp"
#include "servers/threaded/threaded_server.hpp"

namespace csgi::servers {
namespace {

using namespace std::string_literals;

// Answers "<client host> <client port> <scheme>". A plain function, which
// the loop server calls directly (gateway/asgi.hpp, AppFunction).
asgi::awaitable<void> who(asgi::Scope scope, asgi::Receive, asgi::Send send) {
  if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
  std::string text = scope.client ? scope.client->host + " " + std::to_string(scope.client->port)
                                  : "none";
  co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
  co_await send(asgi::HttpResponseBody{text + " " + scope.scheme, false});
}

// The same app behind a lambda, which a server calls through asgi::App.
asgi::App who_in_a_lambda() {
  return [](asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
    return who(std::move(scope), std::move(receive), std::move(send));
  };
}

// Connects (TCP to 127.0.0.1:`port`, or the Unix socket `path`), writes
// `bytes`, and returns all the server sends until it closes (within 3 s).
std::string exchange(const Endpoint& where, bool unix_socket, const std::string& bytes) {
  int fd = -1;
  if (unix_socket) {
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, where.host.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return "no connect";
  } else {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(where.port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return "no connect";
  }
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string received;
  char buffer[4096];
  pollfd readable{fd, POLLIN, 0};
  while (::poll(&readable, 1, 3000) == 1) {
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return received;
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";

// Access lines written while it lives, kept here instead of stderr.
class AccessLines {
 public:
  AccessLines() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16)) {
    setup_logging("critical", true);
    access_log()->set_level(spdlog::level::info);
    for (auto& sink : access_log()->sinks()) sink->set_level(spdlog::level::off);
    sink_->set_pattern("%v");
    access_log()->sinks().push_back(sink_);
  }
  ~AccessLines() {
    auto& sinks = access_log()->sinks();
    sinks.erase(std::find(sinks.begin(), sinks.end(), sink_));
    for (auto& sink : sinks) sink->set_level(spdlog::level::trace);
    access_log()->set_level(spdlog::level::critical);
  }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

struct Kind {
  const char* name;
  ServerFactory factory;
};

class Proxy : public ::testing::TestWithParam<Kind> {
 protected:
  Proxy() {
    config_.port = 0;
    config_.log_level = "critical";
  }

  std::string ask(const std::string& bytes, asgi::App app = who) {
    BackgroundServer server(GetParam().factory, config_, Application::from_async("who", std::move(app)));
    return exchange(server.endpoint(), !config_.uds.empty(), bytes);
  }

  Config config_;
};

TEST_P(Proxy, ProxyHeadersFromATrustedPeerNameClientAndSchemeToAppAndAccessLog) {
  config_.proxy_headers = true;
  // Both ways a server calls an app: a plain function directly, anything
  // else through asgi::App.
  for (const asgi::App& app : {asgi::App(who), who_in_a_lambda()}) {
    AccessLines access;
    auto answer = ask(request + "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n\r\n", app);
    EXPECT_EQ(body_of(answer), "203.0.113.7 0 https");
    auto lines = access.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].starts_with("203.0.113.7:0 - \"GET / HTTP/1.1\" 200")) << lines[0];
  }
}

TEST_P(Proxy, ForgedProxyHeadersFromAnUntrustedPeerChangeNothing) {
  config_.proxy_headers = true;
  config_.forwarded_allow_ips = ForwardedAllow::parse("10.0.0.1");
  AccessLines access;
  auto answer = ask(request + "X-Forwarded-For: 203.0.113.7\r\nForwarded: for=198.51.100.1;proto=https\r\n"
                              "X-Forwarded-Proto: https\r\n\r\n");
  EXPECT_TRUE(body_of(answer).starts_with("127.0.0.1 ")) << answer;
  EXPECT_TRUE(body_of(answer).ends_with(" http")) << answer;
  auto lines = access.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].starts_with("127.0.0.1:")) << lines[0];
}

TEST_P(Proxy, ProxyHeadersAreIgnoredWithoutTheSetting) {
  auto answer = ask(request + "X-Forwarded-For: 203.0.113.7\r\n\r\n");
  EXPECT_TRUE(body_of(answer).starts_with("127.0.0.1 ")) << answer;
}

TEST_P(Proxy, UnixSocketPeerIsTrustedWhenUnixIsListed) {
  auto path = std::filesystem::temp_directory_path() / ("csgi-proxy-" + std::to_string(::getpid()) + ".sock");
  config_.uds = path.string();
  config_.proxy_headers = true;
  config_.forwarded_allow_ips = ForwardedAllow::parse("unix");
  EXPECT_EQ(body_of(ask(request + "X-Forwarded-For: 203.0.113.7\r\n\r\n")), "203.0.113.7 0 http");
}

TEST_P(Proxy, ProxyProtocolV1NamesTheClient) {
  config_.proxy_protocol = true;
  auto answer = ask("PROXY TCP4 192.0.2.9 127.0.0.1 40000 80\r\n" + request + "\r\n");
  EXPECT_EQ(body_of(answer), "192.0.2.9 40000 http");
}

TEST_P(Proxy, ProxyProtocolV2WithTlsAtTheProxyIsHttps) {
  config_.proxy_protocol = true;
  std::string addresses = "\xC0\x00\x02\x09\x7F\x00\x00\x01\x9C\x40\x01\xBB"s;  // 192.0.2.9:40000
  std::string ssl = "\x20\x00\x05\x01\x00\x00\x00\x00"s;
  std::string body = addresses + ssl;
  std::string header = "\r\n\r\n\0\r\nQUIT\n\x21\x11"s + static_cast<char>(0) + static_cast<char>(body.size());
  auto answer = ask(header + body + request + "\r\n");
  EXPECT_EQ(body_of(answer), "192.0.2.9 40000 https");
}

TEST_P(Proxy, ConnectionWithoutAProxyHeaderIsClosedUnanswered) {
  config_.proxy_protocol = true;
  EXPECT_EQ(ask(request + "\r\n"), "");
}

TEST_P(Proxy, ProxyHeaderFromAnUntrustedPeerIsClosedUnanswered) {
  config_.proxy_protocol = true;
  config_.forwarded_allow_ips = ForwardedAllow::parse("10.0.0.1");
  EXPECT_EQ(ask("PROXY TCP4 192.0.2.9 127.0.0.1 40000 80\r\n" + request + "\r\n"), "");
}

INSTANTIATE_TEST_SUITE_P(BothServers, Proxy,
                         ::testing::Values(Kind{"loop", make_loop_server},
                                           Kind{"threaded", threaded_server_factory()}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace csgi::servers
