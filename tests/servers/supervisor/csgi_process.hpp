// The real `csgi` executable as a subprocess, for the supervisor's end-to-end
// tests, and a minimal blocking HTTP client to load it with.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "scenario/child_process.hpp"

namespace csgi::servers::testing {

using std::chrono::milliseconds;

// `csgi serve ARGS...` with --port 0; its stderr (the log) is collected.
class CsgiProcess {
 public:
  explicit CsgiProcess(std::vector<std::string> serve_args);
  // Any command line, run and watched the same way: a proxy in front of
  // csgi, or csgi under a launcher. `argv[0]` is a path.
  struct Command {
    std::vector<std::string> argv;
  };
  explicit CsgiProcess(Command command);
  // SIGTERM, then SIGKILL after 3 s if it has not exited.
  ~CsgiProcess();
  CsgiProcess(const CsgiProcess&) = delete;
  CsgiProcess& operator=(const CsgiProcess&) = delete;

  pid_t pid() const { return child_.pid(); }
  // The port the supervisor bound, from its startup line; 0 if none appeared
  // within `timeout`.
  std::uint16_t port(milliseconds timeout = milliseconds(3000));
  void signal(int signal_number) const;
  // To its whole process group, as a terminal's Ctrl+C does (csgi runs in a
  // group of its own, not the test's).
  void signal_group(int signal_number) const;
  std::vector<pid_t> workers() const;
  // Waits until the log holds `count` lines containing `text`.
  bool wait_for_log(const std::string& text, std::size_t count = 1,
                    milliseconds timeout = milliseconds(3000));
  std::size_t count_in_log(const std::string& text) const;
  std::string log() const;
  // The exit status (code, or 128 + signal) once it exits.
  std::optional<int> wait_exit(milliseconds timeout = milliseconds(3000));

 private:
  scenario::ChildProcess child_;
  std::uint16_t port_ = 0;
};

struct Reply {
  int status = 0;
  std::string body;
  pid_t worker = 0;  // x-worker-pid, when the app sends it
  bool close = false;  // "Connection: close": the server ends the connection after it
};

// One client connection to 127.0.0.1:port, every read and write bounded by
// `timeout`.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port, milliseconds timeout = milliseconds(3000));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send_get(const std::string& target, bool keep_alive);
  // Reads one Content-Length framed response; nullopt on EOF, error or timeout.
  std::optional<Reply> read_reply();
  std::optional<Reply> get(const std::string& target, bool keep_alive = true) {
    if (!send_get(target, keep_alive)) return std::nullopt;
    return read_reply();
  }

 private:
  bool fill();

  int fd_ = -1;
  std::string buffer_;
};

// GET on a connection of its own (Connection: close).
std::optional<Reply> get_once(std::uint16_t port, const std::string& target,
                              milliseconds timeout = milliseconds(3000));

}  // namespace csgi::servers::testing
