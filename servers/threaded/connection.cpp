#include "servers/threaded/connection.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "gateway/response_driver.hpp"
#include "servers/cycle.hpp"
#include "servers/listener.hpp"
#include "servers/proxy_preamble.hpp"
#include "servers/request_head.hpp"
#include "servers/threaded/blocking_socket.hpp"
#include "servers/threaded/connection_pool.hpp"
#include "servers/threaded/websocket_thread.hpp"
#include "servers/websocket_session.hpp"

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
        origin_(connection_scope(context.config, client_, known(socket_endpoint(fd)), context.state)),
        conn_(context.limits, connection_info(context.config)) {
    // The sync calling convention has no way to pass trailers on.
    origin_.extensions.http_response_trailers = false;
  }

  // Serves requests until the connection ends; then closes politely unless the
  // connection broke.
  void run() {
    if (config().proxy_protocol && !read_proxy_header()) return;
    bool polite = serve();
    if (polite && !gone_) close_gracefully(fd_, close_linger);
  }

  enum class Read { data, eof, timeout, yield };

  // Reads once into the protocol, waiting until `deadline`. An `idle`
  // connection (between requests) also gives its thread up when the pool asks.
  Read read_input(Clock::time_point deadline, bool idle) {
    for (;;) {
      // Bytes that already arrived win over attention: a request in flight
      // is served.
      const auto ready = wait_readable({fd_, idle ? pool_.attention_fd() : -1}, deadline);
      if (!ready) return Read::timeout;
      if (*ready == 1) {
        if (pool_.yield_idle_connection()) return Read::yield;
        continue;
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
  // --proxy-protocol: reads the PROXY header that must start the connection
  // (servers/proxy_preamble.hpp) within the request-head timeout; false when
  // the connection is to be closed.
  bool read_proxy_header();
  // The request loop. Returns true when the server chose to close (the peer
  // may still be reading), false when the connection is idle-closed or broken.
  bool serve();
  // Runs the app for one request; true to go on with the next request.
  bool serve_request(protocol::MessageHead& head, bool& polite);
  // The app's call: a sync app gets the Environ built from `head`, an async
  // one the Scope, each built once.
  void run_sync_app(protocol::MessageHead& head, wsgi::InputStream& input);
  void run_async_app(protocol::MessageHead& head, wsgi::InputStream& input);
  void run_app(const wsgi::App& app, wsgi::Environ& environ);

  int fd_;
  const ConnectionContext& context_;
  ConnectionPool& pool_;
  std::optional<Endpoint> client_;
  ConnectionScope origin_;  // what every request carries besides its head
  // The client proxy headers named for the current request (--proxy-headers).
  std::optional<Endpoint> forwarded_client_;
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
      if (auto* request = std::get_if<protocol::BodyChunk>(&event)) {
        ended_ = !request->more_body;
        chunk_ = std::move(request->body);
        offset_ = 0;
        if (!chunk_.empty()) return true;
        if (ended_) return false;
        continue;
      }
      // The body stopped short: the client is gone. The adapters turn this into
      // http.disconnect; end_cycle takes it as the normal end of the request.
      if (std::holds_alternative<protocol::BodyGone>(event)) {
        ended_ = true;
        throw asgi::ClientDisconnected();
      }
      // BodyPending: a queued "100 Continue" goes out first, then read. As on
      // every server, a body has no timeout (spec/servers.md, "Timeouts"): a
      // slow upload is bounded by the client, and a graceful shutdown's
      // abort ends the read.
      if (!driver_.flush()) return false;
      driver_.read_input(Clock::time_point::max(), false);
    }
  }

  Driver& driver_;
  std::string chunk_;
  std::size_t offset_ = 0;
  bool ended_ = false;
};

