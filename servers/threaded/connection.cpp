#include "servers/threaded/connection.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "gateway/convert.hpp"
#include "gateway/response_driver.hpp"
#include "servers/cycle.hpp"
#include "servers/listener.hpp"
#include "servers/threaded/blocking_socket.hpp"
#include "servers/threaded/connection_pool.hpp"

namespace csgi::servers::threaded {

namespace {

// Bytes asked of the socket per read.
constexpr std::size_t read_size = 16 * 1024;
// How long a connection the server closes waits for the peer to take the last
// response before the socket is closed (see close_gracefully).
constexpr std::chrono::milliseconds close_linger{1000};

std::optional<Endpoint> known(Endpoint endpoint) {
  if (endpoint.host.empty()) return std::nullopt;
  return endpoint;
}

class Driver {
 public:
  Driver(int fd, const ConnectionContext& context, ConnectionPool& pool)
      : fd_(fd),
        context_(context),
        pool_(pool),
        client_(known(peer_endpoint(fd))),
        conn_(context.limits, connection_info(context.config, client_, known(socket_endpoint(fd)),
                                              context.state)) {}

  // Serves requests until the connection ends; then closes politely unless the
  // connection broke.
  void run() {
    bool polite = serve();
    if (polite && !gone_) close_gracefully(fd_, close_linger);
  }

  enum class Read { data, eof, timeout, yield };

  // Reads once into the protocol, waiting until `deadline`. An `idle`
  // connection (between requests) also gives its thread up when the pool asks.
  Read read_input(Clock::time_point deadline, bool idle) {
    for (;;) {
      switch (wait_readable(fd_, idle ? pool_.attention_fd() : -1, deadline)) {
        case WaitResult::timeout: return Read::timeout;
        case WaitResult::attention:
          if (pool_.yield_idle_connection()) return Read::yield;
          continue;
        case WaitResult::readable: break;
      }
      std::span<char> space = conn_.input_space(read_size);
      long n = read_some(fd_, space.first(read_size));
      if (n > 0) {
        conn_.commit_input(static_cast<std::size_t>(n));
        return Read::data;
      }
      if (n < 0) gone_ = true;
      conn_.receive_eof();
      return Read::eof;
    }
  }

  // Writes what the protocol queued. False when the peer is gone.
  bool flush() {
    std::string_view output = conn_.pending_output();
    if (output.empty()) return !gone_;
    if (!write_all(fd_, output)) {
      gone_ = true;
      return false;
    }
    conn_.consume_output(output.size());
    return true;
  }

  protocol::ServerConnection& conn() { return conn_; }
  int fd() const { return fd_; }
  const Config& config() const { return context_.config; }
  bool gone() const { return gone_; }
  void set_gone() { gone_ = true; }

 private:
  // The request loop. Returns true when the server chose to close (the peer
  // may still be reading), false when the connection is idle-closed or broken.
  bool serve();
  // Runs the app for one request; true to go on with the next request.
  bool serve_request(asgi::Scope scope, bool& polite);
  void run_app(wsgi::Environ& environ);

  int fd_;
  const ConnectionContext& context_;
  ConnectionPool& pool_;
  std::optional<Endpoint> client_;
  protocol::ServerConnection conn_;
  bool gone_ = false;  // the peer closed or reset, or a write failed
  // The loop an async app's calls reuse (asgi_to_wsgi), this connection's own.
  wsgi::LoopCache loops_;
};

// wsgi.input over the connection: blocks on the socket while the protocol has
// no body bytes for the app.
class RequestInput : public wsgi::InputStream {
 public:
  explicit RequestInput(Driver& driver) : driver_(driver) {}

  std::size_t read_some(std::span<char> buffer) override {
    while (offset_ == chunk_.size()) {
      if (ended_ || !fetch()) return 0;
    }
    std::size_t n = std::min(buffer.size(), chunk_.size() - offset_);
    std::memcpy(buffer.data(), chunk_.data() + offset_, n);
    offset_ += n;
    return n;
  }

  // The disconnect watch (spec/sync.md), for async apps that wait in receive().
  int disconnect_fd() const override { return driver_.fd(); }
  bool client_gone() override {
    if (!peer_closed(driver_.fd())) return false;
    driver_.set_gone();
    return true;
  }

