#include "tests/integration/tools.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace csgi::integration {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "csgi-integration-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::optional<std::string> find_program(const std::string& program) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin";
  std::stringstream directories(path);
  for (std::string directory; std::getline(directories, directory, ':');) {
    fs::path candidate = fs::path(directory) / program;
    if (!directory.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

int run_command(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(port);
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a port: nothing to wait on
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

void render(const std::string& name, const std::string& to,
            const std::map<std::string, std::string>& values) {
  std::ifstream in(std::string(CSGI_INTEGRATION_DIR) + "/" + name + ".in");
  std::stringstream text;
  text << in.rdbuf();
  std::string out = text.str();
  for (const auto& [key, value] : values) {
    std::string placeholder = "@" + key + "@";
    for (auto at = out.find(placeholder); at != std::string::npos; at = out.find(placeholder, at))
      out.replace(at, placeholder.size(), value);
  }
  std::ofstream(to) << out;
}

bool make_certificate(const TempDir& dir) {
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout " +
                        shell_quoted(dir / "key.pem") + " -out " + shell_quoted(dir / "cert.pem") +
                        " >/dev/null 2>&1 && cat " + shell_quoted(dir / "cert.pem") + " " +
                        shell_quoted(dir / "key.pem") + " > " + shell_quoted(dir / "haproxy.pem");
  return run_command(command) == 0;
}

std::optional<std::string> curl(const std::vector<std::string>& args) {
  std::string command = "curl --silent --show-error --fail --max-time 5";
  for (const auto& arg : args) command += " " + shell_quoted(arg);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

std::string client_and_scheme(const std::string& echo_json) {
  static const std::regex client(R"re("client":(null|\["([^"]*)",\d+\]))re");
  static const std::regex scheme(R"re("scheme":"([^"]*)")re");
  std::smatch found_client, found_scheme;
  if (!std::regex_search(echo_json, found_client, client) ||
      !std::regex_search(echo_json, found_scheme, scheme))
    return "unparsed: " + echo_json;
  std::string host = found_client[1] == "null" ? "none" : std::string(found_client[2]);
  return host + " " + std::string(found_scheme[1]);
}

}  // namespace csgi::integration
