#include "servers/supervisor/worker.hpp"

#include <csignal>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>

#include "servers/logging.hpp"

namespace csgi::servers {

bool send_heartbeat_byte(int fd, unsigned char byte) {
  // The channel is a socketpair, so MSG_NOSIGNAL works whatever the server
  // does with SIGPIPE, and MSG_DONTWAIT keeps a busy supervisor from ever
  // blocking the loop (a dropped beat is harmless; the next one follows).
  return ::send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1;
}

struct Heartbeat::Impl {
  Impl(boost::asio::any_io_executor executor, int fd, std::chrono::milliseconds interval)
      : timer(std::move(executor)), fd(fd), interval(interval) {}

  boost::asio::steady_timer timer;
  int fd;
  std::chrono::milliseconds interval;
  bool running = false;

  static void beat_and_rearm(const std::shared_ptr<Impl>& impl);
};

Heartbeat::Heartbeat(boost::asio::any_io_executor executor, const Config& config) {
  if (config.heartbeat_fd < 0) return;  // not supervised: nothing to do
  impl_ = std::make_shared<Impl>(std::move(executor), config.heartbeat_fd,
                                 config.heartbeat_interval);
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
  send_heartbeat_byte(impl->fd, heartbeat_beat);
  impl->timer.expires_after(impl->interval);
  impl->timer.async_wait([impl](const boost::system::error_code& error) {
    // Beating from a timer on the loop itself is the point: if the loop is
    // blocked, this handler never runs and the supervisor notices.
    if (error || !impl->running) return;
    beat_and_rearm(impl);
  });
}

PolledHeartbeat::PolledHeartbeat(const Config& config)
    : fd_(config.heartbeat_fd), interval_(config.heartbeat_interval) {}

void PolledHeartbeat::beat_if_due(Clock::time_point now) {
  if (fd_ < 0 || (last_ && now < *last_ + interval_)) return;
  send_heartbeat_byte(fd_, heartbeat_beat);
  last_ = now;
}

std::optional<PolledHeartbeat::Clock::time_point> PolledHeartbeat::next_beat() const {
  if (fd_ < 0) return std::nullopt;
  return last_ ? *last_ + interval_ : Clock::now();
}

RequestBudget::RequestBudget(const Config& config)
    : limit_(config.limit_max_requests), heartbeat_fd_(config.heartbeat_fd) {}

void RequestBudget::count() {
  if (!limit_) return;
  auto taken = taken_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (taken == *limit_) retire();
}

void RequestBudget::retire() {
  if (heartbeat_fd_ >= 0) {
    error_log()->info("Maximum request limit of {} reached: asking to be replaced", *limit_);
    // If the supervisor cannot be told, keep serving: it will still replace
    // this worker when it dies, and a limit is not worth a lost request.
    send_heartbeat_byte(heartbeat_fd_, heartbeat_retire);
    return;
  }
  error_log()->info("Maximum request limit of {} exceeded. Terminating process.", *limit_);
  // The server's own SIGTERM handling is its graceful stop.
  ::kill(::getpid(), SIGTERM);
}

}  // namespace csgi::servers
