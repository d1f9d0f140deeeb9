// The `Date` header value (RFC 9110 IMF-fixdate), formatted at most once per
// second, and the clock it reads, which tests replace with a fixed one.
#pragma once

#include <cstdint>
#include <string_view>

namespace csgi::protocol {

// Whole seconds since the Unix epoch. The default reads the system clock;
// tests derive a fixed or stepping clock. Must be callable from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_seconds() const;
};

// The process-wide system clock.
const Clock& system_clock() noexcept;

// "Sun, 06 Nov 1994 08:49:37 GMT" for `seconds` since the epoch.
// `out` must hold at least 29 characters; returns the written prefix.
std::string_view format_http_date(std::int64_t seconds, char* out) noexcept;

// A per-owner cache of the formatted date: reformats only when the clock's
// second changes. One per connection (or per thread); not thread-safe.
class DateCache {
 public:
  explicit DateCache(const Clock& clock = system_clock()) : clock_(&clock) {}
  // The current date; valid until the next call.
  std::string_view now();

 private:
  const Clock* clock_;
  std::int64_t second_ = -1;
  char text_[32] = {};
  std::size_t size_ = 0;
};

}  // namespace csgi::protocol
