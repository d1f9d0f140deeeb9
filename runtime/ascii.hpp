// ASCII text helpers for every layer: the one case-insensitive comparison and
// lower-casing of the tree, and the characters RFC 9110 allows in a field.
// HTTP's grammar is ASCII and locale-free, so none of these consult the C
// locale (std::tolower does). Header-only, with no dependency, so that layers
// which share nothing else (protocol/, gateway/, client/) can share these.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace csgi::ascii {

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

constexpr char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c; }

// `a` equals `b` ignoring ASCII case.
constexpr bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// `s` equals `lowered` ignoring ASCII case, where `lowered` is already
// lower-case (a literal such as "content-length"): only `s` is lowered.
constexpr bool iequals_lower(std::string_view s, std::string_view lowered) {
  return s.size() == lowered.size() &&
         std::equal(s.begin(), s.end(), lowered.begin(), [](char x, char y) { return lower(x) == y; });
}

inline std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), lower);
  return text;
}

inline std::string to_upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), upper);
  return text;
}

// RFC 9110 tchar: the characters of a token (methods, field names, codings).
// A table, because every field name of every request and response is checked.
inline constexpr auto tchar_table = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

constexpr bool is_tchar(char c) { return tchar_table[static_cast<unsigned char>(c)]; }

constexpr bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// `s` as a decimal number of type T when it is one entirely: no sign (for an
// unsigned T), no spaces, no other characters, in range; else nullopt.
template <class T>
std::optional<T> parse_decimal(std::string_view s) {
  T value{};
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || error != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// `s` without leading and trailing spaces and tabs (RFC 9110's OWS).
constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if `s` holds CR, LF or NUL: what may never appear in a field value sent.
constexpr bool has_cr_lf_nul(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace csgi::ascii
