// Small ASCII helpers shared by the parser, the response writer and the scope
// builder. HTTP's grammar is ASCII and locale-free, so none of these consult
// the C locale (std::tolower does). The case-insensitive comparison and the
// token characters are runtime/ascii.hpp's, the one copy every layer uses.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/ascii.hpp"

namespace csgi::protocol::text {

using ascii::has_cr_lf_nul;
using ascii::iequals_lower;
using ascii::is_tchar;
using ascii::is_token;
using ascii::lower;
using ascii::tchar_table;
using ascii::trim;


// A field-name character lower-cased, or 0 for a character that is not a
// tchar: the parser checks and lower-cases every received name in one pass.
inline constexpr auto lower_tchar_table = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 256; ++c)
    if (tchar_table[c]) table[c] = lower(static_cast<char>(c));
  return table;
}();

// The field line "name: value\r\n": its size, and writing it at `at` (which
// has room for it); returns the end. Every field of every message written
// goes through here.
constexpr std::size_t field_line_size(std::string_view name, std::string_view value) {
  return name.size() + value.size() + 4;
}
inline char* write_field_line(char* at, std::string_view name, std::string_view value) {
  at = std::copy(name.begin(), name.end(), at);
  *at++ = ':';
  *at++ = ' ';
  at = std::copy(value.begin(), value.end(), at);
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

// Appends the field line with one growth of `out`.
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  const std::size_t at = out.size();
  out.resize(at + field_line_size(name, value));
  write_field_line(out.data() + at, name, value);
}

// True if the comma-separated list `value` contains `token` (lower-case;
// compared case-insensitively),
// as in "Connection: keep-alive, close" or "TE: trailers, deflate;q=0.5".
inline bool list_contains(std::string_view value, std::string_view token) {
  while (true) {
    const auto comma = value.find(',');
    auto item = value.substr(0, comma);
    item = trim(item.substr(0, item.find(';')));
    if (iequals_lower(item, token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

// Appends the decimal (or, with base 16, lower-case hex) form of `n`.
inline void append_number(std::string& out, std::uint64_t n, int base = 10) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, n, base);
  out.append(buffer, result.ptr);
}

// A whole decimal number, or none ("12", not "12 ", "+1" or "").
inline std::optional<std::uint64_t> parse_number(std::string_view s) {
  return ascii::parse_decimal<std::uint64_t>(s);
}

}  // namespace csgi::protocol::text
