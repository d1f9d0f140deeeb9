// The Date header: IMF-fixdate, reformatted only when the second changes, one
// value shared by every connection.
#include "protocol/date.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace csgi::protocol {
namespace {

struct FixedClock : Clock {
  std::int64_t seconds = 0;
  std::int64_t now_seconds() const override { return seconds; }
};

TEST(HttpDate, FormatsImfFixdate) {
  char buffer[32];
  EXPECT_EQ(format_http_date(784111777, buffer), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0, buffer), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(1709164800, buffer), "Thu, 29 Feb 2024 00:00:00 GMT");
}

TEST(HttpDate, SharedDateFollowsTheClock) {
  FixedClock clock;
  clock.seconds = 784111777;
  SharedDate date(clock);
  EXPECT_EQ(date.now(), "Sun, 06 Nov 1994 08:49:37 GMT");
  clock.seconds += 1;
  EXPECT_EQ(date.now(), "Sun, 06 Nov 1994 08:49:38 GMT");
  clock.seconds += 4;  // the same slot as the first second
  EXPECT_EQ(date.now(), "Sun, 06 Nov 1994 08:49:42 GMT");
}

TEST(HttpDate, SharedDateIsOneValueForEveryThread) {
  FixedClock clock;
  clock.seconds = 784111777;
  SharedDate date(clock);
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (auto& value : seen) threads.emplace_back([&date, &value] { value = date.now(); });
  for (auto& thread : threads) thread.join();
  for (const auto& value : seen) EXPECT_EQ(value, "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDate, SystemClockIsRecent) {
  EXPECT_GT(system_clock().now_seconds(), 1700000000);
}

}  // namespace
}  // namespace csgi::protocol
