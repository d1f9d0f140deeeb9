#include "client/connection.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "client/errors.hpp"
#include "runtime/use_tuple.hpp"

namespace csgi::client::detail {
namespace {

// The response parser's limits: field count and body size are not limited here
// (the head size is checked by the exchange, which counts the bytes).
protocol::ParserLimits response_limits() {
  protocol::ParserLimits limits;
  limits.fields = 1000;
  return limits;
}

}  // namespace

Connection::Connection(const boost::asio::any_io_executor& executor,
                       std::shared_ptr<DeadlineTimer> timer_)
    : timer(std::move(timer_)),
      socket(executor),
      deadline(*timer,
               [this] {
                 boost::system::error_code ignored;
                 socket.cancel(ignored);
                 if (resolving) resolving->cancel();
               }),
      parser(protocol::ParserMode::response, response_limits()) {}

bool Connection::is_stale() const {
  if (!socket.is_open()) return true;
  // A peek that would block means the connection is quiet and open; 0 is EOF,
  // data means the server sent something unasked (a late error page, a 408).
  char byte;
  auto n = ::recv(const_cast<Connection*>(this)->socket.native_handle(), &byte, 1,
                  MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  return true;
}

void Origin::release(std::unique_ptr<Connection> connection, bool keep_alive) {
  --leased;
  if (keep_alive && connection && idle.size() < limits.max_keepalive) {
    connection->served = true;
    idle.push_back(std::move(connection));
  }
  // A dropped connection closes its socket in its destructor.
  wake_one();
}

void Origin::wake_one() {
  if (waiters.empty()) return;
  Waiter* waiter = waiters.front();
  waiters.pop_front();
  waiter->woken = true;
  waiter->timer->cancel();
}

Lease::Lease(std::shared_ptr<Origin> origin, std::unique_ptr<Connection> connection, bool reused)
    : origin_(std::move(origin)), connection_(std::move(connection)), reused_(reused) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (connection_) release(false);
    origin_ = std::move(other.origin_);
    connection_ = std::move(other.connection_);
    reused_ = other.reused_;
  }
  return *this;
}

Lease::~Lease() {
  if (connection_) release(false);
}

void Lease::release(bool keep_alive) {
  if (!connection_) return;
  if (!keep_alive) {
    boost::system::error_code ignored;
    connection_->socket.close(ignored);
  }
  origin_->release(std::move(connection_), keep_alive);
  origin_.reset();
}

Pool::Pool(boost::asio::any_io_executor executor, PoolLimits limits)
    : executor_(std::move(executor)),
      limits_(limits),
      deadlines_(std::make_shared<DeadlineTimer>(executor_, DeadlineTimer::AtRest::disarm)) {
  deadlines_->keep_alive_by(deadlines_);
  if (limits_.max_connections == 0) limits_.max_connections = 1;
}

std::shared_ptr<Origin>& Pool::origin_for(const Url& url) {
  // Only http is spoken (parse_url), so host and port name the origin.
  if (last_origin_ && url.port == last_port_ && url.host == last_host_) return *last_origin_;
  key_.clear();
  url.append_origin(key_);
  auto it = origins_.find(key_);
  if (it == origins_.end()) {
    auto origin = std::make_shared<Origin>();
    origin->limits = limits_;
    it = origins_.emplace(key_, std::move(origin)).first;
  }
  // Map nodes stay put, and origins are never erased.
  last_origin_ = &it->second;
  last_host_ = url.host;
  last_port_ = url.port;
  return it->second;
}

Lease Pool::try_take(const std::shared_ptr<Origin>& origin, bool fresh) {
  while (!fresh && !origin->idle.empty()) {
    auto connection = std::move(origin->idle.back());
    origin->idle.pop_back();
    if (connection->is_stale()) continue;  // dropped: its destructor closes it
    ++origin->leased;
    return Lease(origin, std::move(connection), true);
  }
  if (fresh && origin->leased + origin->idle.size() >= origin->limits.max_connections &&
      !origin->idle.empty())
    origin->idle.pop_front();  // the oldest idle one makes room
  if (origin->leased + origin->idle.size() >= origin->limits.max_connections) return Lease();
  ++origin->leased;
  return Lease(origin, std::make_unique<Connection>(executor_, deadlines_), false);
}

Lease Pool::try_acquire(const Url& url, bool fresh) { return try_take(origin_for(url), fresh); }

boost::asio::awaitable<Lease> Pool::acquire(const Url& url, std::chrono::milliseconds limit,
                                            bool fresh) {
  auto origin = origin_for(url);
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (Lease lease = try_take(origin, fresh)) co_return lease;
    boost::asio::steady_timer timer(executor_, deadline);
    Origin::Waiter waiter{&timer};
    // Leaves the queue however the wait ends, even if this frame is destroyed
    // while suspended (its executor shut down).
    struct Queued {
      Origin& origin;
      Origin::Waiter& waiter;
      ~Queued() {
        if (!waiter.woken) std::erase(origin.waiters, &waiter);
      }
    } queued{*origin, waiter};
    origin->waiters.push_back(&waiter);
    auto [ec] = co_await timer.async_wait(use_tuple);
    // Woken: a slot was freed for us; take it before anyone else runs.
    if (waiter.woken) continue;
    if (!ec) throw PoolTimeout(url.to_string(), limit);
    throw boost::system::system_error(ec);  // the awaiting coroutine was cancelled
  }
}

PoolStats Pool::stats(const std::string& origin) const {
  auto it = origins_.find(origin);
  if (it == origins_.end()) return {};
  return {it->second->idle.size(), it->second->leased, it->second->waiters.size()};
}

void Pool::close_idle() {
  for (auto& [key, origin] : origins_) origin->idle.clear();
}

}  // namespace csgi::client::detail
