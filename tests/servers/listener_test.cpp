#include "servers/listener.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <system_error>

namespace csgi::servers {
namespace {

Config tcp_config() {
  Config config;
  config.host = "127.0.0.1";
  config.port = 0;
  return config;
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

TEST(Listener, PortZeroBindsAFreePortAndReportsIt) {
  Listener listener = Listener::open(tcp_config());
  EXPECT_GE(listener.fd(), 0);
  EXPECT_NE(listener.port(), 0);
  EXPECT_EQ(listener.local_endpoint().host, "127.0.0.1");
  EXPECT_EQ(listener.url(), "http://127.0.0.1:" + std::to_string(listener.port()));
  EXPECT_FALSE(listener.is_unix());
}

TEST(Listener, PortInUseThrowsNamingTheAddress) {
  Listener first = Listener::open(tcp_config());
  Config config = tcp_config();
  config.port = first.port();
  try {
    Listener second = Listener::open(config);
    FAIL() << "bound a port that is in use";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos);
  }
}

TEST(Listener, UnixSocketFileIsCreatedAndRemovedAtClose) {
  std::string path = "/tmp/csgi-listener-test-" + std::to_string(::getpid()) + ".sock";
  Config config;
  config.uds = path;
  {
    Listener listener = Listener::open(config);
    EXPECT_TRUE(listener.is_unix());
    EXPECT_TRUE(exists(path));
    EXPECT_EQ(listener.url(), "unix:" + path);
    // A second server replaces a stale socket file rather than failing.
    ::close(listener.release());
  }
  EXPECT_TRUE(exists(path));
  {
    Listener again = Listener::open(config);
    EXPECT_TRUE(exists(path));
  }
  EXPECT_FALSE(exists(path));
}

TEST(Listener, AdoptsAnInheritedListeningSocket) {
  Listener original = Listener::open(tcp_config());
  std::uint16_t port = original.port();
  Config config;
  config.fd = original.release();
  Listener adopted = Listener::open(config);
  EXPECT_EQ(adopted.fd(), config.fd);
  EXPECT_EQ(adopted.port(), port);
}

TEST(Listener, AdoptRejectsASocketThatDoesNotListen) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_THROW(Listener::adopt(fd), std::system_error);
  ::close(fd);
}

// Puts the process's open-file limits back as they were.
class RestoreOpenFileLimit {
 public:
  RestoreOpenFileLimit() { ::getrlimit(RLIMIT_NOFILE, &saved_); }
  ~RestoreOpenFileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  RestoreOpenFileLimit(const RestoreOpenFileLimit&) = delete;
  RestoreOpenFileLimit& operator=(const RestoreOpenFileLimit&) = delete;

 private:
  rlimit saved_{};
};

TEST(Listener, OpenFileLimitRaisedToHardLimit) {
  RestoreOpenFileLimit restore;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  // Below the hard limit first, or there would be nothing to raise.
  rlimit lowered = limit;
  lowered.rlim_cur = limit.rlim_max / 2;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  ASSERT_LT(lowered.rlim_cur, limit.rlim_max);

  EXPECT_EQ(raise_open_file_limit(), limit.rlim_max);
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(limit.rlim_cur, limit.rlim_max);
}

}  // namespace
}  // namespace csgi::servers
