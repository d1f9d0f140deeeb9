#include "servers/lifespan.hpp"

#include <exception>
#include <string>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "runtime/async_event.hpp"
#include "servers/logging.hpp"

namespace csgi::servers {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

// `--lifespan off`: nothing to start, nothing to stop.
class LifespanOff final : public Lifespan {
 public:
  asio::awaitable<bool> startup() override { co_return true; }
  asio::awaitable<void> shutdown() override { co_return; }
};

// After the return timeout, a cancelled lifespan coroutine gets this long to
// unwind.
constexpr auto cancel_grace = std::chrono::seconds(1);

enum class Phase { idle, starting, started, shutting_down, done };

// What the app's receive/send and the server's startup/shutdown share. Held
// by shared_ptr so that an app coroutine outliving the Lifespan object (it
// ignored lifespan.shutdown) touches nothing freed.
struct Machine {
  explicit Machine(const asio::any_io_executor& executor)
      : startup_done(executor),
        shutdown_requested(executor),
        shutdown_done(executor),
        app_returned(executor) {}

  Phase phase = Phase::idle;
  bool received_startup = false;
  bool received_shutdown = false;
  bool startup_failed = false;
  bool app_finished = false;
  std::string failure;  // the app's message for a failed startup
  AsyncEvent startup_done;
  AsyncEvent shutdown_requested;
  AsyncEvent shutdown_done;
  AsyncEvent app_returned;            // the app's coroutine has ended
  asio::cancellation_signal cancel;   // bound to the app's coroutine
};

asio::awaitable<asgi::ReceiveEvent> receive_lifespan(std::shared_ptr<Machine> machine) {
  if (!machine->received_startup) {
    machine->received_startup = true;
    co_return asgi::LifespanStartup{};
  }
  co_await machine->shutdown_requested.wait();
  if (machine->received_shutdown) {
    // Nothing follows lifespan.shutdown: park until the app is cancelled.
    AsyncEvent never(co_await asio::this_coro::executor);
    co_await never.wait();
  }
  machine->received_shutdown = true;
  co_return asgi::LifespanShutdown{};
}

asio::awaitable<void> send_lifespan(std::shared_ptr<Machine> machine, asgi::SendEvent event) {
  auto& m = *machine;
  std::visit(Overloaded{
                 [&](const asgi::LifespanStartupComplete&) {
                   if (m.phase != Phase::starting)
                     throw asgi::ProtocolViolation("lifespan.startup.complete out of order");
                   m.startup_done.set();
                 },
                 [&](const asgi::LifespanStartupFailed& failed) {
                   if (m.phase != Phase::starting)
                     throw asgi::ProtocolViolation("lifespan.startup.failed out of order");
                   m.startup_failed = true;
                   m.failure = failed.message;
                   m.startup_done.set();
                 },
                 [&](const asgi::LifespanShutdownComplete&) {
                   if (m.phase != Phase::shutting_down)
                     throw asgi::ProtocolViolation("lifespan.shutdown.complete out of order");
                   m.shutdown_done.set();
                 },
                 [&](const asgi::LifespanShutdownFailed& failed) {
                   if (m.phase != Phase::shutting_down)
                     throw asgi::ProtocolViolation("lifespan.shutdown.failed out of order");
                   error_log()->error("{}", failed.message);
                   m.shutdown_done.set();
                 },
                 [&](const auto& other) {
                   throw asgi::ProtocolViolation(std::string("unexpected event on a lifespan scope: ") +
                                                 std::string(asgi::event_name(asgi::SendEvent(other))));
                 },
             },
             event);
  co_return;
}

class LifespanOn final : public Lifespan {
 public:
  LifespanOn(bool required, asgi::App app, asio::any_io_executor executor,
             std::chrono::milliseconds return_timeout)
      : required_(required),
        app_(std::move(app)),
        executor_(std::move(executor)),
        return_timeout_(return_timeout),
        machine_(std::make_shared<Machine>(executor_)) {}

