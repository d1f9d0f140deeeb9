#include "protocol/date.hpp"

#include <time.h>

#include <chrono>
#include <iterator>

namespace csgi::protocol {

std::int64_t Clock::now_seconds() const {
#if defined(CLOCK_REALTIME_COARSE)
  // Read on every response: the kernel's last tick is exact enough for a
  // value in whole seconds, and several times cheaper than the exact clock.
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return now.tv_sec;
#else
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
#endif
}

const Clock& system_clock() noexcept {
  static const Clock clock;
  return clock;
}

namespace {

void put2(char*& out, unsigned value) {
  *out++ = static_cast<char>('0' + value / 10);
  *out++ = static_cast<char>('0' + value % 10);
}

void put3(char*& out, const char* text) {
  for (int i = 0; i < 3; ++i) *out++ = text[i];
}

}  // namespace

std::string_view format_http_date(std::int64_t seconds, char* out) noexcept {
  // Computed by hand rather than with gmtime_r/strftime: no locale, no tz
  // lookup.
  using namespace std::chrono;
  static constexpr const char* days = "SunMonTueWedThuFriSat";
  static constexpr const char* months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const sys_seconds time{std::chrono::seconds{seconds}};
  const auto day = floor<std::chrono::days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  const unsigned weekday = std::chrono::weekday{day}.c_encoding();

  char* p = out;
  put3(p, days + 3 * weekday);
  *p++ = ',';
  *p++ = ' ';
  put2(p, static_cast<unsigned>(date.day()));
  *p++ = ' ';
  put3(p, months + 3 * (static_cast<unsigned>(date.month()) - 1));
  *p++ = ' ';
  const int year = static_cast<int>(date.year());
  put2(p, static_cast<unsigned>(year / 100));
  put2(p, static_cast<unsigned>(year % 100));
  *p++ = ' ';
  put2(p, static_cast<unsigned>(clock.hours().count()));
  *p++ = ':';
  put2(p, static_cast<unsigned>(clock.minutes().count()));
  *p++ = ':';
  put2(p, static_cast<unsigned>(clock.seconds().count()));
  for (const char c : {' ', 'G', 'M', 'T'}) *p++ = c;
  return {out, static_cast<std::size_t>(p - out)};
}

std::string_view SharedDate::now() {
  const std::int64_t second = clock_->now_seconds();
  Slot& slot = slots_[static_cast<std::uint64_t>(second) % std::size(slots_)];
  if (slot.second.load(std::memory_order_acquire) == second) return {slot.text, date_size};
  return format(second, slot);
}

std::string_view SharedDate::format(std::int64_t second, Slot& slot) {
  std::lock_guard lock(mutex_);
  if (slot.second.load(std::memory_order_relaxed) != second) {
    // Readers of the slot's previous second are four seconds behind: none left.
    slot.second.store(-1, std::memory_order_relaxed);
    format_http_date(second, slot.text);
    slot.second.store(second, std::memory_order_release);
  }
  return {slot.text, date_size};
}

SharedDate& process_date() noexcept {
  static SharedDate date;
  return date;
}

}  // namespace csgi::protocol
