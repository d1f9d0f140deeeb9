#include "servers/worker_hooks.hpp"

#include <boost/asio/steady_timer.hpp>

#include "servers/logging.hpp"

namespace csgi::servers {

WorkerHooks& default_worker_hooks() {
  static WorkerHooks hooks;
  return hooks;
}

struct Heartbeat::Impl {
  Impl(boost::asio::any_io_executor executor, WorkerHooks& hooks, std::chrono::milliseconds interval)
      : timer(std::move(executor)), hooks(hooks), interval(interval) {}

  boost::asio::steady_timer timer;
  WorkerHooks& hooks;
  std::chrono::milliseconds interval;
  bool running = false;

  static void beat_and_rearm(const std::shared_ptr<Impl>& impl);
};

Heartbeat::Heartbeat(boost::asio::any_io_executor executor, WorkerHooks& hooks) {
  auto interval = hooks.heartbeat_interval();
  if (!interval) return;  // nobody listens: no timer
  impl_ = std::make_shared<Impl>(std::move(executor), hooks, *interval);
}

Heartbeat::~Heartbeat() { stop(); }

void Heartbeat::start() {
  if (!impl_ || impl_->running) return;
  impl_->running = true;
  Impl::beat_and_rearm(impl_);
}

void Heartbeat::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  impl_->timer.cancel();
}

void Heartbeat::Impl::beat_and_rearm(const std::shared_ptr<Impl>& impl) {
  impl->hooks.beat();
  impl->timer.expires_after(impl->interval);
  impl->timer.async_wait([impl](const boost::system::error_code& error) {
    // Beating from a timer on the loop itself is the point: if the loop is
    // blocked, this handler never runs and the watcher notices.
    if (error || !impl->running) return;
    beat_and_rearm(impl);
  });
}

PolledHeartbeat::PolledHeartbeat(WorkerHooks& hooks)
    : hooks_(hooks), interval_(hooks.heartbeat_interval()) {}

void PolledHeartbeat::beat_if_due(Clock::time_point now) {
  if (!interval_ || (last_ && now < *last_ + *interval_)) return;
  hooks_.beat();
  last_ = now;
}

std::optional<PolledHeartbeat::Clock::time_point> PolledHeartbeat::next_beat() const {
  if (!interval_) return std::nullopt;
  return last_ ? *last_ + *interval_ : Clock::now();
}

void RequestBudget::start(std::optional<std::size_t> limit, WorkerHooks& hooks,
                          std::function<void()> stop_server) {
  limit_ = limit;
  hooks_ = &hooks;
  stop_server_ = std::move(stop_server);
}

void RequestBudget::count() {
  if (!limit_) return;  // no atomic write per request when there is no limit
  auto taken = taken_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (taken != *limit_) return;
  error_log()->info("Maximum request limit of {} reached", *limit_);
  hooks_->request_limit_reached(stop_server_);
}

}  // namespace csgi::servers
