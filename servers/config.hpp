// Everything a server needs to know, filled from the settings table
// (cli/settings) by flags and CSGI_* environment variables, or directly by tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "gateway/forwarded_allow.hpp"
#include "protocol/limits.hpp"

namespace csgi::servers {

enum class ServerKind { loop, threaded };
enum class LifespanMode { auto_, on, off };
// --ws: serve WebSocket handshakes (auto), or pass them to the app as plain
// HTTP requests (none).
enum class WsMode { auto_, none };

struct Config {
  // Where to listen: a TCP host and port, a Unix socket path, or an inherited fd.
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;          // 0 = any free port (tests)
  std::string uds;                    // non-empty: listen on this Unix socket
  int fd = -1;                        // >= 0: an already-listening socket
  int backlog = 4096;
  // Socket activation: which of the sockets systemd passed (LISTEN_FDNAMES)
  // to serve on; empty takes the only one (spec/servers.md, "systemd").
  std::string fd_name;

  ServerKind server = ServerKind::loop;
  // Loop server: sync executor threads (default 1, "thread-sensitive");
  // threaded server: connection threads (default 64). Read it through
  // thread_count(), which applies the kind's default.
  std::optional<std::size_t> threads;
  // Loop server: run the sync threads under SCHED_BATCH (runtime/executor.hpp,
  // SyncScheduling::batch). Off by default: threads an app starts from a sync
  // thread would inherit the policy.
  bool sync_batch_scheduling = false;
  std::size_t workers = 1;            // > 1 starts the supervisor
  bool supervise = false;
  // The CLI's: a plugin is loaded again when its file changes (apps/reload.hpp).
  bool reload = false;

  std::chrono::milliseconds timeout_keep_alive{5000};
  std::chrono::milliseconds timeout_request_head{10000};   // whole head must arrive in this
  std::chrono::milliseconds timeout_graceful_shutdown{30000};
  std::chrono::milliseconds timeout_worker_healthcheck{30000};
  std::optional<std::size_t> limit_concurrency;           // 503 above it
  std::optional<std::size_t> limit_max_requests;          // recycle a worker after N
  std::size_t limit_max_requests_jitter = 0;

  // protocol limits
  std::size_t limit_request_line = protocol::default_limits::request_line;      // 414 above it
  std::size_t limit_request_head = protocol::default_limits::request_head;      // 431 above it
  std::size_t limit_request_fields = protocol::default_limits::request_fields;  // 431 above it
  std::optional<std::uint64_t> limit_request_body;  // 413 above it

  // WebSocket (spec/websocket.md, "Settings"), with uvicorn's names.
  WsMode ws = WsMode::auto_;
  std::uint64_t ws_max_size = 16 * 1024 * 1024;       // largest message: 1009 above it
  std::size_t ws_max_queue = 32;                      // received messages the app has not taken
  std::chrono::milliseconds ws_ping_interval{20000};  // 0: no keepalive pings
  std::chrono::milliseconds ws_ping_timeout{20000};   // no pong in this long closes (1011)
  bool ws_per_message_deflate = true;                 // accept permessage-deflate offers

  LifespanMode lifespan = LifespanMode::auto_;
  std::string log_level = "info";
  bool access_log = true;
  std::string root_path;
  std::string server_header = "csgi";        // empty: no Server header

  // Proxies (spec/servers.md, "Proxies"): the client and scheme of a request
  // from a trusted peer come from its proxy headers, or from the PROXY
  // protocol header that starts each connection.
  bool proxy_headers = false;
  bool proxy_protocol = false;
  ForwardedAllow forwarded_allow_ips = ForwardedAllow::parse("127.0.0.1");

  std::size_t thread_count() const {
    return threads.value_or(server == ServerKind::threaded ? 64 : 1);
  }
};

}  // namespace csgi::servers
