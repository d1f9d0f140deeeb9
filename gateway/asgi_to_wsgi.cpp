// asgi_to_wsgi: an async app on a sync server (spec/servers.md, "Running an
// async app on a sync server").
//
// Each call owns a private io_context that only the calling thread runs, and
// only while the server is inside the adapter: during the call (until the app
// starts its response) and during each Body::next() (until the app hands over
// its next chunk). Between those, the app is suspended, so a chunk handed to
// `send` is taken by the server before the app runs again: backpressure without
// a queue.
//
// A call borrows the spare io_context of the LoopCache its caller lends it
// (Environ::loop_cache), if there is one. At the end of the call the loop goes
// back to the cache only if the call left no work behind in it (no handler,
// timer or operation pending); otherwise it is destroyed with whatever is
// left, as a loop of its own would be. So each call starts on a loop holding
// nothing of an earlier call, without paying for a new loop (and its
// descriptors, once it has a reactor) per request. The cache belongs to the
// caller, which makes it after any fork and on the thread that uses it: no
// thread-local, and nothing to mend in a forked child.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <atomic>
#include <list>
#include <memory>

#include "gateway/adapters.hpp"
#include "gateway/convert.hpp"
#include "runtime/async_event.hpp"

namespace csgi {

namespace asio = boost::asio;

namespace {

// Request body events carry at most this much.
constexpr std::size_t request_chunk_size = 64 * 1024;

std::unique_ptr<asio::io_context> take_loop(wsgi::LoopCache* cache) {
  if (cache && cache->spare) return std::move(cache->spare);
  return std::make_unique<asio::io_context>(1);
}

// Keeps `context` as the cache's spare if no work is left in it.
void give_back_loop(wsgi::LoopCache* cache, std::unique_ptr<asio::io_context> context) {
  if (!cache || cache->spare) return;
  // Adding and removing one unit of work stops the loop exactly when the count
  // returns to zero, without running anything that is left.
  context->restart();
  asio::make_work_guard(*context).reset();
  if (!context->stopped()) return;
  context->restart();
  cache->spare = std::move(context);
}

// The loop of one call, given back when the call ends: declared before
// everything bound to the loop, it is given back after all of it is gone.
class CallLoop {
 public:
  explicit CallLoop(wsgi::LoopCache* cache) : cache_(cache), context_(take_loop(cache)) {}
  ~CallLoop() { give_back_loop(cache_, std::move(context_)); }
  CallLoop(const CallLoop&) = delete;
  CallLoop& operator=(const CallLoop&) = delete;
  asio::io_context& get() { return *context_; }

 private:
  wsgi::LoopCache* cache_;
  std::unique_ptr<asio::io_context> context_;
};

class AsyncCall : public wsgi::Body::Source {
 public:
  AsyncCall(const asgi::Scope& scope, wsgi::InputStream* input,
            const wsgi::StartResponse& start_response, wsgi::LoopCache* loops)
      : loop_(loops),
        start_response_(start_response),
        input_(input),
        remaining_(content_length(scope.headers)) {}

  // Spawns the app on the private loop; it first runs inside run_until().
  void start(std::shared_ptr<const asgi::App> app, asgi::Scope scope) {
    auto run_app = [this, app = std::move(app), scope = std::move(scope)]() mutable {
      return (*app)(
          std::move(scope), [this] { return receive(); },
          [this](asgi::SendEvent event) { return send(std::move(event)); });
    };
    asio::co_spawn(context_, std::move(run_app),
                   asio::bind_cancellation_slot(cancel_.slot(), [this](std::exception_ptr error) {
                     app_done_ = true;
                     app_error_ = error;
                   }));
  }

  // Runs the loop until the app started its response; throws what it threw
  // before that, or if it returned without starting one.
  void run_until_started() {
    run_until([this] { return started_; });
    if (started_) return;
    if (app_error_) std::rethrow_exception(app_error_);
    throw std::runtime_error("async app returned without starting a response");
  }

  // Body::next(): runs the loop until the app hands over a chunk or finishes.
  std::optional<std::string> next() override {
    run_until([this] { return pending_.has_value(); });
    if (pending_) {
      std::string chunk = std::move(*pending_);
      pending_.reset();
      pulled_.notify();
      return chunk;
    }
    if (app_error_) std::rethrow_exception(std::exchange(app_error_, nullptr));
    if (!complete_) throw std::runtime_error("async app returned without completing its response");
    return std::nullopt;
  }

  // Body::exhausted(): the app sent its final body event, and the chunk it
  // carried has been pulled.
  bool exhausted() const override { return complete_ && !pending_; }

  // Body::close(): an unfinished app is cancelled and run until it unwound;
  // its send() then throws ClientDisconnected and receive() gives http.disconnect.
  void close() override {
    if (app_done_) return;
    closed_ = true;
    pulled_.notify();
    progress_.notify();
    cancel_.emit(asio::cancellation_type::terminal);
    try {
      run_until([] { return false; });
    } catch (const std::runtime_error&) {
      // Stalled even after cancellation: destroying the loop frees what is left.
    }
  }

 private:
  template <class Done>
  void run_until(Done done) {
    EventLoopThreadMark mark;
    while (!done() && !app_done_) {
      if (context_.stopped()) context_.restart();
      if (context_.run_one() == 0 && !done() && !app_done_)
        throw std::runtime_error("async app is waiting for something that can never happen");
    }
  }

