// Workers share connections by capacity (servers/supervisor/load_board.hpp):
// the article's fan-out on `csgi serve mysite --workers N`, scaled down, and
// the board itself.
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "client/client.hpp"
#include "csgi_process.hpp"
#include "harness.hpp"
#include "servers/supervisor/load_board.hpp"

namespace csgi::servers::testing {
namespace {

using std::chrono::milliseconds;

struct FanOut {
  int status = 0;
  double seconds = 0;  // the view's own measurement of its calls
  std::size_t answered = 0;
};

FanOut fan_out(std::uint16_t port, const std::string& view, int calls, int delay_ms) {
  std::string target = view + "?n=" + std::to_string(calls) + "&delay_ms=" +
                       std::to_string(delay_ms) + "&timeout_ms=" + std::to_string(8 * delay_ms);
  client::Client client;
  client::RequestOptions options;
  options.timeouts = client::Timeouts::all(milliseconds(20 * delay_ms * calls));
  auto reply = client.get("http://127.0.0.1:" + std::to_string(port) + target, options);
  FanOut out;
  out.status = reply.status;
  auto body = boost::json::parse(reply.body).as_object();
  std::string debug(body.at("debug_message").as_string());
  out.seconds = std::stod(debug.substr(debug.find("in ") + 3));
  for (const auto& key : {"responses", "aggregated_responses"})
    if (body.contains(key)) out.answered = body.at(key).as_array().size();
  return out;
}

void wait_booted(CsgiProcess& csgi, std::size_t n) {
  ASSERT_NE(csgi.port(), 0) << csgi.log();
  ASSERT_TRUE(csgi.wait_for_log("Application startup complete", n)) << csgi.log();
}

// One worker alone would serve the four sync calls one after another (four
// delays); spread by capacity, one per worker, they take about one.
TEST(WorkersShareByCapacity, AsyncFanOutOfSyncCallsIsServedInOneRound) {
  CsgiProcess csgi({"mysite", "--workers", "4", "--no-access-log"});
  wait_booted(csgi, 4);
  constexpr int delay_ms = 300;
  for (int round = 0; round < 3; ++round) {
    FanOut result = fan_out(csgi.port(), "/api/aggregated/", 4, delay_ms);
    EXPECT_EQ(result.status, 200) << csgi.log();
    EXPECT_EQ(result.answered, 4u);
    EXPECT_LT(result.seconds, 2.5 * delay_ms / 1000.0) << "round " << round;
  }
}

TEST(WorkersShareByCapacity, TwoWorkersWithTwoThreadsServeFourCallsInOneRound) {
  CsgiProcess csgi({"mysite", "--workers", "2", "--threads", "2", "--no-access-log"});
  wait_booted(csgi, 2);
  constexpr int delay_ms = 300;
  FanOut result = fan_out(csgi.port(), "/api/aggregated/", 4, delay_ms);
  EXPECT_EQ(result.status, 200) << csgi.log();
  EXPECT_LT(result.seconds, 2.5 * delay_ms / 1000.0);
}

// The sync view holds its worker's only thread: its calls go to the others,
// and none is refused as a deadlock.
TEST(WorkersShareByCapacity, SyncFanOutSucceedsWithEnoughWorkers) {
  CsgiProcess csgi({"mysite", "--workers", "3", "--no-access-log"});
  wait_booted(csgi, 3);
  FanOut result = fan_out(csgi.port(), "/api/aggregated/sync/", 3, 100);
  EXPECT_EQ(result.status, 200) << csgi.log();
  EXPECT_EQ(result.answered, 3u);
  EXPECT_EQ(csgi.count_in_log("Deadlock avoided"), 0u);
}

TEST(LoadBoard, AWorkerHasRoomBelowItsCapacityWhileItTakesConnections) {
  LoadBoard board;
  LoadBoard::Slot* first = board.claim(101, 1);
  LoadBoard::Slot* second = board.claim(102, 2);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(board.another_has_room(first));
  second->load = 2;
  EXPECT_FALSE(board.another_has_room(first));
  EXPECT_TRUE(board.another_has_room(second));
  first->load = 1;
  EXPECT_FALSE(board.another_has_room(second));
  second->load = 1;
  second->capacity = 0;  // stopping: takes nothing more
  EXPECT_FALSE(board.another_has_room(first));
  board.release(102);
  EXPECT_FALSE(board.another_has_room(first));
  LoadBoard::Slot* third = board.claim(103, 1);  // the freed slot, clean
  ASSERT_TRUE(third);
  EXPECT_EQ(third->load.load(), 0);
  EXPECT_TRUE(board.another_has_room(first));
}

TEST(LoadBoard, IsSharedWithForkedWorkers) {
  LoadBoard board;
  LoadBoard::Slot* parent = board.claim(::getpid(), 1);
  parent->load = 1;
  pid_t child = ::fork();
  if (child == 0) {
    LoadBoard::Slot* mine = board.claim(::getpid(), 1);
    ::_exit(mine && !board.another_has_room(mine) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The child's claim is visible here: it has room (it exited; nobody reaped
  // its slot on the board).
  EXPECT_TRUE(board.another_has_room(parent));
}

}  // namespace
}  // namespace csgi::servers::testing
