#include "protocol/websocket.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "protocol/input_buffer.hpp"
#include "protocol/utf8.hpp"

namespace csgi::protocol::websocket {

struct Connection::Impl {
  explicit Impl(Settings settings) : settings(std::move(settings)) {
    if (this->settings.deflate) codec = std::make_unique<DeflateCodec>(*this->settings.deflate, this->settings.role);
  }

  Settings settings;
  std::unique_ptr<DeflateCodec> codec;
  InputBuffer input;
  std::size_t frame_size = 0;  // of the incomplete frame at the input's front, once known
  std::string output;
  std::size_t output_begin = 0;

  // The message being reassembled from its fragments.
  bool in_message = false;
  bool compressed = false;
  MessageType type = MessageType::text;
  std::string message;

  State state = State::open;
  bool close_sent = false;
  bool eof = false;
  std::optional<Closed> closed;  // reported, and reported again

  Event fail(std::uint16_t code, std::string_view reason);
  Event on_close_frame(std::string_view payload);
  std::optional<Event> on_frame(const Frame& frame);
  std::optional<Event> finish_message();
  void queue_close(std::uint16_t code, std::string_view reason) {
    if (close_sent) return;
    write_frame(output, settings.role, Opcode::close, close_payload(code, reason));
    close_sent = true;
  }
};

Event Connection::Impl::fail(std::uint16_t code, std::string_view reason) {
  queue_close(code, reason);
  state = State::closed;
  closed = Closed{code, std::string(reason), true};
  return *closed;
}

Event Connection::Impl::on_close_frame(std::string_view payload) {
  Closed event{close_code::no_status, {}, false};
  if (payload.size() == 1) return fail(close_code::protocol_error, "close frame of one byte");
  if (payload.size() >= 2) {
    event.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                            static_cast<unsigned char>(payload[1]));
    if (!valid_close_code(event.code)) return fail(close_code::protocol_error, "invalid close code");
    event.reason.assign(payload.substr(2));
    if (!valid_utf8(event.reason)) return fail(close_code::invalid_data, "close reason not UTF-8");
  }
  // Echo the peer's code (RFC 6455 5.5.1), unless ours went first; a close
  // without a code is answered with an empty one too.
  queue_close(event.code, {});
  state = State::closed;
  closed = std::move(event);
  return *closed;
}

std::optional<Event> Connection::Impl::finish_message() {
  in_message = false;
  std::string data;
  if (compressed) {
    bool too_big = false;
    if (!codec->decompress(message, settings.max_message, data, too_big))
      return too_big ? fail(close_code::too_big, "message too big")
                     : fail(close_code::protocol_error, "invalid compressed data");
  } else {
    data.swap(message);
  }
  message.clear();
  if (type == MessageType::text && !valid_utf8(data))
    return fail(close_code::invalid_data, "text message not UTF-8");
  return Message{type, std::move(data)};
}

std::optional<Event> Connection::Impl::on_frame(const Frame& frame) {
  switch (frame.opcode) {
    case Opcode::ping:
      if (!close_sent) write_frame(output, settings.role, Opcode::pong, frame.payload);
      return std::nullopt;
    case Opcode::pong:
      return Pong{std::string(frame.payload)};
    case Opcode::close:
      return on_close_frame(frame.payload);
    case Opcode::continuation:
      if (!in_message) return fail(close_code::protocol_error, "continuation without a message");
      if (frame.rsv1) return fail(close_code::protocol_error, "RSV1 on a continuation frame");
      break;
    case Opcode::text:
    case Opcode::binary:
      if (in_message) return fail(close_code::protocol_error, "new message inside a fragmented one");
      in_message = true;
      compressed = frame.rsv1;
      type = frame.opcode == Opcode::text ? MessageType::text : MessageType::binary;
      break;
  }
  // The wire size bounds a compressed message too: its output is checked
  // while inflating.
  if (message.size() + frame.payload.size() > settings.max_message)
    return fail(close_code::too_big, "message too big");
  message.append(frame.payload);
  if (!frame.fin) return std::nullopt;
  return finish_message();
}

Connection::Connection(Settings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}
Connection::~Connection() = default;

void Connection::receive_data(std::string_view bytes) { impl_->input.append(bytes); }

std::span<char> Connection::input_space(std::size_t n) {
  // Room for the rest of a frame whose header is in: a large message is read
  // in one go rather than in chunks of `n`.
  Impl& c = *impl_;
  const std::size_t rest = c.frame_size > c.input.size() ? c.frame_size - c.input.size() : 0;
  return c.input.prepare(std::max(n, rest));
}
void Connection::commit_input(std::size_t n) { impl_->input.commit(n); }
void Connection::receive_eof() { impl_->eof = true; }
std::size_t Connection::buffered_input() const { return impl_->input.size(); }

Event Connection::next_event() {
  Impl& c = *impl_;
  if (c.closed) return *c.closed;
  for (;;) {
    auto result = read_frame(c.input.span(), c.settings.role, c.settings.max_message,
                             c.codec != nullptr);
    if (result.status == FrameStatus::error)
      return c.fail(result.error, result.error == close_code::too_big ? "message too big"
                                                                      : "protocol error");
    c.frame_size = result.needed;
    if (result.status == FrameStatus::need_data) break;
    // Messages that arrive after our close frame are dropped (RFC 6455
    // 1.4): only the peer's close matters now.
    auto event = c.on_frame(result.frame);
    c.input.consume(result.consumed);
    if (event && !(c.close_sent && std::holds_alternative<Message>(*event))) return *event;
  }
  if (c.eof) {
    c.state = State::closed;
    c.closed = Closed{close_code::abnormal, {}, false};
    return *c.closed;
  }
  return NeedData{};
}

void Connection::send_message(MessageType type, std::string_view data) {
  Impl& c = *impl_;
  if (c.close_sent) throw std::logic_error("message sent after the close frame");
  const Opcode opcode = type == MessageType::text ? Opcode::text : Opcode::binary;
  if (c.codec) {
    write_frame(c.output, c.settings.role, opcode, c.codec->compress(data), true, true);
  } else {
    write_frame(c.output, c.settings.role, opcode, data);
  }
}

void Connection::send_ping(std::string_view payload) {
  Impl& c = *impl_;
  if (c.close_sent) return;
  write_frame(c.output, c.settings.role, Opcode::ping, payload.substr(0, 125));
}

void Connection::send_close(std::uint16_t code, std::string_view reason) {
  Impl& c = *impl_;
  if (!valid_close_code(code)) throw std::invalid_argument("close code " + std::to_string(code) + " may not be sent");
  if (reason.size() > 123) throw std::invalid_argument("close reason over 123 bytes");
  if (c.close_sent) return;
  c.queue_close(code, reason);
  if (c.state == State::open) c.state = State::closing;
}

std::string_view Connection::pending_output() const {
  return std::string_view(impl_->output).substr(impl_->output_begin);
}

void Connection::consume_output(std::size_t n) {
  Impl& c = *impl_;
  c.output_begin = std::min(c.output_begin + n, c.output.size());
  if (c.output_begin == c.output.size()) {
    c.output.clear();
    c.output_begin = 0;
  }
}

State Connection::state() const { return impl_->state; }
bool Connection::close_sent() const { return impl_->close_sent; }

void Connection::shrink_buffers() {
  Impl& c = *impl_;
  c.input.release();
  if (c.output.empty()) std::string().swap(c.output);
  if (!c.in_message) std::string().swap(c.message);
}

}  // namespace csgi::protocol::websocket
