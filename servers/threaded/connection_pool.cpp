#include "servers/threaded/connection_pool.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <system_error>
#include <utility>

#include "servers/logging.hpp"

namespace csgi::servers::threaded {

std::shared_ptr<ConnectionPool> ConnectionPool::create(PoolOptions options, Serve serve,
                                                       Reject reject) {
  return std::shared_ptr<ConnectionPool>(
      new ConnectionPool(std::move(options), std::move(serve), std::move(reject)));
}

ConnectionPool::ConnectionPool(PoolOptions options, Serve serve, Reject reject)
    : options_(std::move(options)), serve_(std::move(serve)), reject_(std::move(reject)) {
  if (options_.threads == 0) options_.threads = 1;
  attention_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (attention_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  done_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (done_fd_ < 0) {
    ::close(attention_fd_);
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
}

ConnectionPool::~ConnectionPool() {
  for (auto& thread : threads_) {
    if (!thread.joinable()) continue;
    // The last reference can drop on a detached-then-finished thread's own stack
    // only if join() was never called; never join oneself.
    if (thread.get_id() == std::this_thread::get_id())
      thread.detach();
    else
      thread.join();
  }
  for (const Waiting& waiting : queue_) ::close(waiting.fd);
  ::close(attention_fd_);
  ::close(done_fd_);
}

void ConnectionPool::submit(int fd) {
  std::unique_lock lock(mutex_);
  // Threads not serving yet take a queued connection at once: they add to the room.
  bool queue_full = queue_.size() >= options_.queue_capacity + free_threads_locked();
  if (stopping_ || queue_full) {
    lock.unlock();
    reject_and_close(fd);
    return;
  }
  queue_.push_back({fd, Clock::now()});
  // Free threads (waiting, or still starting) each take one queued connection;
  // start another only when they are fewer than the queue.
  if (free_threads_locked() < queue_.size() && running_threads_ < options_.threads) {
    ++running_threads_;
    threads_.emplace_back([self = shared_from_this()] { self->run_thread(); });
  }
  if (idle_threads_ > 0) work_ready_.notify_one();
  update_attention_locked();
}

std::optional<Clock::time_point> ConnectionPool::expire_waiting() {
  std::vector<int> expired;
  std::optional<Clock::time_point> next;
  {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    // The queue is in arrival order, so the expired ones are at the front.
    while (!queue_.empty() && now - queue_.front().since >= options_.queue_timeout) {
      expired.push_back(queue_.front().fd);
      queue_.pop_front();
    }
    if (claims_ > queue_.size()) claims_ = queue_.size();
    if (!queue_.empty()) next = queue_.front().since + options_.queue_timeout;
    update_attention_locked();
  }
  for (int fd : expired) reject_and_close(fd);
  return next;
}

bool ConnectionPool::yield_idle_connection() {
  std::lock_guard lock(mutex_);
  if (queue_.size() <= claims_ + free_threads_locked()) return false;
  ++claims_;
  update_attention_locked();
  return true;
}

bool ConnectionPool::stopping() const { return stopping_.load(std::memory_order_acquire); }

void ConnectionPool::stop_accepting() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    // The queued connections stay: their clients are waiting, and threads
    // that finish a connection, or an idle one yields, take them before they
    // exit.
    update_attention_locked();
    signal_done_locked();
  }
  work_ready_.notify_all();
}

void ConnectionPool::abort_connections() {
  std::deque<Waiting> refused;
  {
    std::lock_guard lock(mutex_);
    // The fds stay open (their threads close them), so shutdown cannot hit a
    // reused descriptor number.
    for (int fd : served_) ::shutdown(fd, SHUT_RDWR);
    refused.swap(queue_);
    claims_ = 0;
    update_attention_locked();
  }
  for (const Waiting& waiting : refused) reject_and_close(waiting.fd);
}

bool ConnectionPool::wait_until_done(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return thread_done_.wait_until(lock, deadline, [&] { return running_threads_ == 0; });
}

bool ConnectionPool::join(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  bool done = thread_done_.wait_until(lock, deadline, [&] { return running_threads_ == 0; });
  std::vector<std::thread> threads = std::move(threads_);
  threads_.clear();
  lock.unlock();
  for (auto& thread : threads) {
    if (done)
      thread.join();
    else
      thread.detach();
  }
  return done;
}

std::size_t ConnectionPool::threads_started() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

std::size_t ConnectionPool::connections_served() const {
  std::lock_guard lock(mutex_);
  return served_.size();
}

std::size_t ConnectionPool::connections_waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void ConnectionPool::run_thread() {
  std::unique_lock lock(mutex_);
  for (;;) {
    int fd = take_locked(lock);
    if (fd < 0) break;
    served_.insert(fd);
    update_attention_locked();
    lock.unlock();
    try {
      serve_(fd, *this);
    } catch (const std::exception& e) {
      error_log()->error("connection thread: {}", e.what());
    } catch (...) {
      error_log()->error("connection thread: unknown exception");
    }
    lock.lock();
    served_.erase(fd);
    update_attention_locked();
    ::close(fd);
  }
  --running_threads_;
  signal_done_locked();
  thread_done_.notify_all();
}

void ConnectionPool::signal_done_locked() {
  if (!stopping_ || running_threads_ > 0) return;
  std::uint64_t value = 1;
  // Level-triggered like attention_fd_; written once more is harmless.
  ssize_t n = ::write(done_fd_, &value, sizeof value);
  (void)n;
}

int ConnectionPool::take_locked(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (!queue_.empty()) {
      int fd = queue_.front().fd;
      queue_.pop_front();
      if (claims_ > 0) --claims_;
      return fd;
    }
    if (stopping_) return -1;
    ++idle_threads_;
    work_ready_.wait(lock);
    --idle_threads_;
  }
}

std::size_t ConnectionPool::free_threads_locked() const {
  return running_threads_ - served_.size();
}

void ConnectionPool::update_attention_locked() {
  // Only connections that no free thread will take need an idle one to yield;
  // a thread that is just starting would otherwise make keep-alive clients lose
  // their connections for nothing.
  // A graceful stop does not call on idle connections either: they close at
  // their next response (Connection: close) or at the keep-alive timeout, so
  // that no request a client is sending on one right now is lost.
  bool wanted = queue_.size() > claims_ + free_threads_locked();
  if (wanted == attention_on_) return;
  std::uint64_t value = 1;
  // eventfd is level-triggered: readable while its counter is non-zero.
  ssize_t n = wanted ? ::write(attention_fd_, &value, sizeof value)
                     : ::read(attention_fd_, &value, sizeof value);
  (void)n;
  attention_on_ = wanted;
}

void ConnectionPool::reject_and_close(int fd) {
  try {
    reject_(fd);
  } catch (const std::exception& e) {
    error_log()->warn("rejecting a connection: {}", e.what());
  }
  ::close(fd);
}

}  // namespace csgi::servers::threaded
