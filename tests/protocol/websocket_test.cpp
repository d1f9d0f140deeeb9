// The WebSocket protocol driven from strings: frames in, events and frames out.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <variant>

#include "protocol/utf8.hpp"
#include "protocol/websocket.hpp"
#include "protocol/websocket_handshake.hpp"

namespace csgi::protocol::websocket {
namespace {

// A frame as a client sends it (masked), or as a server does.
std::string frame(Opcode opcode, std::string_view payload, bool fin = true, Role from = Role::client,
                  bool rsv1 = false) {
  std::string out;
  write_frame(out, from, opcode, payload, fin, rsv1);
  return out;
}

// A frame read back from the server's output, its payload copied out.
struct ReadFrame {
  Opcode opcode = Opcode::text;
  std::string payload;
};

// What a client reads back from the server's output: the frames, unmasked.
struct Peer {
  std::string bytes;
  ReadFrame next() {
    auto result = read_frame(std::span<char>(bytes.data(), bytes.size()), Role::client, 1 << 30, true);
    EXPECT_EQ(result.status, FrameStatus::frame);
    ReadFrame frame{result.frame.opcode, std::string(result.frame.payload)};
    bytes.erase(0, result.consumed);
    return frame;
  }
};

struct Server {
  explicit Server(Settings settings = {}) : ws(settings) {}
  Event feed(std::string_view bytes) {
    ws.receive_data(bytes);
    return ws.next_event();
  }
  Peer output() {
    Peer peer{std::string(ws.pending_output())};
    ws.consume_output(peer.bytes.size());
    return peer;
  }
  std::uint16_t closed_with(std::string_view bytes) {
    auto event = feed(bytes);
    auto* closed = std::get_if<Closed>(&event);
    EXPECT_TRUE(closed) << "event " << event.index();
    if (!closed) return 0;
    auto reply = output().next();
    EXPECT_EQ(reply.opcode, Opcode::close);
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(reply.payload[0]) << 8) |
                                                 static_cast<unsigned char>(reply.payload[1]));
    EXPECT_EQ(code, closed->code);
    return closed->code;
  }
  Connection ws;
};

Message message_of(const Event& event) {
  auto* message = std::get_if<Message>(&event);
  EXPECT_TRUE(message) << "event " << event.index();
  return message ? *message : Message{};
}