  asio::awaitable<bool> startup() override {
    auto& m = *machine_;
    error_log()->info("Waiting for application startup.");
    m.phase = Phase::starting;
    asgi::Scope scope;
    scope.type = asgi::ScopeType::lifespan;
    scope.state = state_;
    asgi::Receive receive = [machine = machine_] { return receive_lifespan(machine); };
    asgi::Send send = [machine = machine_](asgi::SendEvent event) {
      return send_lifespan(machine, std::move(event));
    };
    asio::co_spawn(executor_, app_(std::move(scope), std::move(receive), std::move(send)),
                   asio::bind_cancellation_slot(
                       m.cancel.slot(),
                       [machine = machine_, required = required_](std::exception_ptr error) {
                         on_app_finished(*machine, required, error);
                       }));
    co_await m.startup_done.wait();
    if (m.startup_failed) {
      if (!m.failure.empty()) error_log()->error("{}", m.failure);
      error_log()->error("Application startup failed. Exiting.");
      m.phase = Phase::done;
      co_await wait_for_return();
      co_return false;
    }
    m.phase = Phase::started;
    error_log()->info("Application startup complete.");
    co_return true;
  }

  asio::awaitable<void> shutdown() override {
    auto& m = *machine_;
    if (m.phase != Phase::started || m.app_finished) co_return;
    error_log()->info("Waiting for application shutdown.");
    m.phase = Phase::shutting_down;
    m.shutdown_requested.set();
    co_await m.shutdown_done.wait();
    m.phase = Phase::done;
    error_log()->info("Application shutdown complete.");
    co_await wait_for_return();
  }

 private:
  // After its last answer the app should return. One that does not (a task
  // it never stopped, a third receive()) is cancelled after the timeout; the
  // coroutine must end on the loop before the loop goes away.
  asio::awaitable<void> wait_for_return() {
    auto& m = *machine_;
    if (m.app_finished) co_return;
    asio::steady_timer timer(executor_, return_timeout_);
    co_await (m.app_returned.wait() || timer.async_wait(asio::use_awaitable));
    if (m.app_finished) co_return;
    error_log()->warn("The lifespan coroutine did not return within {} ms: cancelling it",
                      return_timeout_.count());
    m.cancel.emit(asio::cancellation_type::terminal);
    timer.expires_after(cancel_grace);
    co_await (m.app_returned.wait() || timer.async_wait(asio::use_awaitable));
    if (!m.app_finished) error_log()->error("The lifespan coroutine ignored its cancellation");
  }

  // The app returned or threw. Before it answered startup that is either
  // "lifespan unsupported" (auto) or a failed startup (on); after, the app's
  // error, or an end that comes too early to hear of the shutdown.
  static void on_app_finished(Machine& m, bool required, std::exception_ptr error) {
    m.app_finished = true;
    m.app_returned.set();
    bool answered_startup = m.phase != Phase::starting || m.startup_done.is_set();
    if (!answered_startup) {
      unsupported(m, required, error);
    } else if (error) {
      error_log()->error("Exception in 'lifespan' protocol: {}", exception_message(error));
    } else if (m.phase == Phase::starting || m.phase == Phase::started) {
      error_log()->error(
          "The lifespan coroutine returned after startup: it will not be told of the shutdown");
    }
    m.startup_done.set();
    m.shutdown_done.set();
  }

  // The app ended before it sent anything.
  static void unsupported(Machine& m, bool required, std::exception_ptr error) {
    std::string reason =
        error ? exception_message(error) : std::string("it returned before answering startup");
    if (required) {
      m.startup_failed = true;
      m.failure = "Lifespan is on, and the app does not support it: " + reason;
      return;
    }
    if (!error || holds_exception<asgi::UnsupportedScope>(error))
      error_log()->info("The app does not support the lifespan protocol ({}).", reason);
    else
      error_log()->warn("Exception in 'lifespan' protocol, serving without it: {}", reason);
  }

  bool required_;
  asgi::App app_;
  asio::any_io_executor executor_;
  std::chrono::milliseconds return_timeout_;
  std::shared_ptr<Machine> machine_;
};

}  // namespace

std::unique_ptr<Lifespan> make_lifespan(LifespanMode mode, asgi::App app,
                                        asio::any_io_executor executor,
                                        std::chrono::milliseconds return_timeout) {
  if (mode == LifespanMode::off) return std::make_unique<LifespanOff>();
  return std::make_unique<LifespanOn>(mode == LifespanMode::on, std::move(app), std::move(executor),
                                      return_timeout);
}

}  // namespace csgi::servers
