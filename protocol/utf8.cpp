#include "protocol/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace csgi::protocol {

namespace {

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the sequence starting at `s[i]` if it is well-formed, else 0.
std::size_t sequence_length(const unsigned char* s, std::size_t left) {
  const unsigned char lead = s[0];
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  // The second byte's range depends on the lead (RFC 3629 section 4): it is
  // what rules out overlong forms, surrogates and code points past U+10FFFF.
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (left < n || s[1] < low || s[1] > high) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (!continuation(s[i])) return 0;
  return n;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  const std::size_t size = text.size();
  while (i < size) {
    // ASCII runs, eight bytes at a time: most text is mostly ASCII.
    while (i + 8 <= size) {
      std::uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= size) break;
    const std::size_t n = sequence_length(s + i, size - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace csgi::protocol
