// Socket activation and notices, with the variables systemd would set.
#include "servers/systemd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "servers/listener.hpp"

namespace csgi::servers {
namespace {

// Puts a listening socket on descriptors 3 and 4, as systemd passes them,
// and puts back what was there.
class PassedSockets {
 public:
  PassedSockets() {
    for (int i = 0; i < 2; ++i) {
      int fd = systemd::first_listen_fd + i;
      saved_[i] = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
      Config config;
      config.port = 0;
      Listener listener = Listener::open(config);
      ports_[i] = listener.port();
      int source = listener.release();
      if (source != fd) {
        ::dup2(source, fd);
        ::close(source);
      }
    }
    std::string pid = std::to_string(::getpid());
    ::setenv("LISTEN_PID", pid.c_str(), 1);
    ::setenv("LISTEN_FDS", "2", 1);
    ::setenv("LISTEN_FDNAMES", "http:admin", 1);
  }
  ~PassedSockets() {
    for (int i = 0; i < 2; ++i) {
      int fd = systemd::first_listen_fd + i;
      if (saved_[i] >= 0) {
        ::dup2(saved_[i], fd);
        ::close(saved_[i]);
      } else {
        ::close(fd);
      }
    }
  }
  std::uint16_t port(int i) const { return ports_[i]; }

 private:
  int saved_[2] = {-1, -1};
  std::uint16_t ports_[2] = {0, 0};
};

TEST(Systemd, NamedSocketIsChosenAndTheVariablesAreUnset) {
  PassedSockets passed;
  auto fd = systemd::listen_fd("admin");
  ASSERT_EQ(fd, systemd::first_listen_fd + 1);
  EXPECT_EQ(socket_endpoint(*fd).port, passed.port(1));
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
  EXPECT_EQ(systemd::listen_fd("admin"), std::nullopt);  // read once
}

TEST(Systemd, SeveralSocketsWithoutANameIsAnError) {
  PassedSockets passed;
  EXPECT_THROW(systemd::listen_fd(""), std::runtime_error);
}

TEST(Systemd, UnknownNameIsAnError) {
  PassedSockets passed;
  EXPECT_THROW(systemd::listen_fd("metrics"), std::runtime_error);
}

TEST(Systemd, VariablesForAnotherProcessAreIgnored) {
  PassedSockets passed;
  ::setenv("LISTEN_PID", "1", 1);
  EXPECT_EQ(systemd::listen_fd("http"), std::nullopt);
}

TEST(Systemd, ListenerServesOnThePassedSocket) {
  PassedSockets passed;
  Config config;
  config.fd_name = "http";
  Listener listener = Listener::open(config);
  EXPECT_EQ(listener.port(), passed.port(0));
  listener.release();  // descriptor 3 is put back by PassedSockets
}

TEST(Systemd, NotifySendsTheStateToNotifySocket) {
  auto path = std::filesystem::temp_directory_path() / ("csgi-notify-" + std::to_string(::getpid()));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  systemd::notify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  char buffer[64] = {};
  pollfd readable{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 2000), 1);
  auto n = ::recv(fd, buffer, sizeof buffer, 0);
  EXPECT_EQ(std::string(buffer, n > 0 ? n : 0), "READY=1");
  ::close(fd);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace csgi::servers
