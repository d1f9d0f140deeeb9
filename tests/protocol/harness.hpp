// A ServerConnection driven from strings, with a fixed clock, for the tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "protocol/server_connection.hpp"

namespace csgi::protocol::testing {

inline constexpr std::int64_t fixed_time = 784111777;
inline constexpr std::string_view fixed_date = "Sun, 06 Nov 1994 08:49:37 GMT";

struct FixedClock : Clock {
  std::int64_t now_seconds() const override { return fixed_time; }
};

inline ConnectionInfo test_info() {
  ConnectionInfo info;
  static const FixedClock clock;
  static SharedDate date(clock);
  info.date = &date;
  return info;
}

struct Harness {
  explicit Harness(Limits limits = {}, ConnectionInfo info = test_info())
      : conn(limits, std::move(info)) {}

  // Feeds bytes and returns the next event.
  Event feed(std::string_view bytes) {
    conn.receive_data(bytes);
    return conn.next_event();
  }

  // Feeds a request that must start; returns a copy of its head.
  MessageHead start(std::string_view bytes) {
    auto event = feed(bytes);
    auto* started = std::get_if<RequestStarted>(&event);
    EXPECT_TRUE(started) << "event index " << event.index();
    return started ? *started->head : MessageHead{};
  }

  // Everything written so far, consumed.
  std::string output() {
    std::string out(conn.pending_output());
    conn.consume_output(out.size());
    return out;
  }

  // The whole body the app would receive (BodyPending ends the loop).
  std::string read_body(bool* complete = nullptr) {
    std::string body;
    if (complete) *complete = false;
    while (true) {
      auto event = conn.receive_body();
      auto* request = std::get_if<BodyChunk>(&event);
      if (!request) break;
      body += request->body;
      if (!request->more_body) {
        if (complete) *complete = true;
        break;
      }
    }
    return body;
  }

  // A one-chunk response, then the driver's end of cycle.
  std::string respond(int status, std::string body, Headers headers = {}) {
    conn.send_response_start({status, std::move(headers), false});
    conn.send_response_body(body, false);
    std::string out = output();
    conn.start_next_request();
    return out;
  }

  ServerConnection conn;
};

template <class T>
bool is(const Event& event) {
  return std::holds_alternative<T>(event);
}

}  // namespace csgi::protocol::testing
