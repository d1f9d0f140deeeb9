// What the integration tests need around the real programs they start: a
// private directory, free loopback ports, configuration files rendered from
// the templates next to the tests, a self-signed certificate, and curl.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace csgi::integration {

// A fresh directory, readable by other users (nginx's workers may run as
// one), removed with its contents at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The path of `program` on PATH (or in /usr/sbin, /sbin), or nullopt.
std::optional<std::string> find_program(const std::string& program);

// A TCP port on 127.0.0.1 that nothing listens on now.
std::uint16_t free_port();

// True once something accepts connections on 127.0.0.1:`port`.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

// Writes the template tests/integration/`name`.in to `to`, with each
// @KEY@ replaced by its value.
void render(const std::string& name, const std::string& to,
            const std::map<std::string, std::string>& values);

// Writes a self-signed certificate for 127.0.0.1 to cert.pem and key.pem in
// `dir`, and both in one file, haproxy.pem. False when openssl fails.
bool make_certificate(const TempDir& dir);

// Runs `command` with /bin/sh; returns its exit status (-1 when killed).
int run_command(const std::string& command);

// `text` quoted for /bin/sh.
std::string shell_quoted(const std::string& text);

// Runs curl with `args` (silent, 5 s at most) and returns what it printed,
// or nullopt when it failed.
std::optional<std::string> curl(const std::vector<std::string>& args);

// The client host and scheme the echo app reports in its JSON answer:
// "127.0.0.2 https".
std::string client_and_scheme(const std::string& echo_json);

}  // namespace csgi::integration
