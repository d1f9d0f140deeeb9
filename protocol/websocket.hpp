// One WebSocket connection after the handshake (RFC 6455), without I/O,
// for either end: the servers drive it for their apps, the client for its
// callers. Bytes in, events out; messages in, bytes out.
//
//   for (;;) {
//     write_all(ws.pending_output()); ws.consume_output(n);  // whenever non-empty
//     auto event = ws.next_event();
//     NeedData -> read; ws.receive_data(bytes) or ws.receive_eof()
//     Message  -> hand it to the app
//     Pong     -> the keepalive's answer
//     Closed   -> write pending_output() (the close frame), then close the
//                 socket (a server at once; a client once the server has)
//   }
//   // at any time: send_message, send_ping, send_close
//
// Everything RFC 6455 asks of an endpoint lives here: reassembling fragments,
// control frames between fragments, answering pings, the close handshake and
// its code checks, UTF-8 text (1007), the message size limit (1009),
// protocol errors (1002), and permessage-deflate (RFC 7692) when agreed.
// A connection that fails queues its close frame and reports Closed; nothing
// is read after it.
//
// Not thread-safe; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/websocket_deflate.hpp"
#include "protocol/websocket_frame.hpp"

namespace csgi::protocol::websocket {

inline constexpr std::uint64_t default_max_message = 16 * 1024 * 1024;

struct Settings {
  Role role = Role::server;
  // Largest message, after decompression: bigger fails with 1009.
  std::uint64_t max_message = default_max_message;
  // permessage-deflate, when the handshake agreed it.
  std::optional<DeflateParams> deflate;
};

enum class MessageType : std::uint8_t { text, binary };

// ---- what the driver must do next (next_event) -----------------------------

struct NeedData {};
// A whole message; text is valid UTF-8.
struct Message {
  MessageType type = MessageType::text;
  std::string data;
};
// An answer to a ping: `payload` is what the ping carried.
struct Pong {
  std::string payload;
};
// The connection is over. `code` and `reason` are those of the peer's close
// frame (no_status when it had none), or ours when we failed the connection
// (`failed`), or abnormal when the peer went without a close frame. Whatever
// close frame is due is in pending_output().
struct Closed {
  std::uint16_t code = close_code::abnormal;
  std::string reason;
  bool failed = false;  // we failed it: the peer broke the protocol or a limit
};

using Event = std::variant<NeedData, Message, Pong, Closed>;

enum class State : std::uint8_t {
  open,
  closing,  // we sent a close frame and wait for the peer's
  closed,   // both close frames crossed, or the connection failed or broke
};

class Connection {
 public:
  explicit Connection(Settings settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- input ----
  void receive_data(std::string_view bytes);
  // Zero-copy: read straight into input_space(n), then commit_input(read).
  // The space is at least n bytes, and the rest of the frame being received
  // when its header says it is larger.
  std::span<char> input_space(std::size_t n);
  void commit_input(std::size_t n);
  void receive_eof();
  // Unread input bytes (a driver that stops reading above a bound).
  std::size_t buffered_input() const;

  // Parses what is buffered up to the next event; see above. After Closed,
  // returns Closed again.
  Event next_event();

  // ---- output ----
  // Each appends a frame to pending_output(); a message is compressed when
  // deflate was agreed. Throws std::logic_error once a close frame was sent.
  void send_message(MessageType type, std::string_view data);
  void send_ping(std::string_view payload);
  // Starts the close handshake (state closing). A code that may not be sent
  // (valid_close_code) throws std::invalid_argument, as does a reason over
  // 123 bytes: the caller hears of its mistake. Does nothing once a close
  // frame was sent.
  void send_close(std::uint16_t code, std::string_view reason = {});

  std::string_view pending_output() const;
  void consume_output(std::size_t n);

  State state() const;
  bool close_sent() const;
  // Drop buffer capacity (an idle connection keeps little memory).
  void shrink_buffers();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace csgi::protocol::websocket
