#include "runtime/trace.hpp"

#include <gtest/gtest.h>

#include <set>

namespace csgi {
namespace {

TEST(Traceparent, ParsesTheW3CExample) {
  auto parsed = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->trace_high, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(parsed->trace_low, 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(parsed->parent, 0x00f067aa0ba902b7ULL);
}

TEST(Traceparent, RefusesMalformedValues) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",      // short flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // upper case
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // zero parent
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",  // version 00 has no more
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       })
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  // A later version may carry more fields.
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

TEST(TraceContext, ARequestWithTraceparentContinuesItsTraceWithASpanOfItsOwn) {
  auto trace =
      TraceContext::for_request("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(trace.parent, 0x00f067aa0ba902b7ULL);
  EXPECT_NE(trace.span, 0u);
  EXPECT_NE(trace.span, trace.parent);
  std::string sent = trace.traceparent();
  EXPECT_TRUE(sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
  auto child = TraceContext::for_request(sent);
  EXPECT_EQ(child.parent, trace.span);
  EXPECT_EQ(child.trace_high, trace.trace_high);
  EXPECT_EQ(child.trace_low, trace.trace_low);
}

TEST(TraceContext, ARequestWithoutTraceparentStartsATrace) {
  auto trace = TraceContext::for_request(std::nullopt);
  EXPECT_TRUE(trace.valid());
  EXPECT_EQ(trace.parent, 0u);
  EXPECT_TRUE(parse_traceparent(trace.traceparent()));
  // A malformed header starts a trace too.
  EXPECT_EQ(TraceContext::for_request("garbage").parent, 0u);
}

TEST(TraceContext, SpansDoNotRepeat) {
  std::set<std::uint64_t> spans;
  for (int i = 0; i < 10000; ++i) spans.insert(TraceContext::for_request(std::nullopt).span);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(TraceContext, ASpanRecordsWhenItsRequestWasReceived) {
  auto before = std::chrono::system_clock::now();
  TraceContext trace = TraceContext::for_request(std::nullopt);
  auto after = std::chrono::system_clock::now();
  EXPECT_GE(trace.received, before);
  EXPECT_LE(trace.received, after);
}

TEST(CurrentTrace, IsSetForItsScopeAndRestoredAfter) {
  EXPECT_EQ(current_trace(), nullptr);
  TraceContext outer = TraceContext::for_request(std::nullopt);
  TraceContext inner = TraceContext::for_request(std::nullopt);
  {
    CurrentTrace a(&outer);
    EXPECT_EQ(current_trace(), &outer);
    {
      CurrentTrace b(&inner);
      EXPECT_EQ(current_trace(), &inner);
    }
    EXPECT_EQ(current_trace(), &outer);
  }
  EXPECT_EQ(current_trace(), nullptr);
}

}  // namespace
}  // namespace csgi