TEST(WebSocketHandshake, AcceptKeyIsTheRfcExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

MessageHead upgrade_head(std::string version = "13") {
  MessageHead head;
  head.method = "GET";
  head.target = "/chat";
  head.headers = {{"host", "example.com"},
                  {"upgrade", "websocket"},
                  {"connection", "keep-alive, Upgrade"},
                  {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
                  {"sec-websocket-version", version},
                  {"sec-websocket-protocol", "chat, superchat"},
                  {"sec-websocket-protocol", "v3"}};
  return head;
}

TEST(WebSocketHandshake, ValidUpgradeGivesKeyAndOfferedSubprotocolsInOrder) {
  auto result = check_upgrade(upgrade_head());
  auto* upgrade = std::get_if<Upgrade>(&result);
  ASSERT_TRUE(upgrade);
  EXPECT_EQ(upgrade->key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(upgrade->subprotocols, (std::vector<std::string>{"chat", "superchat", "v3"}));
}

TEST(WebSocketHandshake, OtherVersionAnswers426NamingVersion13) {
  auto result = check_upgrade(upgrade_head("8"));
  auto* refusal = std::get_if<Refusal>(&result);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 426);
  EXPECT_EQ(refusal->headers, (Headers{{"sec-websocket-version", "13"}}));
}

TEST(WebSocketHandshake, BadKeyOrMethodOrConnectionAnswers400) {
  auto head = upgrade_head();
  head.headers[3].second = "short";
  EXPECT_EQ(std::get<Refusal>(check_upgrade(head)).status, 400);
  head = upgrade_head();
  head.method = "POST";
  EXPECT_EQ(std::get<Refusal>(check_upgrade(head)).status, 400);
  head = upgrade_head();
  head.headers[2].second = "keep-alive";
  EXPECT_EQ(std::get<Refusal>(check_upgrade(head)).status, 400);
}

TEST(WebSocketHandshake, AcceptResponseCarriesAcceptKeySubprotocolAndExtension) {
  auto upgrade = std::get<Upgrade>(check_upgrade(upgrade_head()));
  Acceptance acceptance{"chat", negotiate_deflate("permessage-deflate"), {{"x-room", "1"}}};
  auto response = accept_response(upgrade, acceptance, "csgi");
  EXPECT_EQ(response,
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nsec-websocket-protocol: chat\r\n"
            "sec-websocket-extensions: permessage-deflate\r\nserver: csgi\r\nx-room: 1\r\n\r\n");
}

TEST(WebSocketHandshake, ClientChecksTheServersAnswer) {
  MessageHead head;
  head.status = 101;
  head.headers = {{"upgrade", "websocket"}, {"connection", "upgrade"},
                  {"sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                  {"sec-websocket-protocol", "chat"}};
  std::string error;
  auto agreement = check_answer(head, "dGhlIHNhbXBsZSBub25jZQ==", {"chat"}, false, error);
  ASSERT_TRUE(agreement) << error;
  EXPECT_EQ(agreement->subprotocol, "chat");
  EXPECT_FALSE(check_answer(head, "dGhlIHNhbXBsZSBub25jZQ==", {"other"}, false, error));
  head.headers[2].second = "wrong";
  EXPECT_FALSE(check_answer(head, "dGhlIHNhbXBsZSBub25jZQ==", {"chat"}, false, error));
}

TEST(WebSocketDeflateNegotiation, AcceptsFirstUsableOfferWithItsParameters) {
  auto agreement = negotiate_deflate(
      "permessage-deflate; server_max_window_bits=8, "
      "permessage-deflate; client_max_window_bits; server_no_context_takeover");
  ASSERT_TRUE(agreement);
  EXPECT_EQ(agreement->response, "permessage-deflate; server_no_context_takeover");
  EXPECT_TRUE(agreement->params.server_no_context_takeover);
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; unknown=1"));
  EXPECT_FALSE(negotiate_deflate("x-webkit-deflate-frame"));
  auto bits = negotiate_deflate("permessage-deflate; client_max_window_bits=10; server_max_window_bits=12");
  ASSERT_TRUE(bits);
  EXPECT_EQ(bits->response, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
}

TEST(WebSocketConnection, MaskedTextFrameBecomesMessage) {
  Server server;
  auto message = message_of(server.feed(frame(Opcode::text, "hello")));
  EXPECT_EQ(message.type, MessageType::text);
  EXPECT_EQ(message.data, "hello");
}

TEST(WebSocketConnection, FrameSplitAcrossReadsWaitsForTheRest) {
  Server server;
  auto bytes = frame(Opcode::binary, std::string(300, 'x'));
  EXPECT_TRUE(std::holds_alternative<NeedData>(server.feed(bytes.substr(0, 3))));
  EXPECT_TRUE(std::holds_alternative<NeedData>(server.feed(bytes.substr(3, 100))));
  EXPECT_EQ(message_of(server.feed(bytes.substr(103))).data, std::string(300, 'x'));
}

// Masking works a word at a time: every length, and every byte value, comes
// back as sent, the tail after the last whole word included.
TEST(WebSocketConnection, EveryPayloadLengthUnmasksExactly) {
  for (std::size_t size = 0; size <= 40; ++size) {
    std::string payload;
    for (std::size_t i = 0; i < size; ++i) payload += static_cast<char>((i * 37 + size) & 0xFF);
    Server server;
    EXPECT_EQ(message_of(server.feed(frame(Opcode::binary, payload))).data, payload) << size;
  }
}

// Once a frame's header is in, the space offered for reading holds the rest
// of it: a large message is read in one go, not in chunks.
TEST(WebSocketConnection, InputSpaceHoldsTheRestOfALargeFrame) {
  Server server;
  auto bytes = frame(Opcode::binary, std::string(100000, 'z'));
  EXPECT_TRUE(std::holds_alternative<NeedData>(server.feed(bytes.substr(0, 1000))));
  auto space = server.ws.input_space(16);
  EXPECT_GE(space.size(), bytes.size() - 1000);
  std::memcpy(space.data(), bytes.data() + 1000, bytes.size() - 1000);
  server.ws.commit_input(bytes.size() - 1000);
  EXPECT_EQ(message_of(server.ws.next_event()).data, std::string(100000, 'z'));
}

TEST(WebSocketConnection, FragmentsWithInterleavedPingMakeOneMessageAndAPong) {
  Server server;
  EXPECT_TRUE(std::holds_alternative<NeedData>(server.feed(frame(Opcode::text, "Hel", false))));
  EXPECT_TRUE(std::holds_alternative<NeedData>(server.feed(frame(Opcode::ping, "are you there"))));
  auto message = message_of(server.feed(frame(Opcode::continuation, "lo")));
  EXPECT_EQ(message.data, "Hello");
  auto pong = server.output().next();
  EXPECT_EQ(pong.opcode, Opcode::pong);
  EXPECT_EQ(pong.payload, "are you there");
}

TEST(WebSocketConnection, UnmaskedClientFrameFailsWith1002) {
  Server server;
  EXPECT_EQ(server.closed_with(frame(Opcode::text, "x", true, Role::server)), close_code::protocol_error);
}

TEST(WebSocketConnection, ProtocolErrorsFailWith1002) {
  for (std::string bytes : {frame(Opcode::continuation, "x"),                       // nothing to continue
                            frame(Opcode::text, "a", false) + frame(Opcode::text, "b"),  // new message inside one
                            frame(Opcode::ping, "x", false),                          // fragmented control
                            frame(Opcode::ping, std::string(126, 'x')),               // control over 125
                            frame(Opcode::text, "x", true, Role::client, true),       // RSV1 without deflate
                            std::string("\x83\x80\0\0\0\0", 6)}) {                     // unknown opcode
    Server server;
    EXPECT_EQ(server.closed_with(bytes), close_code::protocol_error);
  }
}

TEST(WebSocketConnection, InvalidUtf8TextFailsWith1007) {
  Server server;
  EXPECT_EQ(server.closed_with(frame(Opcode::text, "\xC0\xAF")), close_code::invalid_data);
}

TEST(WebSocketConnection, MessageOverLimitFailsWith1009) {
  Server server(Settings{Role::server, 10, std::nullopt});
  EXPECT_EQ(server.closed_with(frame(Opcode::binary, "0123456", false) + frame(Opcode::continuation, "789A")),
            close_code::too_big);
  Server one_frame(Settings{Role::server, 10, std::nullopt});
  EXPECT_EQ(one_frame.closed_with(frame(Opcode::binary, std::string(11, 'x'))), close_code::too_big);
}

TEST(WebSocketConnection, PeerCloseIsEchoedWithItsCode) {
  Server server;
  auto event = server.feed(frame(Opcode::close, close_payload(4000, "bye")));
  auto closed = std::get<Closed>(event);
  EXPECT_EQ(closed.code, 4000);
  EXPECT_EQ(closed.reason, "bye");
  EXPECT_FALSE(closed.failed);
  auto echo = server.output().next();
  EXPECT_EQ(echo.opcode, Opcode::close);
  EXPECT_EQ(echo.payload, close_payload(4000, ""));
  EXPECT_EQ(server.ws.state(), State::closed);
}

TEST(WebSocketConnection, CloseWithoutCodeReportsNoStatus) {
  Server server;
  EXPECT_EQ(std::get<Closed>(server.feed(frame(Opcode::close, ""))).code, close_code::no_status);
}

TEST(WebSocketConnection, InvalidCloseCodesFailWith1002) {
  for (std::uint16_t code : {999, 1004, 1005, 1006, 1015, 2999, 5000}) {
    Server server;
    const char payload[] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    EXPECT_EQ(server.closed_with(frame(Opcode::close, std::string_view(payload, 2))),
              close_code::protocol_error)
        << code;
  }
  Server one_byte;
  EXPECT_EQ(one_byte.closed_with(frame(Opcode::close, "\x03")), close_code::protocol_error);
}

TEST(WebSocketConnection, OurCloseWaitsForThePeersAndDropsMessagesMeanwhile) {
  Server server;
  server.ws.send_close(close_code::going_away, "restart");
  EXPECT_EQ(server.ws.state(), State::closing);
  auto ours = server.output().next();
  EXPECT_EQ(ours.payload, close_payload(1001, "restart"));
  EXPECT_TRUE(std::holds_alternative<NeedData>(server.feed(frame(Opcode::text, "late"))));
  EXPECT_EQ(std::get<Closed>(server.feed(frame(Opcode::close, close_payload(1001, "")))).code, 1001);
  EXPECT_TRUE(server.output().bytes.empty());  // no second close frame
  EXPECT_THROW(server.ws.send_message(MessageType::text, "x"), std::logic_error);
}

TEST(WebSocketConnection, SendingAnUnsendableCloseCodeThrows) {
  Server server;
  EXPECT_THROW(server.ws.send_close(1005), std::invalid_argument);
  EXPECT_THROW(server.ws.send_close(1000, std::string(124, 'x')), std::invalid_argument);
}

TEST(WebSocketConnection, EofWithoutCloseFrameIsAbnormal) {
  Server server;
  server.ws.receive_eof();
  EXPECT_EQ(std::get<Closed>(server.ws.next_event()).code, close_code::abnormal);
}

TEST(WebSocketConnection, ServerFramesAreUnmaskedAndClientFramesMasked) {
  Server server;
  server.ws.send_message(MessageType::binary, "abc");
  EXPECT_EQ(server.output().bytes, std::string("\x82\x03" "abc", 5));
  Connection client(Settings{Role::client, default_max_message, std::nullopt});
  client.send_message(MessageType::text, "abc");
  auto bytes = std::string(client.pending_output());
  ASSERT_EQ(bytes.size(), 2u + 4u + 3u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x83);
  Server reader;
  EXPECT_EQ(message_of(reader.feed(bytes)).data, "abc");
}

TEST(WebSocketConnection, LongLengthsUseExtendedHeaders) {
  Server server;
  server.ws.send_message(MessageType::binary, std::string(70000, 'y'));
  auto peer = server.output();
  EXPECT_EQ(static_cast<unsigned char>(peer.bytes[1]), 127);
  EXPECT_EQ(peer.next().payload.size(), 70000u);
}

Settings deflating(Role role) {
  return Settings{role, default_max_message, DeflateParams{}};
}

TEST(WebSocketDeflate, CompressedMessagesRoundTripBothWays) {
  Connection server(deflating(Role::server));
  Connection client(deflating(Role::client));
  const std::string text(2000, 'a');
  for (int round = 0; round < 3; ++round) {  // context kept between messages
    client.send_message(MessageType::text, text);
    auto wire = std::string(client.pending_output());
    client.consume_output(wire.size());
    EXPECT_LT(wire.size(), 100u);
    EXPECT_TRUE(static_cast<unsigned char>(wire[0]) & 0x40);  // RSV1
    server.receive_data(wire);
    EXPECT_EQ(message_of(server.next_event()).data, text);
    server.send_message(MessageType::binary, text);
    client.receive_data(server.pending_output());
    server.consume_output(server.pending_output().size());
    EXPECT_EQ(message_of(client.next_event()).data, text);
  }
}

TEST(WebSocketDeflate, InflatingPastTheLimitFailsWith1009) {
  Connection client(deflating(Role::client));
  client.send_message(MessageType::binary, std::string(100000, 'z'));
  Server server(Settings{Role::server, 1000, DeflateParams{}});
  EXPECT_EQ(server.closed_with(client.pending_output()), close_code::too_big);
}

TEST(WebSocketDeflate, GarbageCompressedPayloadFailsWith1002) {
  Server server(deflating(Role::server));
  EXPECT_EQ(server.closed_with(frame(Opcode::binary, "\xff\xff\xff\xff", true, Role::client, true)),
            close_code::protocol_error);
}

TEST(Utf8, AcceptsWellFormedAndRejectsOverlongSurrogatesAndTruncated) {
  EXPECT_TRUE(valid_utf8("plain ascii text, longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));  // κόσμε
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(valid_utf8("abc\xFF"));
}

}  // namespace
}  // namespace csgi::protocol::websocket
