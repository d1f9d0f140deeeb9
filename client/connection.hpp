// One pooled HTTP/1.1 connection of the client and the pool that owns it.
// Internal to client/: included by its .cpp files only (it pulls in Asio).
//
// Everything here runs on the AsyncClient's executor, one thread at a time: the
// pool takes no locks.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "client/options.hpp"
#include "client/url.hpp"
#include "protocol/parser.hpp"
#include "runtime/deadline.hpp"

namespace csgi::client::detail {

struct Connection {
  // `timer` is the pool's, shared by its connections' deadlines.
  Connection(const boost::asio::any_io_executor& executor, std::shared_ptr<DeadlineTimer> timer);

  // True when the socket cannot carry another request: the peer closed it
  // (EOF or reset pending) or sent bytes nobody asked for. Never blocks.
  bool is_stale() const;

  // Bytes read and not yet taken by the parser.
  std::string_view unparsed() const { return {buffer.data() + begin, end - begin}; }

  std::shared_ptr<DeadlineTimer> timer;
  boost::asio::ip::tcp::socket socket;
  boost::asio::ip::tcp::resolver* resolving = nullptr;  // cancelled with the socket
  Deadline deadline;               // bounds every wait on the socket (and resolver)
  protocol::Parser parser;
  std::array<char, 16384> buffer;  // reused for every read of this connection
  std::string head;                // the request head being sent, its capacity reused
  std::size_t begin = 0;           // buffer[begin, end) is unparsed
  std::size_t end = 0;
  bool served = false;             // has completed an exchange (a kept-alive reuse)
};

// The connections of one origin. Shared by the pool and the leases, so a lease
// outliving its client still has somewhere to return its slot.
struct Origin {
  struct Waiter {
    boost::asio::steady_timer* timer;
    bool woken = false;
  };

  PoolLimits limits;
  std::deque<std::unique_ptr<Connection>> idle;  // most recently used at the back
  std::size_t leased = 0;
  std::deque<Waiter*> waiters;                   // first come, first served

  // Returns a leased slot; keeps `connection` idle when `keep_alive` allows.
  void release(std::unique_ptr<Connection> connection, bool keep_alive);
  void wake_one();
};

// A connection taken from the pool for one exchange. Move-only. Destroying it
// without release(true) closes the connection and frees its slot: a connection
// in an unknown state is never handed out again.
class Lease {
 public:
  Lease() = default;
  Lease(std::shared_ptr<Origin> origin, std::unique_ptr<Connection> connection, bool reused);
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  Connection& connection() { return *connection_; }
  // A kept-alive connection that served a request before (may be stale
  // despite the check: the peer can close it at any moment).
  bool reused() const { return reused_; }
  explicit operator bool() const { return connection_ != nullptr; }
  // Gives the connection back: kept idle if `keep_alive`, closed otherwise.
  void release(bool keep_alive);

 private:
  std::shared_ptr<Origin> origin_;
  std::unique_ptr<Connection> connection_;
  bool reused_ = false;
};

class Pool {
 public:
  Pool(boost::asio::any_io_executor executor, PoolLimits limits);

  // A connection to `url`'s origin: an idle one that is not stale, else a new
  // unconnected socket (the caller connects it) if the origin is below
  // max_connections, else waits for a release until `limit` has passed and
  // throws PoolTimeout. `fresh` skips idle connections (closing one if that is
  // what makes room): the retry after a stale reuse.
  boost::asio::awaitable<Lease> acquire(const Url& url, std::chrono::milliseconds limit,
                                        bool fresh = false);
  // The same without waiting: an empty lease when the origin is at
  // max_connections. Lets the common case skip the coroutine.
  Lease try_acquire(const Url& url, bool fresh = false);

  PoolStats stats(const std::string& origin) const;
  // Closes every idle connection (in-use ones close when released).
  void close_idle();

 private:
  std::shared_ptr<Origin>& origin_for(const Url& url);
  // Takes a slot without waiting, or returns an empty lease.
  Lease try_take(const std::shared_ptr<Origin>& origin, bool fresh);

  boost::asio::any_io_executor executor_;
  PoolLimits limits_;
  std::shared_ptr<DeadlineTimer> deadlines_;  // one timer for the waits of all connections
  std::map<std::string, std::shared_ptr<Origin>, std::less<>> origins_;
  std::string key_;  // origin_for's scratch: a lookup allocates nothing
  // The origin of the last request: most go where the previous one went.
  std::shared_ptr<Origin>* last_origin_ = nullptr;
  std::string last_host_;
  std::uint16_t last_port_ = 0;
};

}  // namespace csgi::client::detail
