// csgi started by systemd-socket-activate, as a socket unit starts it: it
// serves on the socket it is handed (chosen by name), and tells the manager
// READY=1 once lifespan startup is over and STOPPING=1 when TERM begins the
// stop, with one worker and with the supervisor; and a USR2 upgrade under
// it hands the manager the new main process.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/tools.hpp"
#include "tests/servers/supervisor/csgi_process.hpp"
#include "tests/servers/supervisor/harness.hpp"

namespace csgi::integration {
namespace {

using servers::testing::CsgiProcess;
using namespace std::chrono_literals;

// A datagram socket standing in for the service manager's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // The next notice, or "" when none comes within `timeout`.
  std::string next(std::chrono::milliseconds timeout = 5s) {
    pollfd readable{fd_, POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buffer[256];
    auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

class SocketActivation : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(SocketActivation, ServesOnTheNamedSocketAndNotifiesReadyAndStopping) {
  auto activate = find_program("systemd-socket-activate");
  if (!activate) GTEST_SKIP() << "systemd-socket-activate is missing (make deps installs systemd)";
  TempDir dir;
  NotifySocket notices(dir / "notify");
  std::uint16_t port = free_port();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> argv{*activate, "--listen=" + listen, "--fdname=http",
                                "--setenv=NOTIFY_SOCKET=" + notices.path(),
                                CSGI_EXECUTABLE, "serve", "echo", "--fd-name", "http"};
  argv.insert(argv.end(), GetParam().begin(), GetParam().end());
  CsgiProcess csgi(CsgiProcess::Command{argv});
  // The launcher listens at once and starts csgi on the first connection.
  ASSERT_TRUE(wait_for_port(port, 5s)) << csgi.log();

  auto answer = curl({"http://" + listen + "/"});
  ASSERT_TRUE(answer) << csgi.log();
  EXPECT_NE(answer->find("\"server\":[\"127.0.0.1\"," + std::to_string(port) + "]"),
            std::string::npos)
      << *answer;
  EXPECT_EQ(notices.next(), "READY=1") << csgi.log();

  csgi.signal(SIGTERM);
  EXPECT_EQ(notices.next(), "STOPPING=1") << csgi.log();
  EXPECT_EQ(csgi.wait_exit(10s), 0) << csgi.log();
}

// The first number a log line matching `pattern` (one group) holds; 0 if none.
pid_t pid_in_log(const std::string& log, const std::regex& pattern) {
  std::smatch match;
  return std::regex_search(log, match, pattern) ? static_cast<pid_t>(std::stoi(match[1])) : 0;
}

TEST(SocketActivationUpgrade, Usr2TellsTheManagerTheNewMainPidAndTheNewSupervisorReportsToIt) {
  auto activate = find_program("systemd-socket-activate");
  if (!activate) GTEST_SKIP() << "systemd-socket-activate is missing (make deps installs systemd)";
  // The new supervisor is a child of the old one: once the old one exits it
  // becomes this process's, as it would become systemd's.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  TempDir dir;
  NotifySocket notices(dir / "notify");
  std::uint16_t port = free_port();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  CsgiProcess csgi(CsgiProcess::Command{
      {*activate, "--listen=" + listen, "--fdname=http", "--setenv=NOTIFY_SOCKET=" + notices.path(),
       CSGI_EXECUTABLE, "serve", "echo", "--fd-name", "http", "--workers", "2"}});
  ASSERT_TRUE(wait_for_port(port, 5s)) << csgi.log();
  ASSERT_TRUE(curl({"http://" + listen + "/"})) << csgi.log();
  EXPECT_EQ(notices.next(), "READY=1") << csgi.log();
  pid_t old = pid_in_log(csgi.log(), std::regex(R"(Started parent process \[(\d+)\])"));
  ASSERT_NE(old, 0) << csgi.log();

  ::kill(old, SIGUSR2);
  std::string notice = notices.next(10s);
  ASSERT_TRUE(csgi.wait_for_log("is ready: stopping this one")) << csgi.log();
  pid_t successor = pid_in_log(csgi.log(), std::regex(R"(New supervisor \(pid:(\d+)\) is ready)"));
  ASSERT_NE(successor, 0) << csgi.log();
  servers::testing::AdoptedProcess new_supervisor;
  new_supervisor.adopt(successor);
  EXPECT_EQ(notice, "MAINPID=" + std::to_string(successor)) << csgi.log();
  EXPECT_EQ(csgi.wait_exit(10s), 0) << csgi.log();  // the old supervisor
  ASSERT_TRUE(curl({"http://" + listen + "/"})) << csgi.log();

  // The new supervisor's later notices reach the manager.
  EXPECT_EQ(new_supervisor.stop(), 0) << csgi.log();
  EXPECT_EQ(notices.next(), "STOPPING=1") << csgi.log();
}

TEST(SystemdUnits, DocumentedUnitsPassSystemdAnalyzeVerify) {
  auto analyze = find_program("systemd-analyze");
  if (!analyze) GTEST_SKIP() << "systemd-analyze is missing (make deps installs systemd)";
  TempDir dir;
  render("csgi.socket", dir / "csgi.socket", {{"LISTEN", "127.0.0.1:8000"}});
  render("csgi.service", dir / "csgi.service", {{"CSGI", CSGI_EXECUTABLE}});
  EXPECT_EQ(run_command(shell_quoted(*analyze) + " verify --man=no " + shell_quoted(dir / "csgi.socket") +
                        " " + shell_quoted(dir / "csgi.service")),
            0);
}

INSTANTIATE_TEST_SUITE_P(OneWorkerAndSupervisor, SocketActivation,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"--workers", "2"}),
                         [](const auto& info) {
                           return info.param.empty() ? std::string("OneWorker")
                                                     : std::string("TwoWorkers");
                         });

}  // namespace
}  // namespace csgi::integration