  asgi::awaitable<asgi::ReceiveEvent> receive() {
    asgi::PendingCall pending(receiving_, "receive()");
    if (!input_ended_ && !closed_) co_return read_request_chunk();
    // After the body, receive() waits for the end of the response (spec/async.md,
    // "http.disconnect"), or for the client to go, if the server offers a watch.
    while (!complete_ && !closed_ && !client_gone_) {
      if (watching()) {
        co_await wait_for_progress_or_disconnect();
      } else {
        co_await progress_.wait();
      }
    }
    co_return asgi::HttpDisconnect{};
  }

  // True while the server's disconnect watch (spec/sync.md) is to be used.
  bool watching() {
    if (watch_unused_ && input_ && input_->disconnect_fd() >= 0) {
      watch_unused_ = false;
      // A duplicate, so that the descriptor Asio owns and closes is ours.
      int fd = ::dup(input_->disconnect_fd());
      if (fd >= 0) watch_.emplace(context_, fd);
    }
    return watch_.has_value();
  }

  asgi::awaitable<void> wait_for_progress_or_disconnect() {
    using namespace asio::experimental::awaitable_operators;
    auto readable = watch_->async_wait(asio::posix::descriptor_base::wait_read,
                                       asio::as_tuple(asio::use_awaitable));
    auto which = co_await (progress_.wait() || std::move(readable));
    if (which.index() == 0) co_return;
    // Readable: the client closed, reset, or sent more (a pipelined request).
    if (input_->client_gone()) {
      client_gone_ = true;
    } else {
      watch_.reset();
    }
  }

  // Blocks this thread on the server's input stream: the loop is private to
  // this request, so nothing else waits on it.
  asgi::ReceiveEvent read_request_chunk() {
    std::size_t want = request_chunk_size;
    if (remaining_) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *remaining_));
    std::string chunk(want, '\0');
    std::size_t got = 0;
    try {
      if (input_ && want > 0) got = input_->read_some(std::span<char>(chunk));
    } catch (const asgi::ClientDisconnected&) {
      input_ended_ = true;
      return asgi::HttpDisconnect{};
    }
    chunk.resize(got);
    if (remaining_) *remaining_ -= got;
    bool more = got > 0 && (!remaining_ || *remaining_ > 0);
    input_ended_ = !more;
    return asgi::HttpRequest{std::move(chunk), more};
  }

  asgi::awaitable<void> send(asgi::SendEvent event) {
    asgi::PendingCall pending(sending_, "send()");
    if (closed_) throw asgi::ClientDisconnected();
    if (auto* start = std::get_if<asgi::HttpResponseStart>(&event)) {
      if (started_) throw asgi::ProtocolViolation("http.response.start sent twice");
      start_response_(start->status, std::move(start->headers));
      started_ = true;
      co_return;
    }
    auto* body = std::get_if<asgi::HttpResponseBody>(&event);
    if (!body)
      throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) +
                                    " is not valid on this scope");
    if (!started_) throw asgi::ProtocolViolation("http.response.body before http.response.start");
    if (complete_) throw asgi::ProtocolViolation("http.response.body after the final body");
    if (!body->more_body) {
      complete_ = true;
      progress_.notify();
    }
    if (body->body.empty()) co_return;
    pending_ = std::move(body->body);
    while (pending_ && !closed_) co_await pulled_.wait();
    if (pending_) throw asgi::ClientDisconnected();
  }

  // Declared first: destroyed last, after the waiters and the watch that use it.
  CallLoop loop_;
  asio::io_context& context_ = loop_.get();
  AsyncEvent pulled_{context_.get_executor()};    // notified: the server took the pending chunk, or closed
  AsyncEvent progress_{context_.get_executor()};  // notified: the response completed, or the body closed
  asio::cancellation_signal cancel_;

  wsgi::StartResponse start_response_;
  wsgi::InputStream* input_;
  std::optional<std::uint64_t> remaining_;  // request body bytes still due, if known
  bool input_ended_ = false;
  bool watch_unused_ = true;  // the disconnect watch was not looked at yet
  bool client_gone_ = false;  // the watch reported the client gone
  std::optional<asio::posix::stream_descriptor> watch_;

  bool started_ = false;
  bool complete_ = false;  // the final http.response.body was sent
  bool closed_ = false;    // the server closed the body
  bool app_done_ = false;
  bool receiving_ = false;  // a receive() is in progress
  bool sending_ = false;    // a send() is in progress
  std::exception_ptr app_error_;
  std::optional<std::string> pending_;  // a chunk sent and not yet pulled
};

}  // namespace

wsgi::LoopCache::LoopCache() = default;
wsgi::LoopCache::~LoopCache() = default;

AsyncAppAsSync::AsyncAppAsSync(asgi::App app)
    : app_(std::make_shared<const asgi::App>(std::move(app))) {}

wsgi::Body AsyncAppAsSync::operator()(wsgi::Environ& environ,
                                      wsgi::StartResponse& start_response) const {
  return (*this)(scope_from_environ(environ), environ.input, start_response, environ.loop_cache);
}

wsgi::Body AsyncAppAsSync::operator()(asgi::Scope&& scope, wsgi::InputStream* input,
                                      wsgi::StartResponse& start_response,
                                      wsgi::LoopCache* loops) const {
  if (this_thread_runs_event_loop()) throw NestedEventLoopError();
  auto call = std::make_unique<AsyncCall>(scope, input, start_response, loops);
  call->start(app_, std::move(scope));
  call->run_until_started();
  return wsgi::Body(std::move(call));
}

wsgi::App asgi_to_wsgi(asgi::App app) { return AsyncAppAsSync(std::move(app)); }

}  // namespace csgi
