#include "protocol/websocket_frame.hpp"

#include <cstdint>
#include <cstring>
#include <random>

namespace csgi::protocol::websocket {

namespace {

// Eight bytes at a time: the key repeats every four, so a word of two keys
// masks eight bytes that start at a multiple of four.
void apply_mask(char* data, std::size_t size, const unsigned char key[4]) {
  std::uint32_t key32;
  std::memcpy(&key32, key, 4);
  const std::uint64_t key64 = (std::uint64_t{key32} << 32) | key32;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= key64;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}

std::uint32_t random_key() {
  // Masking only has to be unpredictable to scripts in a browser (RFC 6455
  // 10.3); a per-thread generator seeded from the system is enough.
  thread_local std::mt19937 generator{std::random_device{}()};
  return static_cast<std::uint32_t>(generator());
}

bool known_opcode(std::uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

FrameResult error(std::uint16_t code) {
  FrameResult result;
  result.status = FrameStatus::error;
  result.error = code;
  return result;
}

}  // namespace

bool valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

FrameResult read_frame(std::span<char> data, Role role, std::uint64_t max_payload, bool allow_rsv1) {
  if (data.size() < 2) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  Frame frame;
  frame.fin = bytes[0] & 0x80;
  frame.rsv1 = bytes[0] & 0x40;
  const std::uint8_t opcode = bytes[0] & 0x0F;
  if ((bytes[0] & 0x30) || (frame.rsv1 && !allow_rsv1) || !known_opcode(opcode))
    return error(close_code::protocol_error);
  frame.opcode = static_cast<Opcode>(opcode);
  const bool masked = bytes[1] & 0x80;
  if (masked != (role == Role::server)) return error(close_code::protocol_error);
  std::uint64_t length = bytes[1] & 0x7F;
  std::size_t header = 2;
  if (is_control(frame.opcode) && (!frame.fin || length > 125))
    return error(close_code::protocol_error);
  if (length >= 126) {
    const std::size_t extra = length == 126 ? 2 : 8;
    if (data.size() < header + extra) return {};
    length = 0;
    for (std::size_t i = 0; i < extra; ++i) length = (length << 8) | bytes[header + i];
    header += extra;
    // The most significant bit MUST be 0; and the shortest form is not
    // required by the RFC, so longer ones are accepted.
    if (length >> 63) return error(close_code::protocol_error);
  }
  if (length > max_payload) return error(close_code::too_big);
  unsigned char key[4] = {};
  if (masked) {
    if (data.size() < header + 4) return {};
    std::memcpy(key, bytes + header, 4);
    header += 4;
  }
  if (data.size() - header < length) {
    FrameResult partial;
    partial.needed = header + static_cast<std::size_t>(length);
    return partial;
  }
  char* payload = data.data() + header;
  if (masked) apply_mask(payload, static_cast<std::size_t>(length), key);
  frame.payload = std::string_view(payload, static_cast<std::size_t>(length));
  FrameResult result;
  result.status = FrameStatus::frame;
  result.consumed = header + static_cast<std::size_t>(length);
  result.frame = frame;
  return result;
}

void write_frame(std::string& out, Role role, Opcode opcode, std::string_view payload, bool fin,
                 bool rsv1) {
  unsigned char header[14];
  std::size_t size = 0;
  header[size++] = static_cast<unsigned char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) |
                                              static_cast<std::uint8_t>(opcode));
  const unsigned char mask_bit = role == Role::client ? 0x80 : 0;
  const std::uint64_t length = payload.size();
  if (length < 126) {
    header[size++] = static_cast<unsigned char>(mask_bit | length);
  } else if (length <= 0xFFFF) {
    header[size++] = mask_bit | 126;
    header[size++] = static_cast<unsigned char>(length >> 8);
    header[size++] = static_cast<unsigned char>(length);
  } else {
    header[size++] = mask_bit | 127;
    for (int shift = 56; shift >= 0; shift -= 8)
      header[size++] = static_cast<unsigned char>(length >> shift);
  }
  unsigned char key[4] = {};
  if (role == Role::client) {
    const std::uint32_t value = random_key();
    std::memcpy(key, &value, 4);
    std::memcpy(header + size, key, 4);
    size += 4;
  }
  const std::size_t at = out.size();
  out.resize(at + size + payload.size());
  std::memcpy(out.data() + at, header, size);
  if (!payload.empty()) std::memcpy(out.data() + at + size, payload.data(), payload.size());
  if (role == Role::client) apply_mask(out.data() + at + size, payload.size(), key);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  if (code == close_code::no_status) return {};
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  return payload;
}

}  // namespace csgi::protocol::websocket
