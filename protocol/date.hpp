// The `Date` header value (RFC 9110 IMF-fixdate), formatted at most once per
// second for a whole server, and the clock it reads, which tests replace with
// a fixed one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
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

// The current date, formatted at most once per second for every connection
// that shares it (a whole server, or the process: see process_date()).
// Thread-safe: readers take no lock; the first thread to see a new second
// formats it under a mutex into one of four slots, and a slot is only reused
// four seconds later, so a value read stays intact while it is copied.
class SharedDate {
 public:
  explicit SharedDate(const Clock& clock = system_clock()) : clock_(&clock) {}
  SharedDate(const SharedDate&) = delete;
  SharedDate& operator=(const SharedDate&) = delete;

  // The current date. Copy it at once: it stays valid for about four seconds.
  std::string_view now();

 private:
  static constexpr std::size_t date_size = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"
  struct Slot {
    std::atomic<std::int64_t> second{-1};
    char text[32] = {};
  };
  std::string_view format(std::int64_t second, Slot& slot);

  const Clock* clock_;
  std::mutex mutex_;
  Slot slots_[4];
};

// The date of system_clock() shared by every server of the process.
SharedDate& process_date() noexcept;

}  // namespace csgi::protocol
