// wsgi_to_asgi: a sync app on an async server (spec/servers.md, "Running a sync
// app on an async server").
//
// Two threads take part in each call. The loop coroutine hands the sync call to
// the SyncExecutor and suspends without blocking the loop. The sync thread runs
// the app; every operation that needs the server (reading the request body,
// sending a piece of the response) is spawned onto the loop and the sync thread
// waits for its result. That wait is the backpressure: the app produces its next
// chunk only after `send` took the previous one.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <future>
#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/adapters.hpp"
#include "gateway/convert.hpp"
#include "gateway/error_log.hpp"
#include "gateway/response_driver.hpp"
#include "runtime/ascii.hpp"

namespace csgi {

namespace asio = boost::asio;

namespace {

// The one warning of an episode of sync calls queueing (runtime/sync_queue_watch.hpp).
void warn_sync_calls_queueing(const SyncQueueWait& wait, std::size_t threads) {
  error_log()->warn(
      "Sync calls are queueing: a call waited {} ms for one of the {} sync thread(s), with {} "
      "call(s) still waiting. A sync view that calls its own server deadlocks this way. "
      "Remedies: more threads (--threads), more workers (--workers), or an async view.",
      wait.waited.count(), threads, wait.waiting);
}

// The answer to a call that can never start (SyncExecutor::certain_deadlock),
// logged once per refused call.
std::string refuse_deadlocked_call(const SyncCallOrigin& origin, std::size_t threads) {
  std::string message = fmt::format(
      "Deadlock avoided: {} {} needs a sync thread, and all {} sync thread(s) of this worker are "
      "held by the request that made this call (or by its own callers), each waiting for this "
      "answer: it could never start. Answered 503 at once instead of letting the caller time "
      "out. Remedies: more threads (--threads), more workers (--workers), or an async view.",
      origin.method, origin.path, threads);
  error_log()->error("{}", message);
  return message;
}

// A sync call queued on a SyncExecutor by run_on_pool: runs `work` on the
// pool and completes `handler` on the loop with what `work` threw. It is
// created and destroyed on the loop.
template <class Handler, class Work>
class PoolCall final : public SyncTask {
 public:
  PoolCall(Handler handler, Work work, const TraceContext& trace, std::size_t threads)
      : SyncTask(trace), handler_(std::move(handler)), work_(std::move(work)), threads_(threads) {
    auto slot = asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected())
      slot.assign([this](asio::cancellation_type) { abandoned_.store(true); });
  }

