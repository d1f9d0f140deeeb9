// WebSocket frames (RFC 6455 section 5), without I/O: reading one frame from
// the front of a buffer, and writing one.
//
// The reader checks what a single frame can get wrong: reserved bits, unknown
// opcodes, control frames that are fragmented or longer than 125 bytes,
// masking the wrong way for the reader's role, a 64-bit length with its top
// bit set, and a payload over the reader's limit. Whether a frame fits the
// message in progress (continuations, compression) is the connection's
// business (protocol/websocket.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/websocket_deflate.hpp"

namespace csgi::protocol::websocket {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline bool is_control(Opcode opcode) { return static_cast<std::uint8_t>(opcode) & 0x8; }

// Close codes (RFC 6455 section 7.4.1) that csgi sends or gives apps.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;         // never sent: the close frame had no code
inline constexpr std::uint16_t abnormal = 1006;          // never sent: no close frame at all
inline constexpr std::uint16_t invalid_data = 1007;      // text that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;           // over the message size limit
inline constexpr std::uint16_t internal_error = 1011;    // the app failed
}  // namespace close_code

// A code that a close frame may carry (RFC 6455 7.4): 1000-1003, 1007-1014,
// and 3000-4999 for registered and private use.
bool valid_close_code(std::uint16_t code);

struct Frame {
  bool fin = true;
  bool rsv1 = false;  // permessage-deflate: the message is compressed
  Opcode opcode = Opcode::text;
  std::string_view payload;  // unmasked, in the buffer given to read_frame
};

enum class FrameStatus : std::uint8_t { need_data, frame, error };

struct FrameResult {
  FrameStatus status = FrameStatus::need_data;
  std::size_t consumed = 0;  // bytes of the frame (header and payload)
  Frame frame;               // status == frame
  std::uint16_t error = 0;   // status == error: the close code to fail with
  std::size_t needed = 0;    // status == need_data: the frame's size, once its header is in
};

// Reads the frame at the front of `data`, unmasking its payload in place.
// `role` is the reader's: a server requires masked frames, a client unmasked
// ones. `allow_rsv1`: permessage-deflate was agreed. A payload over
// `max_payload` bytes is an error (too_big) as soon as the header says so.
FrameResult read_frame(std::span<char> data, Role role, std::uint64_t max_payload, bool allow_rsv1);

// Appends one frame to `out`; a client masks it with a fresh random key.
void write_frame(std::string& out, Role role, Opcode opcode, std::string_view payload,
                 bool fin = true, bool rsv1 = false);

// The payload of a close frame: the code (none for no_status) and the reason.
std::string close_payload(std::uint16_t code, std::string_view reason);

}  // namespace csgi::protocol::websocket
