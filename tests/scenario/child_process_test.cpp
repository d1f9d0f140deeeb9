// ChildProcess, which runs the servers of `csgi scenario` and of the
// end-to-end tests: both output streams collected, waits that wake on output
// and on exit, and the exit status as a shell reports it.
#include <gtest/gtest.h>

#include <csignal>

#include "scenario/child_process.hpp"

namespace csgi::scenario {
namespace {

using namespace std::chrono_literals;

TEST(ChildProcess, CollectsStdoutAndStderrAndReportsTheExitCode) {
  ChildProcess child({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(child.wait_exit(5s), 3);
  EXPECT_EQ(child.wait_exit(0ms), 3);  // reaped once, reported again
  EXPECT_TRUE(child.wait_for_output([](const std::string& output) {
    return occurrences(output, "out\n") == 1 && occurrences(output, "err\n") == 1;
  }, 5s)) << child.output();
}

TEST(ChildProcess, WaitForOutputWakesOnTheLineItWaitsFor) {
  ChildProcess child({"/bin/sh", "-c", "echo ready; exec sleep 30"});
  EXPECT_TRUE(child.wait_for_output([](const std::string& output) { return output == "ready\n"; }, 5s));
  EXPECT_EQ(child.count_in_output("ready"), 1u);
  EXPECT_FALSE(child.wait_exit(0ms));  // still running
  ::kill(child.pid(), SIGTERM);
  EXPECT_EQ(child.wait_exit(5s), 128 + SIGTERM);
}

TEST(ChildProcess, WaitForOutputGivesUpAfterItsTimeout) {
  ChildProcess child({"/bin/sh", "-c", "exec sleep 30"});
  EXPECT_FALSE(child.wait_for_output([](const std::string& output) { return !output.empty(); }, 20ms));
  ::kill(child.pid(), SIGKILL);
  EXPECT_EQ(child.wait_exit(5s), 128 + SIGKILL);
}

TEST(ChildProcess, ACommandThatCannotRunExitsWith127) {
  ChildProcess child({"/nonexistent/command"});
  EXPECT_EQ(child.wait_exit(5s), 127);
}

TEST(Occurrences, CountsOverlappingOnesToo) {
  EXPECT_EQ(occurrences("aaa", "aa"), 2u);
  EXPECT_EQ(occurrences("abc", "x"), 0u);
  EXPECT_EQ(occurrences("", "x"), 0u);
}

}  // namespace
}  // namespace csgi::scenario