bool Driver::read_proxy_header() {
  ProxyPreamble preamble(config(), client_);
  auto step = preamble.start();
  auto deadline = Clock::now() + config().timeout_request_head;
  std::array<char, 512> buffer;
  while (step == ProxyPreamble::Step::read_more) {
    if (!wait_readable({fd_}, deadline)) return false;
    long n = read_some(fd_, buffer);
    if (n <= 0) return false;
    step = preamble.received({buffer.data(), static_cast<std::size_t>(n)}, origin_, conn_);
  }
  client_ = origin_.client;
  return step == ProxyPreamble::Step::done;
}

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
          // A head that started and did not finish in time gets its 408.
          if (conn_.head_timed_out()) return flush();
          return false;
        case Read::yield: return false;
      }
      continue;
    }
    if (auto* started = std::get_if<protocol::RequestStarted>(&event)) {
      fresh = false;
      if (takes_websocket_path(config(), *started->head)) {
        serve_websocket(fd_, context_, pool_, conn_, *started->head, origin_, client_);
        return false;
      }
      bool polite = true;
      if (!serve_request(*started->head, polite)) return polite;
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

// Counts a request as in flight for --limit-concurrency while it is served.
class InFlight {
 public:
  explicit InFlight(const ConnectionContext& context)
      : count_(context.requests_in_flight), before_(count_.fetch_add(1)) {}
  ~InFlight() { count_.fetch_sub(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  // The requests in flight before this one.
  std::size_t before() const { return before_; }

 private:
  std::atomic<std::size_t>& count_;
  std::size_t before_;
};

bool Driver::serve_request(protocol::MessageHead& head, bool& polite) {
  // Counted while the app runs: once it has returned the request no longer
  // holds a thread of the app's, even if its response is still being written.
  std::optional<InFlight> in_flight(context_);
  if (context_.config.limit_concurrency && in_flight->before() >= *context_.config.limit_concurrency) {
    // Over the limit: this request gets 503, and its connection closes.
    conn_.send_error_response(503);
    log_cycle(conn_, client_);
    polite = flush();
    return false;
  }
  // Requests refused with 503 are not counted.
  context_.request_budget.count();
  RequestInput input(*this);
  std::exception_ptr error;
  try {
    if (context_.async_app)
      run_async_app(head, input);
    else
      run_sync_app(head, input);
  } catch (...) {
    error = std::current_exception();
  }
  in_flight.reset();
  CycleEnd end = end_cycle(conn_, error, gone_);
  log_cycle(conn_, origin_.proxy_headers ? forwarded_client_ : client_);
  switch (end) {
    case CycleEnd::keep_alive:
      if (!flush()) return polite = false;
      conn_.start_next_request();
      return true;
    case CycleEnd::close:
      polite = flush();
      return false;
    case CycleEnd::abort:
      // A body that broke a rule (past --limit-request-body, say) ended the
      // app as a disconnect does, but its client is there to read the 413
      // the protocol queued, as on the loop server.
      if (!gone_ && conn_.request_failed()) {
        polite = flush();
        return false;
      }
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
void Driver::run_app(const wsgi::App& app, wsgi::Environ& environ) {
  wsgi::ResponseDriver driver(
      [this](int status, Headers headers) {
        conn_.send_response_start({status, std::move(headers), false});
        // A response that starts during a graceful shutdown is the last one.
        if (pool_.stopping()) conn_.close_after_response();
      },
      [this](std::string_view bytes, bool more) {
        conn_.send_response_body(bytes, more);
        if (!flush()) throw asgi::ClientDisconnected();
      });
  driver.run(app, environ);
}

void Driver::run_sync_app(protocol::MessageHead& head, wsgi::InputStream& input) {
  wsgi::Environ environ;
  fill_environ(environ, head, origin_);
  if (origin_.proxy_headers) forwarded_client_ = environ.remote;
  environ.input = &input;
  environ.loop_cache = &loops_;
  environ.multithread = true;
  // The request this thread serves, for the calls the app makes (client/).
  CurrentTrace current(&environ.trace);
  run_app(context_.app, environ);
}

void Driver::run_async_app(protocol::MessageHead& head, wsgi::InputStream& input) {
  struct Call {
    const AsyncAppAsSync& app;
    asgi::Scope scope;
    wsgi::InputStream* input;
    wsgi::LoopCache* loops;
  } call{*context_.async_app, {}, &input, &loops_};
  fill_scope(call.scope, head, origin_);
  if (origin_.proxy_headers) forwarded_client_ = call.scope.client;
  // The environ only names the request in the log of an error that comes
  // after the response is complete.
  wsgi::Environ environ;
  environ.request_method = call.scope.method;
  environ.path_info = call.scope.path;
  environ.input = &input;
  environ.trace = call.scope.trace;
  CurrentTrace current(&environ.trace);
  // One reference captured: the function stores it without an allocation.
  const wsgi::App app = [&call](wsgi::Environ&, wsgi::StartResponse& start_response) {
    return call.app(std::move(call.scope), call.input, start_response, call.loops);
  };
  run_app(app, environ);
}

}  // namespace

void serve_connection(int fd, const ConnectionContext& context, ConnectionPool& pool) {
  Driver(fd, context, pool).run();
}

}  // namespace csgi::servers::threaded
