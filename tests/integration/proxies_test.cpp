// Debian's nginx and HAProxy in front of csgi instances, on loopback ports:
// the client (the test, connecting from 127.0.0.2) and the scheme reach the
// app through nginx over TCP and over a Unix socket (proxy headers), and
// through HAProxy (the PROXY protocol, v1 and v2, with TLS at the proxy).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/integration/tools.hpp"
#include "tests/servers/supervisor/csgi_process.hpp"

namespace csgi::integration {
namespace {

using servers::testing::CsgiProcess;
using namespace std::chrono_literals;

// curl from 127.0.0.2, so that the client the app sees differs from the
// proxy's own address (127.0.0.1).
std::string ask(const std::string& url) {
  auto answer = curl({"--interface", "127.0.0.2", "--insecure", url});
  return answer ? client_and_scheme(*answer) : "no answer";
}

std::string http(std::uint16_t port, const std::string& path) {
  return ask("http://127.0.0.1:" + std::to_string(port) + path);
}

std::string https(std::uint16_t port, const std::string& path) {
  return ask("https://127.0.0.1:" + std::to_string(port) + path);
}

class Proxies : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!find_program("curl") || !find_program("openssl")) GTEST_SKIP() << "curl or openssl missing";
    ASSERT_TRUE(make_certificate(dir_));
  }

  // `csgi serve echo ARGS` on TCP; returns its port.
  std::uint16_t start_csgi(std::vector<std::string> args) {
    args.insert(args.begin(), "echo");
    auto& process = processes_.emplace_back(std::make_unique<CsgiProcess>(args));
    std::uint16_t port = process->port();
    EXPECT_NE(port, 0) << process->log();
    return port;
  }

  CsgiProcess& start(std::vector<std::string> argv) {
    return *processes_.emplace_back(std::make_unique<CsgiProcess>(CsgiProcess::Command{argv}));
  }

  TempDir dir_;
  std::uint16_t http_port_ = free_port();
  std::uint16_t https_port_ = free_port();
  std::vector<std::unique_ptr<CsgiProcess>> processes_;
};

TEST_F(Proxies, NginxForwardsClientAndSchemeOverTcpAndUnixSocket) {
  auto nginx = find_program("nginx");
  if (!nginx) GTEST_SKIP() << "nginx is not installed (make deps installs it)";
  std::uint16_t tcp = start_csgi({"--proxy-headers"});
  std::string socket = dir_ / "csgi.sock";
  auto& unix_csgi = start(std::vector<std::string>{CSGI_EXECUTABLE, "serve", "echo", "--uds", socket,
                                                   "--proxy-headers", "--forwarded-allow-ips", "unix",
                                                   "--server", "threaded"});
  ASSERT_TRUE(unix_csgi.wait_for_log("running on unix:")) << unix_csgi.log();
  // nginx's workers may run as another user: let them connect.
  ::chmod(socket.c_str(), 0666);
  render("nginx.conf", dir_ / "nginx.conf",
         {{"DIR", dir_.path()},
          {"CSGI_PORT", std::to_string(tcp)},
          {"CSGI_SOCKET", socket},
          {"HTTP_PORT", std::to_string(http_port_)},
          {"HTTPS_PORT", std::to_string(https_port_)}});
  auto& proxy = start({*nginx, "-e", "stderr", "-p", dir_.path(), "-c", dir_ / "nginx.conf"});
  ASSERT_TRUE(wait_for_port(http_port_, 5s) && wait_for_port(https_port_, 5s)) << proxy.log();

  EXPECT_EQ(http(http_port_, "/tcp/"), "127.0.0.2 http");
  EXPECT_EQ(https(https_port_, "/tcp/"), "127.0.0.2 https");
  EXPECT_EQ(http(http_port_, "/unix/"), "127.0.0.2 http");
  EXPECT_EQ(https(https_port_, "/unix/"), "127.0.0.2 https");
}

TEST_F(Proxies, NginxCannotForgeForAnUntrustedProxy) {
  auto nginx = find_program("nginx");
  if (!nginx) GTEST_SKIP() << "nginx is not installed (make deps installs it)";
  // nginx connects from 127.0.0.1, which this instance does not trust.
  std::uint16_t tcp = start_csgi({"--proxy-headers", "--forwarded-allow-ips", "10.0.0.1"});
  std::string socket = dir_ / "unused.sock";
  render("nginx.conf", dir_ / "nginx.conf",
         {{"DIR", dir_.path()},
          {"CSGI_PORT", std::to_string(tcp)},
          {"CSGI_SOCKET", socket},
          {"HTTP_PORT", std::to_string(http_port_)},
          {"HTTPS_PORT", std::to_string(https_port_)}});
  auto& proxy = start({*nginx, "-e", "stderr", "-p", dir_.path(), "-c", dir_ / "nginx.conf"});
  ASSERT_TRUE(wait_for_port(https_port_, 5s)) << proxy.log();
  EXPECT_EQ(https(https_port_, "/tcp/"), "127.0.0.1 http");
}

TEST_F(Proxies, HaproxySendsTheClientWithTheProxyProtocol) {
  auto haproxy = find_program("haproxy");
  if (!haproxy) GTEST_SKIP() << "haproxy is not installed (make deps installs it)";
  std::uint16_t a = start_csgi({"--proxy-protocol"});
  std::uint16_t b = start_csgi({"--proxy-protocol", "--server", "threaded"});
  render("haproxy.cfg", dir_ / "haproxy.cfg",
         {{"DIR", dir_.path()},
          {"CSGI_PORT_A", std::to_string(a)},
          {"CSGI_PORT_B", std::to_string(b)},
          {"HTTP_PORT", std::to_string(http_port_)},
          {"HTTPS_PORT", std::to_string(https_port_)}});
  auto& proxy = start({*haproxy, "-db", "-f", dir_ / "haproxy.cfg"});
  ASSERT_TRUE(wait_for_port(http_port_, 5s) && wait_for_port(https_port_, 5s)) << proxy.log();

  // Round robin: both instances (v2 and v1) answer in four requests.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(http(http_port_, "/"), "127.0.0.2 http") << i;
  EXPECT_EQ(https(https_port_, "/"), "127.0.0.2 https");
  // A client that bypasses the proxy is not served.
  EXPECT_EQ(http(a, "/"), "no answer");
}

}  // namespace
}  // namespace csgi::integration
