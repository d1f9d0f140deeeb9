#include "runtime/trace.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <random>

namespace csgi {

namespace {

// splitmix64: ids that never repeat within a thread (a bijection of a
// counter) and that differ between threads and processes (the seed).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t next_id() {
  // Seeded once per thread; a forked worker's threads are new threads.
  thread_local std::uint64_t state = [] {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device() ^
           static_cast<std::uint64_t>(::getpid()) ^
           static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  for (;;) {
    std::uint64_t id = mix(state++);
    if (id != 0) return id;
  }
}

bool parse_hex(std::string_view text, std::uint64_t& out) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;  // lower-case only
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return error == std::errc() && end == text.data() + text.size();
}

void append_hex(std::string& out, std::uint64_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += digits[(value >> shift) & 0xf];
}

thread_local const TraceContext* current = nullptr;

}  // namespace

std::optional<ParsedTraceparent> parse_traceparent(std::string_view value) {
  // version "-" trace-id (32 hex) "-" parent-id (16 hex) "-" flags (2 hex); a
  // later version may append fields after another "-".
  if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  std::uint64_t version = 0, flags = 0;
  ParsedTraceparent parsed{};
  if (!parse_hex(value.substr(0, 2), version) || version == 0xff) return std::nullopt;
  if (version == 0 && value.size() != 55) return std::nullopt;
  if (value.size() > 55 && value[55] != '-') return std::nullopt;
  if (!parse_hex(value.substr(3, 16), parsed.trace_high) ||
      !parse_hex(value.substr(19, 16), parsed.trace_low) ||
      !parse_hex(value.substr(36, 16), parsed.parent) || !parse_hex(value.substr(53, 2), flags))
    return std::nullopt;
  if ((parsed.trace_high == 0 && parsed.trace_low == 0) || parsed.parent == 0) return std::nullopt;
  return parsed;
}

TraceContext TraceContext::for_request(std::optional<std::string_view> traceparent) {
  TraceContext trace;
  trace.span = next_id();
  trace.received = std::chrono::system_clock::now();
  if (traceparent) {
    if (auto parsed = parse_traceparent(*traceparent)) {
      trace.trace_high = parsed->trace_high;
      trace.trace_low = parsed->trace_low;
      trace.parent = parsed->parent;
      return trace;
    }
  }
  trace.trace_high = next_id();
  trace.trace_low = trace.span;
  return trace;
}

std::string TraceContext::traceparent() const {
  std::string out;
  out.reserve(55);
  out += "00-";
  append_hex(out, trace_high);
  append_hex(out, trace_low);
  out += '-';
  append_hex(out, span);
  out += "-01";
  return out;
}

const TraceContext* current_trace() { return current; }

CurrentTrace::CurrentTrace(const TraceContext* trace) : previous_(current) { current = trace; }
CurrentTrace::~CurrentTrace() { current = previous_; }

}  // namespace csgi