 private:
  // Replaces the consumed chunk with the next one; false at the end of the body.
  bool fetch() {
    for (;;) {
      protocol::BodyEvent event = driver_.conn().receive_body();
      if (auto* request = std::get_if<asgi::HttpRequest>(&event)) {
        ended_ = !request->more_body;
        chunk_ = std::move(request->body);
        offset_ = 0;
        if (!chunk_.empty()) return true;
        if (ended_) return false;
        continue;
      }
      // The body stopped short: the client is gone. The adapters turn this into
      // http.disconnect; end_cycle takes it as the normal end of the request.
      if (std::holds_alternative<asgi::HttpDisconnect>(event)) {
        ended_ = true;
        throw asgi::ClientDisconnected();
      }
      // BodyPending: a queued "100 Continue" goes out first, then read; a body
      // that stalls longer than a request head may is given up on.
      if (!driver_.flush()) return false;
      auto deadline = Clock::now() + driver_.config().timeout_request_head;
      if (driver_.read_input(deadline, false) == Driver::Read::timeout) {
        driver_.set_gone();
        driver_.conn().receive_eof();
      }
    }
  }

  Driver& driver_;
  std::string chunk_;
  std::size_t offset_ = 0;
  bool ended_ = false;
};

bool Driver::serve() {
  bool idle = true;   // waiting for the first byte of the next request
  // No request yet: the client connected to send one, which is on its way. As
  // on the loop server it has the request-head timeout to arrive, and the
  // connection keeps its thread meanwhile: neither a graceful stop nor a
  // connection waiting for a thread takes it, as they take an idle one's.
  bool fresh = true;
  auto deadline = Clock::now() + config().timeout_request_head;
  for (;;) {
    if (!flush()) return false;
    protocol::Event event = conn_.next_event();
    if (std::holds_alternative<protocol::NeedData>(event)) {
      switch (read_input(deadline, idle && !fresh)) {
        case Read::data:
          if (idle) deadline = Clock::now() + config().timeout_request_head;
          idle = false;
          break;
        case Read::eof: break;
        case Read::timeout:
        case Read::yield: return false;
      }
      continue;
    }
    if (auto* started = std::get_if<protocol::RequestStarted>(&event)) {
      fresh = false;
      bool polite = true;
      if (!serve_request(std::move(started->scope), polite)) return polite;
      idle = true;
      deadline = Clock::now() + config().timeout_keep_alive;
      continue;
    }
    if (auto* refused = std::get_if<protocol::RequestError>(&event))
      log_request_error(conn_, *refused, client_);
    // RequestError and Closed: the error response (if any) goes out, then close.
    // Paused cannot happen here: the app runs to completion inside serve_request.
    flush();
    return true;
  }
}

bool Driver::serve_request(asgi::Scope scope, bool& polite) {
  // Connections refused with 503 never get here, so they are not counted.
  context_.request_budget.count();
  wsgi::Environ environ = environ_from_scope(scope);
  RequestInput input(*this);
  environ.input = &input;
  environ.loop_cache = &loops_;
  environ.multithread = true;
  if (!environ.state) environ.state = context_.state;

  std::exception_ptr error;
  try {
    run_app(environ);
  } catch (...) {
    error = std::current_exception();
  }
  CycleEnd end = end_cycle(conn_, error, gone_);
  log_cycle(conn_, client_);
  switch (end) {
    case CycleEnd::keep_alive:
      if (!flush()) return polite = false;
      conn_.start_next_request();
      return true;
    case CycleEnd::close:
      polite = flush();
      return false;
    case CycleEnd::abort:
      polite = false;
      gone_ = true;
      return false;
  }
  return false;
}

// The sync calling convention (spec/sync.md), through the ResponseDriver that
// every sync host shares. Each chunk is flushed before the next is asked for
// (a server does not delay a chunk), so a streamed response streams; a body
// the driver knows to be whole when the head goes out gets a Content-Length.
void Driver::run_app(wsgi::Environ& environ) {
  wsgi::ResponseDriver driver(
      [this](int status, Headers headers) {
        conn_.send_response_start(asgi::HttpResponseStart{status, std::move(headers), false});
      },
      [this](std::string_view bytes, bool more) {
        conn_.send_response_body(bytes, more);
        if (!flush()) throw asgi::ClientDisconnected();
      });
  driver.run(context_.app, environ);
}

}  // namespace

void serve_connection(int fd, const ConnectionContext& context, ConnectionPool& pool) {
  Driver(fd, context, pool).run();
}

}  // namespace csgi::servers::threaded