  void run(std::optional<SyncQueueWait> wait) noexcept override {
    if (wait) warn_sync_calls_queueing(*wait, threads_);
    if (abandoned_.load()) {
      error_ = std::make_exception_ptr(asgi::ClientDisconnected());
      return;
    }
    try {
      work_();
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  void complete() noexcept override {
    asio::get_associated_cancellation_slot(handler_).clear();
    Handler handler = std::move(handler_);
    std::exception_ptr error = std::move(error_);
    delete this;
    std::move(handler)(error);
  }

 private:
  Handler handler_;
  Work work_;
  std::size_t threads_;
  std::exception_ptr error_;
  std::atomic<bool> abandoned_{false};  // set on the loop by a cancellation, read on the pool
};

// Runs `work` on `pool` and resumes the awaiting coroutine on its own executor,
// rethrowing what `work` threw. The loop keeps counting the call as outstanding
// work, so a loop with nothing else to do does not return from run() meanwhile.
//
// Around the call, current_trace() names the request it serves (`origin`;
// the executor also keeps it for certain_deadlock). A call that can never
// start is refused with SyncDeadlock. A call whose awaiting coroutine was
// cancelled (its client went away) before it started never runs, and ends
// with ClientDisconnected. The queue watch's warning is logged on the pool's
// thread, before the call.
// A deferred operation: awaiting it costs no coroutine frame of its own.
template <class Work>
auto run_on_pool(SyncExecutor& pool, const SyncCallOrigin& origin, Work work) {
  auto initiate = [&pool, &origin, work = std::move(work)](auto handler) mutable {
    asio::any_io_executor home = asio::get_associated_executor(handler);
    if (pool.certain_deadlock(origin.trace)) {
      auto error = std::make_exception_ptr(
          SyncDeadlock(refuse_deadlocked_call(origin, pool.threads())));
      asio::post(home, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
      return;
    }
    using Call = PoolCall<decltype(handler), Work>;
    auto* call = new Call(std::move(handler), std::move(work), origin.trace, pool.threads());
    pool.submit(*call, std::move(home));
  };
  return asio::async_initiate<const asio::deferred_t&, void(std::exception_ptr)>(std::move(initiate),
                                                                                asio::deferred);
}

// The result of an operation that ran on the loop. A broken promise means the
// loop was destroyed with the operation still queued: the server is gone, which
// the sync side sees as a disconnect. The answers of the calls that ran before
// this one go back first: what the loop does next may depend on them.
template <class T>
T take(std::future<T>& future) {
  try {
    SyncExecutor::hand_back_answers();
    return future.get();
  } catch (const std::future_error&) {
    throw asgi::ClientDisconnected();
  }
}

Headers lower_case_names(Headers headers) {
  for (auto& header : headers) header.first = ascii::to_lower(std::move(header.first));
  return headers;
}

// The state of one sync call, shared by the loop coroutine and the sync thread.
// Everything below except the two *_on_loop helpers runs on the sync thread.
class SyncCall : public std::enable_shared_from_this<SyncCall> {
 public:
  SyncCall(asgi::Receive receive, asgi::Send send, wsgi::Environ environ)
      : receive_(std::move(receive)), send_(std::move(send)), environ_(std::move(environ)), input_(*this) {
    environ_.input = &input_;
  }

  // The loop of the coroutine that awaits the call, before the call runs.
  void set_loop(asio::any_io_executor loop) { loop_ = std::move(loop); }
  const asgi::Send& send() const { return send_; }

  // Runs the app through a ResponseDriver whose head and chunks go to `send`.
  // The driver sends a head only right before a chunk, so the head waits for
  // it and both cross to the loop together. The final chunk does not cross
  // at all: it waits here for the loop, which sends it once the call has
  // returned (send_final), so that a response of one chunk costs the sync
  // thread no wait for the loop, only the call's own hand-over back.
  void run(const wsgi::App& app) {
    std::optional<asgi::HttpResponseStart> head;
    wsgi::ResponseDriver driver(
        [&head](int status, Headers headers) {
          head.emplace(status, lower_case_names(std::move(headers)), false);
        },
        [this, &head](std::string chunk, bool more) {
          asgi::HttpResponseBody body{std::move(chunk), more};
          if (!more) {
            final_head_ = std::exchange(head, std::nullopt);
            final_body_ = std::move(body);
            return;
          }
          send_on_loop(std::exchange(head, std::nullopt), std::move(body));
        });
    driver.run(app, environ_);
  }

  const wsgi::Environ& environ() const { return environ_; }

  // On the loop, after run() returned: the head still due and the final
  // chunk, sent by the caller of run() (call_sync_app).
  std::optional<asgi::HttpResponseStart> final_head_;
  std::optional<asgi::HttpResponseBody> final_body_;

 private:
  class Input : public wsgi::InputStream {
   public:
    explicit Input(SyncCall& call) : call_(call) {}
    std::size_t read_some(std::span<char> buffer) override {
      return call_.read_some(buffer);
    }

   private:
    SyncCall& call_;
  };

  std::size_t read_some(std::span<char> buffer) {
    while (offset_ == pending_.size()) {
      if (disconnected_) throw asgi::ClientDisconnected();
      if (body_ended_ || buffer.empty()) return 0;
      asgi::ReceiveEvent event = receive_on_loop();
      if (auto* request = std::get_if<asgi::HttpRequest>(&event)) {
        pending_ = std::move(request->body);
        offset_ = 0;
        body_ended_ = !request->more_body;
      } else if (std::holds_alternative<asgi::HttpDisconnect>(event)) {
        disconnected_ = true;
      } else {
        throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) +
                                      " received on an http scope");
      }
    }
    std::size_t n = std::min(buffer.size(), pending_.size() - offset_);
    std::memcpy(buffer.data(), pending_.data() + offset_, n);
    offset_ += n;
    return n;
  }

  asgi::ReceiveEvent receive_on_loop() {
    auto promise = std::make_shared<std::promise<asgi::ReceiveEvent>>();
    auto future = promise->get_future();
    asio::co_spawn(
        loop_, [self = shared_from_this()] { return self->receive_(); },
        [promise](std::exception_ptr error, asgi::ReceiveEvent event) {
          if (error)
            promise->set_exception(error);
          else
            promise->set_value(std::move(event));
        });
    return take(future);
  }

  // Sends `head` (when there is one) and then `body` on the loop, and blocks
  // until both were taken.
  void send_on_loop(std::optional<asgi::HttpResponseStart> head, asgi::HttpResponseBody body) {
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();
    asio::co_spawn(
        loop_,
        [self = shared_from_this(), head = std::move(head),
         body = std::move(body)]() mutable -> asgi::awaitable<void> {
          if (head) co_await self->send_(std::move(*head));
          co_await self->send_(std::move(body));
        },
        [promise](std::exception_ptr error) {
          if (error)
            promise->set_exception(error);
          else
            promise->set_value();
        });
    take(future);
  }

  asio::any_io_executor loop_;
  asgi::Receive receive_;
  asgi::Send send_;
  wsgi::Environ environ_;
  Input input_;
  // request body
  std::string pending_;
  std::size_t offset_ = 0;
  bool body_ended_ = false;
  bool disconnected_ = false;
};

// The loop's side of one call. Its frame holds two pointers and the origin,
// not the request: the scope became the environ before the coroutine began
// (wsgi_to_asgi), so that the frame stays small enough for Asio to recycle.
asgi::awaitable<void> call_sync_app(std::shared_ptr<const wsgi::App> app, SyncExecutor& pool,
                                    std::shared_ptr<SyncCall> call) {
  call->set_loop(co_await asio::this_coro::executor);
  const wsgi::Environ& started = call->environ();
  SyncCallOrigin origin{started.trace, started.request_method, started.path_info};
  try {
    co_await run_on_pool(pool, origin, [call, app] { call->run(*app); });
  } catch (const SyncDeadlock& refused) {
    call->final_head_.emplace(503, Headers{{"content-type", "text/plain; charset=utf-8"}}, false);
    call->final_body_.emplace(std::string(refused.what()) + "\n", false);
  }
  if (call->final_head_) co_await call->send()(std::move(*call->final_head_));
  if (call->final_body_) co_await call->send()(std::move(*call->final_body_));
}

// A coroutine that fails when awaited: what the adapter returns when it
// fails before its coroutine exists, so that its caller sees the failure
// where it awaits the app, as with any app.
asgi::awaitable<void> fail_with(std::exception_ptr error) {
  std::rethrow_exception(error);
  co_return;
}

}  // namespace

asgi::awaitable<void> run_sync(SyncExecutor& executor, std::function<void()> work,
                               SyncCallOrigin origin) {
  co_await run_on_pool(executor, origin, std::move(work));
}

asgi::App wsgi_to_asgi(wsgi::App app, SyncExecutor& executor) {
  auto shared = std::make_shared<const wsgi::App>(std::move(app));
  executor.get_executor();  // its threads start with the adapter (runtime/executor.hpp)
  SyncExecutor* pool = &executor;
  // A plain lambda returning the coroutine: nothing the coroutine uses lives in
  // the std::function, which callers may copy or drop while requests run.
  return [shared, pool](asgi::Scope scope, asgi::Receive receive,
                        asgi::Send send) -> asgi::awaitable<void> {
    try {
      if (scope.type != asgi::ScopeType::http) throw asgi::UnsupportedScope();
      wsgi::Environ environ = environ_from_scope(std::move(scope));
      // A one-thread executor serialises the calls: the app is never called
      // concurrently, which is what Environ::multithread false promises.
      environ.multithread = pool->threads() > 1;
      return call_sync_app(shared, *pool,
                           std::make_shared<SyncCall>(std::move(receive), std::move(send), std::move(environ)));
    } catch (...) {
      return fail_with(std::current_exception());
    }
  };
}

}  // namespace csgi
